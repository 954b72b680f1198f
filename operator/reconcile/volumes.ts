/**
 * Growing the data services' volumes. A StatefulSet's volumeClaimTemplates are immutable (the API
 * server refuses the update), so a larger `storage.size` is written to each existing PVC instead,
 * as CloudNativePG does; the StatefulSet keeps the size it was created with, and its
 * `huntmaster.academy/storage-size` annotation records the size last applied to the PVCs. Whether a
 * volume can grow is the StorageClass's business (`allowVolumeExpansion`): a refusal is reported,
 * not hidden, and tried again on the next reconcile. Shrinking is refused by the CRD.
 */
import type { KubeObject } from '../kube/client.ts';
import { ANNOTATIONS } from '../specs/constants.ts';
import type { DesiredVolume } from '../specs/desired.ts';
import { quantityValue } from './compare.ts';

interface ClaimTemplate {
  metadata: { name: string };
  spec: { resources: { requests: { storage: string } } };
}

/** A StatefulSet's claim templates (a KubeObject's spec is not typed by kind). */
const claimTemplates = (statefulSet: KubeObject) =>
  (statefulSet.spec as { volumeClaimTemplates?: ClaimTemplate[] } | undefined)?.volumeClaimTemplates ?? [];

export interface GrowthPlan {
  /** PVC name → the size it should request. */
  claims: Array<{ name: string; size: string }>;
}

/**
 * Makes `desired` applicable to `live`: its claim templates keep the live sizes (immutable). When the
 * size asked for (annotation) changed since it was last applied, returns this StatefulSet's PVCs from
 * `volumes` (desiredVolumes of the CR, only called then) to grow. Pure: the caller reads and patches the PVCs.
 */
export function planVolumeGrowth(desired: KubeObject, live: KubeObject, volumes: () => DesiredVolume[]): GrowthPlan {
  const liveTemplates = claimTemplates(live);
  for (const template of claimTemplates(desired)) {
    const current = liveTemplates.find((t) => t.metadata.name === template.metadata.name);
    if (current) template.spec.resources.requests.storage = current.spec.resources.requests.storage;
  }
  const asked = desired.metadata.annotations?.[ANNOTATIONS.storageSize];
  const applied = live.metadata.annotations?.[ANNOTATIONS.storageSize];
  if (asked === applied) return { claims: [] };
  return {
    claims: volumes()
      .filter((v) => v.statefulSet === desired.metadata.name)
      .map((v) => ({ name: v.persistentVolumeClaim, size: v.size })),
  };
}

/** True when a PVC requesting `current` must be patched to request `wanted`. */
export function needsGrowth(current: string | undefined, wanted: string): boolean {
  const a = current === undefined ? undefined : quantityValue(current);
  const b = quantityValue(wanted);
  return a !== undefined && b !== undefined && b > a;
}

/** Leaves the size on record as it is on `live` (the growth is not complete yet). */
export function keepRecordedSize(desired: KubeObject, live: KubeObject): void {
  const recorded = live.metadata.annotations?.[ANNOTATIONS.storageSize];
  const annotations = { ...desired.metadata.annotations };
  if (recorded === undefined) delete annotations[ANNOTATIONS.storageSize];
  else annotations[ANNOTATIONS.storageSize] = recorded;
  desired.metadata.annotations = annotations;
}
