/**
 * Who owns a generated Secret across the life of a platform. Under deletionPolicy Retain the
 * finalizer releases the Secrets (drops our ownerReference) so the garbage collector keeps them with
 * the PVCs; a new platform of the same name then adopts them instead of generating new passwords
 * that the retained data directories would refuse. Pure: the reconciler does the patches.
 */
import type { KubeObject } from '../kube/client.ts';
import { ANNOTATIONS, LABELS, labelValue, MANAGED_BY, type HuntMasterPlatform } from '../specs/index.ts';

/** A generated Secret of a platform with this name that no controller owns: ours to adopt. */
export function adoptable(secret: KubeObject, cr: HuntMasterPlatform): boolean {
  const labels = secret.metadata.labels ?? {};
  return (
    labels[LABELS.instance] === labelValue(cr.metadata.name) &&
    labels[LABELS.managedBy] === MANAGED_BY &&
    secret.metadata.annotations?.[ANNOTATIONS.generatedSecret] === 'true' &&
    !secret.metadata.ownerReferences?.some((r) => r.controller)
  );
}

/** The ownerReferences the Secret keeps once `cr` lets it go, or undefined when `cr` does not own it. */
export function releasedOwnerReferences(
  secret: KubeObject,
  cr: HuntMasterPlatform,
): NonNullable<KubeObject['metadata']['ownerReferences']> | undefined {
  const refs = secret.metadata.ownerReferences ?? [];
  if (!refs.some((r) => r.uid === cr.metadata.uid)) return undefined;
  return refs.filter((r) => r.uid !== cr.metadata.uid);
}
