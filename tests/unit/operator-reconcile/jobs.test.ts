/** Create-only Jobs: when the reconciler creates, keeps, replaces or recreates one, and its backoff. */
import { describe, expect, it } from 'vitest';
import { JOB_RETRY, planJob, retryDelayMs } from '../../../operator/reconcile/jobs.ts';
import { desiredChildren } from '../../../operator/specs/desired.ts';
import { ANNOTATIONS } from '../../../operator/specs/constants.ts';
import type { KubeObject } from '../../../operator/kube/client.ts';
import { minimalCtx, platform } from '../operator-specs/fixtures.ts';

const T = new Date('2026-03-01T10:00:00Z');
const at = (seconds: number) => new Date(T.getTime() + seconds * 1000);
const bucketJob = (spec = {}) =>
  desiredChildren(platform(spec), minimalCtx).objects.find(
    (o) => o.kind === 'Job' && o.metadata.name.startsWith('demo-minio-bucket-'),
  ) as unknown as KubeObject;

/** The live Job as the API server would hold it: the desired one plus a status. */
function live(job: KubeObject, status: 'running' | 'complete' | 'failed', attempt?: number): KubeObject {
  const condition = { complete: 'Complete', failed: 'Failed', running: undefined }[status];
  return {
    ...job,
    metadata: {
      ...job.metadata,
      creationTimestamp: T.toISOString(),
      annotations: { ...job.metadata.annotations, ...(attempt ? { [ANNOTATIONS.attempt]: String(attempt) } : {}) },
    },
    status: condition ? { conditions: [{ type: condition, status: 'True', lastTransitionTime: T.toISOString() }] } : {},
  } as KubeObject;
}

describe('planJob', () => {
  it('creates a missing Job and keeps a running or complete one whose spec is unchanged', () => {
    const job = bucketJob();
    expect(planJob(job, undefined, T)).toEqual({ action: 'create' });
    expect(planJob(job, live(job, 'running'), T)).toEqual({ action: 'keep' });
    expect(planJob(job, live(job, 'complete'), T)).toEqual({ action: 'keep' });
    // A Job being deleted (replaced a moment ago) is left to go; its delete event brings the create.
    const going = live(bucketJob({ images: { minioClient: 'quay.io/minio/mc:old' } }), 'failed');
    expect(planJob(job, { ...going, metadata: { ...going.metadata, deletionTimestamp: T.toISOString() } }, T)).toEqual({ action: 'keep' });
  });

  it('replaces an unfinished Job whose spec changed (the crash-looping bucket Job of an older operator), but not a complete one', () => {
    const old = live(bucketJob({ images: { minioClient: 'quay.io/minio/mc:old' } }), 'running');
    expect(planJob(bucketJob(), old, T)).toMatchObject({ action: 'replace', attempt: 1 });
    expect(planJob(bucketJob(), live(bucketJob({ images: { minioClient: 'quay.io/minio/mc:old' } }), 'failed', 4), T)).toMatchObject({
      action: 'replace',
      attempt: 1,
    });
    // A Job created before the hash annotation existed counts as changed.
    const { [ANNOTATIONS.specHash]: _gone, ...unhashed } = bucketJob().metadata.annotations!;
    expect(
      planJob(bucketJob(), { ...live(bucketJob(), 'running'), metadata: { ...bucketJob().metadata, annotations: unhashed } }, T).action,
    ).toBe('replace');
    expect(planJob(bucketJob(), live(bucketJob({ images: { minioClient: 'quay.io/minio/mc:old' } }), 'complete'), T)).toEqual({
      action: 'keep',
    });
  });

  it('recreates a Failed Job after its backoff, counting the attempts', () => {
    const job = bucketJob();
    expect(planJob(job, live(job, 'failed'), at(9))).toEqual({ action: 'wait', retryAt: at(10) });
    expect(planJob(job, live(job, 'failed'), at(10))).toMatchObject({ action: 'retry', attempt: 2 });
    expect(planJob(job, live(job, 'failed', 2), at(19))).toEqual({ action: 'wait', retryAt: at(20) });
    expect(planJob(job, live(job, 'failed', 3), at(40))).toMatchObject({ action: 'retry', attempt: 4 });
  });
});

describe('retryDelayMs', () => {
  it('starts at 10 s and doubles, never beyond 5 min', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 20].map(retryDelayMs)).toEqual([10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
    expect(JOB_RETRY.maxDelayMs).toBe(300_000);
  });
});
