/** CRD installation and CR construction, free of vitest so benchmarks can use them too. */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { KubeClient, KubeObject } from '../../../operator/kube/client.ts';
import { isConflict } from '../../../operator/kube/errors.ts';
import { RESOURCES } from '../../../operator/kube/resources.ts';
import { REPO_ROOT } from '../../harness/paths.ts';
import { waitUntil } from '../../harness/process.ts';

export const CRD_FILE = `${REPO_ROOT}/crds/platform.huntmaster.academy_huntmasterplatforms.yaml`;

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

export function platform(namespace: string, name: string, spec: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'platform.huntmaster.academy/v1alpha1', kind: 'HuntMasterPlatform', metadata: { name, namespace }, spec };
}
