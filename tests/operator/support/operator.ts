/** Installs the CRD and runs the operator in-process against the test control plane. */
import * as k8s from '@kubernetes/client-node';
import { pino } from 'pino';
import { inject } from 'vitest';
import { startOperator, type OperatorOptions, type RunningOperator } from '../../../operator/runtime.ts';

export function adminKubeConfig(): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromString(inject('kubeconfig'));
  return kc;
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

export { CRD_FILE, installCrd, platform } from './crd.ts';
