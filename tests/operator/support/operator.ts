/** Installs the CRD and runs the operator in-process against the test control plane. */
import { readFileSync } from 'node:fs';
import * as k8s from '@kubernetes/client-node';
import { pino } from 'pino';
import { parse } from 'yaml';
import { inject } from 'vitest';
import { KubeClient, type KubeObject } from '../../../operator/kube/client.ts';
import { isConflict } from '../../../operator/kube/errors.ts';
import { RESOURCES } from '../../../operator/kube/resources.ts';
import { startOperator, type OperatorOptions, type RunningOperator } from '../../../operator/runtime.ts';
import { REPO_ROOT } from '../../harness/paths.ts';
import { waitUntil } from '../../harness/index.ts';

export const CRD_FILE = `${REPO_ROOT}/crds/platform.huntmaster.academy_huntmasterplatforms.yaml`;

export function adminKubeConfig(): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromString(inject('kubeconfig'));
  return kc;
}

export async function installCrd(client: KubeClient): Promise<void> {
  const crd = parse(readFileSync(CRD_FILE, 'utf8')) as KubeObject;
  try {
    await client.create(crd);
  } catch (err) {
    if (!isConflict(err)) throw err;
  }
  await waitUntil(
    'CRD established',
    async () => {
      const live = await client.get<KubeObject & { status?: { conditions?: { type: string; status: string }[] } }>(
        RESOURCES.CustomResourceDefinition,
        undefined,
        crd.metadata.name,
      );
      return Boolean(live.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True'));
    },
    { timeoutMs: 30_000 },
  );
}

export interface WriteLog {
  writes: Array<{ verb: string; kind: string; name: string }>;
  reset(): void;
}

export async function runOperator(
  namespaces: string[],
  overrides: Partial<OperatorOptions> = {},
): Promise<RunningOperator & { writeLog: WriteLog }> {
  const writes: WriteLog['writes'] = [];
  const operator = await startOperator({
    kubeConfig: adminKubeConfig(),
    logger: pino({ level: process.env.TEST_LOG ?? 'silent' }),
    watchNamespaces: namespaces,
    concurrency: 2,
    leaderElection: { enabled: false, namespace: 'default', name: 'huntmaster-operator' },
    httpPort: 0,
    onWrite: (verb, kind, name) => writes.push({ verb, kind, name }),
    ...overrides,
  });
  return { ...operator, writeLog: { writes, reset: () => void writes.splice(0) } };
}

export function platform(namespace: string, name: string, spec: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'platform.huntmaster.academy/v1alpha1', kind: 'HuntMasterPlatform', metadata: { name, namespace }, spec };
}
