/** PodDisruptionBudgets of the APIs, when spec.<api>.podDisruptionBudget.enabled. */
import type { V1PodDisruptionBudget } from '@kubernetes/client-node';
import type { ApiKey } from './components.ts';
import type { BuildInput } from './context.ts';
import { childMeta, selectorLabels } from './labels.ts';
import type { Child } from './types.ts';

export function podDisruptionBudget(input: BuildInput, key: ApiKey): Child<V1PodDisruptionBudget> | undefined {
  const { cr, spec, names } = input;
  const pdb = spec[key].podDisruptionBudget;
  if (!pdb.enabled) return undefined;
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: childMeta(cr, names[key], key, { version: spec.version }),
    spec: {
      selector: { matchLabels: selectorLabels(cr, key) },
      ...(pdb.minAvailable !== undefined ? { minAvailable: pdb.minAvailable } : { maxUnavailable: pdb.maxUnavailable }),
      // Pods that never became ready may always be evicted, so a broken rollout cannot block a drain.
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    },
  };
}

export function podDisruptionBudgets(input: BuildInput): Child<V1PodDisruptionBudget>[] {
  return (['contentBridge', 'mlServer'] as const).flatMap((key) => podDisruptionBudget(input, key) ?? []);
}
