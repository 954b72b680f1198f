/** The prune phase: deletes every cached child of the platform that the desired state no longer has. */
import { isNotFound } from '../kube/errors.ts';
import { resourceFor } from '../kube/resources.ts';
import { CHILD_KINDS, type Child, type HuntMasterPlatform } from '../specs/index.ts';
import type { Phase } from './deps.ts';

/** `keepSecrets`: the generated Secrets, which are not in `desired` (their data is random) but stay. */
export async function prune(p: Phase, cr: HuntMasterPlatform, desired: Child[], keepSecrets: ReadonlySet<string>): Promise<void> {
  const namespace = cr.metadata.namespace;
  const wanted = new Set(desired.map((o) => `${o.kind}/${o.metadata.name}`));
  // Every cached child kind (the uncached monitoring kinds are left as they are).
  for (const { kind } of CHILD_KINDS) {
    if (!p.cache.has(kind)) continue;
    for (const obj of p.cache.owned(kind, namespace, cr.metadata.uid)) {
      if (wanted.has(`${kind}/${obj.metadata.name}`) || (kind === 'Secret' && keepSecrets.has(obj.metadata.name))) continue;
      await p.client.delete(resourceFor(obj.apiVersion ?? 'v1', kind), namespace, obj.metadata.name, 'Background').catch((err) => {
        if (!isNotFound(err)) throw err;
      });
      p.wrote('delete', { ...obj, kind });
      p.logger.info({ kind, name: obj.metadata.name }, 'pruned');
    }
  }
}
