/**
 * HorizontalPodAutoscalers of the APIs, when spec.<api>.autoscaling.enabled. While one exists the
 * Deployment is built without `replicas` (the autoscaler owns the count) and is annotated, so the
 * reconciler knows when to hand the count over. Suspend removes the autoscaler: it cannot hold zero.
 */
import type { V2HorizontalPodAutoscaler, V2MetricSpec } from '@kubernetes/client-node';
import { isAutoscaled, type ApiKey } from './components.ts';
import type { BuildInput } from './context.ts';
import { childMeta } from './labels.ts';
import type { Child, ResolvedAutoscaling } from './types.ts';

const utilization = (name: 'cpu' | 'memory', percent: number): V2MetricSpec => ({
  type: 'Resource',
  resource: { name, target: { type: 'Utilization', averageUtilization: percent } },
});

export function horizontalPodAutoscaler(input: BuildInput, key: ApiKey): Child<V2HorizontalPodAutoscaler> | undefined {
  if (!isAutoscaled(input, key)) return undefined;
  const { cr, spec, names } = input;
  const a = spec[key].autoscaling;
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: childMeta(cr, names[key], key, { version: spec.version }),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: names[key] },
      minReplicas: a.minReplicas,
      maxReplicas: a.maxReplicas,
      metrics: [
        utilization('cpu', a.targetCPUUtilizationPercentage),
        ...(a.targetMemoryUtilizationPercentage !== undefined ? [utilization('memory', a.targetMemoryUtilizationPercentage)] : []),
      ],
    },
  };
}

export function horizontalPodAutoscalers(input: BuildInput): Child<V2HorizontalPodAutoscaler>[] {
  return (['contentBridge', 'mlServer'] as const).flatMap((key) => horizontalPodAutoscaler(input, key) ?? []);
}

/**
 * The replica count an autoscaler takes over with: the current one kept within its bounds. Never
 * zero: an autoscaler leaves a Deployment at zero replicas alone, so a resumed platform would stay down.
 */
export function handoverReplicas(bounds: Pick<ResolvedAutoscaling, 'minReplicas' | 'maxReplicas'>, current: number | undefined): number {
  return Math.min(bounds.maxReplicas, Math.max(bounds.minReplicas, current ?? bounds.minReplicas));
}
