/** Growing data-service volumes: what is asked of the PVCs, and what the StatefulSet keeps. */
import { describe, expect, it } from 'vitest';
import { ANNOTATIONS } from '../../../operator/specs/constants.ts';
import { keepRecordedSize, needsGrowth, planVolumeGrowth } from '../../../operator/reconcile/volumes.ts';

const statefulSet = (size: string, recorded: string | undefined) => ({
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  metadata: {
    name: 'academy-postgres',
    namespace: 'ns',
    annotations: (recorded ? { [ANNOTATIONS.storageSize]: recorded } : {}) as Record<string, string>,
  },
  spec: { volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { resources: { requests: { storage: size } } } }] },
});

/** What desiredVolumes(cr) lists for a platform named academy (one PVC per managed data service). */
const volumes = (size: string) => () => [
  { statefulSet: 'academy-postgres', persistentVolumeClaim: 'data-academy-postgres-0', size },
  { statefulSet: 'academy-redis', persistentVolumeClaim: 'data-academy-redis-0', size: '1Gi' },
];

describe('planVolumeGrowth', () => {
  it('asks nothing of the PVCs while the size on record is the size asked for', () => {
    const unused = () => {
      throw new Error('desiredVolumes is computed only when the size changed');
    };
    expect(planVolumeGrowth(statefulSet('10Gi', '10Gi'), statefulSet('10Gi', '10Gi'), unused).claims).toEqual([]);
  });

  it("asks this StatefulSet's PVC for a grown size, and keeps the immutable template as it is", () => {
    const desired = statefulSet('20Gi', '20Gi');
    const plan = planVolumeGrowth(desired, statefulSet('10Gi', '10Gi'), volumes('20Gi'));
    expect(plan.claims).toEqual([{ name: 'data-academy-postgres-0', size: '20Gi' }]);
    expect(desired.spec.volumeClaimTemplates[0]!.spec.resources.requests.storage).toBe('10Gi');
  });

  it('checks the PVC once for a StatefulSet created before the size was recorded', () => {
    expect(planVolumeGrowth(statefulSet('10Gi', '10Gi'), statefulSet('10Gi', undefined), volumes('10Gi')).claims).toHaveLength(1);
  });

  it('keeps the live template whatever size it was created with', () => {
    const desired = statefulSet('10Gi', '10Gi');
    planVolumeGrowth(desired, statefulSet('15Gi', '10Gi'), volumes('10Gi'));
    expect(desired.spec.volumeClaimTemplates[0]!.spec.resources.requests.storage).toBe('15Gi');
  });
});

describe('needsGrowth', () => {
  it('compares quantities by value, and never shrinks', () => {
    expect(needsGrowth('10Gi', '20Gi')).toBe(true);
    expect(needsGrowth('10Gi', '10240Mi')).toBe(false);
    expect(needsGrowth('20Gi', '10Gi')).toBe(false);
    expect(needsGrowth(undefined, '10Gi')).toBe(false);
    expect(needsGrowth('10G', '10Gi')).toBe(true);
  });
});

describe('keepRecordedSize', () => {
  it('puts back the size on record, or none', () => {
    const desired = statefulSet('20Gi', '20Gi');
    keepRecordedSize(desired, statefulSet('10Gi', '10Gi'));
    expect(desired.metadata.annotations[ANNOTATIONS.storageSize]).toBe('10Gi');
    const fresh = statefulSet('20Gi', '20Gi');
    keepRecordedSize(fresh, statefulSet('10Gi', undefined));
    expect(fresh.metadata.annotations).not.toHaveProperty(ANNOTATIONS.storageSize);
  });
});
