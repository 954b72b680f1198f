/**
 * Handing an API's replica count to its HorizontalPodAutoscaler without a dip. Server-side apply
 * removes a field once its only manager stops applying it: dropping `replicas` from the Deployment
 * would reset it to 1 until the autoscaler scaled up again. So, just before the first apply without
 * `replicas` (or just after creating the Deployment), a second field manager applies the count,
 * kept within the autoscaler's bounds, and keeps owning it until the autoscaler's writes take over.
 */
import type { KubeObject } from '../kube/client.ts';
import { ANNOTATIONS } from '../specs/constants.ts';
import { handoverReplicas } from '../specs/autoscaling.ts';

export const HANDOVER_FIELD_MANAGER = 'huntmaster-operator-replicas-handover';

type Scaled = KubeObject & { spec?: { replicas?: number; minReplicas?: number; maxReplicas?: number } };

/**
 * The apply that hands the count over, or undefined when there is nothing to hand over: the
 * Deployment is not autoscaled, or the live one already carries the autoscaled annotation.
 */
export function replicasHandover(
  desired: KubeObject,
  live: KubeObject | undefined,
  autoscaler: KubeObject | undefined,
): KubeObject | undefined {
  if (desired.kind !== 'Deployment' || desired.metadata.annotations?.[ANNOTATIONS.autoscaled] === undefined || !autoscaler)
    return undefined;
  if (live?.metadata.annotations?.[ANNOTATIONS.autoscaled] !== undefined) return undefined;
  const { minReplicas = 1, maxReplicas } = (autoscaler as Scaled).spec ?? {};
  if (maxReplicas === undefined) return undefined;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: desired.metadata.name, namespace: desired.metadata.namespace },
    spec: { replicas: handoverReplicas({ minReplicas, maxReplicas }, (live as Scaled | undefined)?.spec?.replicas) },
  } as KubeObject;
}
