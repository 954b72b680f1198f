/** The replica hand-over to an autoscaler: when it happens and with which count. */
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../operator/kube/client.ts';
import { replicasHandover } from '../../../operator/reconcile/autoscaling.ts';
import { ANNOTATIONS } from '../../../operator/specs/constants.ts';

const deployment = (annotated: boolean, replicas?: number): KubeObject =>
  ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'demo-ml-server', namespace: 'hunting', ...(annotated ? { annotations: { [ANNOTATIONS.autoscaled]: 'true' } } : {}) },
    spec: replicas === undefined ? {} : { replicas },
  }) as KubeObject;
const autoscaler = {
  kind: 'HorizontalPodAutoscaler',
  metadata: { name: 'demo-ml-server' },
  spec: { minReplicas: 3, maxReplicas: 8 },
} as KubeObject;

describe('replicasHandover', () => {
  it('hands the live count over, within the bounds, when the live Deployment is not yet autoscaled', () => {
    const handover = replicasHandover(deployment(true), deployment(false, 5), autoscaler);
    expect(handover).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'demo-ml-server', namespace: 'hunting' },
      spec: { replicas: 5 },
    });
    expect((replicasHandover(deployment(true), deployment(false, 20), autoscaler) as any).spec.replicas).toBe(8);
    expect((replicasHandover(deployment(true), deployment(false, 1), autoscaler) as any).spec.replicas).toBe(3);
  });

  it('starts a resumed platform (0 replicas) or a new Deployment at the minimum, never at zero', () => {
    expect((replicasHandover(deployment(true), deployment(false, 0), autoscaler) as any).spec.replicas).toBe(3);
    expect((replicasHandover(deployment(true), undefined, autoscaler) as any).spec.replicas).toBe(3);
  });

  it('does nothing once handed over, or for a Deployment that is not autoscaled', () => {
    expect(replicasHandover(deployment(true), deployment(true, 6), autoscaler)).toBeUndefined();
    expect(replicasHandover(deployment(false, 2), deployment(false, 2), undefined)).toBeUndefined();
    expect(replicasHandover(deployment(true), deployment(false, 2), undefined)).toBeUndefined();
  });
});
