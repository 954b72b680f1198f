/** The finalizer: added before anything is created, and what it does before it lets a platform go. */
import { isNotFound } from '../kube/errors.ts';
import { RESOURCES } from '../kube/resources.ts';
import { generatedSecretNames, type HuntMasterPlatform } from '../specs/index.ts';
import type { Phase } from './deps.ts';
import { releasedOwnerReferences } from './secret-ownership.ts';

export const FINALIZER = 'platform.huntmaster.academy/pvc-retention';

/** Adds the finalizer when missing; returns the CR as the API server now has it. */
export async function ensureFinalizer(p: Phase, cr: HuntMasterPlatform): Promise<HuntMasterPlatform> {
  if (cr.metadata.finalizers?.includes(FINALIZER)) return cr;
  const updated = await p.client.mergePatch<HuntMasterPlatform>(RESOURCES.HuntMasterPlatform, cr.metadata.namespace, cr.metadata.name, {
    metadata: { finalizers: [...(cr.metadata.finalizers ?? []), FINALIZER], resourceVersion: cr.metadata.resourceVersion },
  });
  p.wrote('patch', cr);
  return updated;
}

/**
 * The retained volumes keep the passwords their data directories were initialised with, so the
 * credentials must outlive the platform with them: the ownerReference goes before the finalizer
 * does, so the garbage collector leaves the Secrets, and a platform of the same name adopts them.
 */
async function releaseGeneratedSecrets(p: Phase, cr: HuntMasterPlatform): Promise<void> {
  const namespace = cr.metadata.namespace;
  const released: string[] = [];
  for (const name of generatedSecretNames(cr)) {
    const secret = p.cache.get('Secret', namespace, name) ?? (await p.live('Secret', namespace, name, 'v1'));
    const remaining = secret && releasedOwnerReferences(secret, cr);
    if (!remaining) continue;
    await p.client
      .mergePatch(RESOURCES.Secret, namespace, name, { metadata: { ownerReferences: remaining.length ? remaining : null } })
      .catch((err) => {
        if (!isNotFound(err)) throw err;
      });
    p.wrote('patch', { ...secret, kind: 'Secret' });
    released.push(name);
  }
  if (released.length) {
    const message = `Kept ${released.join(', ')} with the retained PVCs (deletionPolicy Retain); a platform of the same name adopts them`;
    await p.record(cr, 'Normal', 'SecretsRetained', message);
  }
}

/** Deletes the PVCs (deletionPolicy Delete) or releases the generated Secrets (Retain), then the finalizer. */
export async function finalize(p: Phase, cr: HuntMasterPlatform): Promise<void> {
  const namespace = cr.metadata.namespace;
  if (!cr.metadata.finalizers?.includes(FINALIZER)) return;
  if (cr.spec?.deletionPolicy?.persistentVolumeClaims === 'Delete') {
    const pvcs = await p.client.list(RESOURCES.PersistentVolumeClaim, namespace, {
      labelSelector: `app.kubernetes.io/instance=${cr.metadata.name},app.kubernetes.io/managed-by=huntmaster-operator`,
    });
    for (const pvc of pvcs.items) {
      await p.client.delete(RESOURCES.PersistentVolumeClaim, namespace, pvc.metadata.name).catch((err) => {
        if (!isNotFound(err)) throw err;
      });
      p.wrote('delete', { ...pvc, kind: 'PersistentVolumeClaim' });
    }
    await p.record(cr, 'Normal', 'PersistentVolumeClaimsDeleted', `Deleted ${pvcs.items.length} PVCs (deletionPolicy Delete)`);
  } else {
    await releaseGeneratedSecrets(p, cr);
  }
  await p.client.mergePatch(RESOURCES.HuntMasterPlatform, namespace, cr.metadata.name, {
    metadata: { finalizers: cr.metadata.finalizers.filter((f) => f !== FINALIZER), resourceVersion: cr.metadata.resourceVersion },
  });
  p.wrote('patch', cr);
}
