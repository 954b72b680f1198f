/**
 * What the create-only Jobs (migrations, bucket creation) carry for the reconciler. A Job's pod
 * template is immutable, so a changed Job cannot be patched: the reconciler compares the spec hash
 * recorded at creation with the desired one and replaces an unfinished Job whose spec changed, and
 * it recreates a Failed Job with backoff, counting attempts in an annotation.
 */
import type { V1Job } from '@kubernetes/client-node';
import { ANNOTATIONS } from './constants.ts';
import { shortHash } from './hash.ts';
import type { Child } from './types.ts';

/** Marks a Job create-only and records the hash of its spec (everything the Job controller runs). */
export function createOnlyJob(job: Child<V1Job>): Child<V1Job> {
  const annotations = { ...job.metadata.annotations, [ANNOTATIONS.createOnly]: 'true', [ANNOTATIONS.specHash]: shortHash(job.spec, 16) };
  return { ...job, metadata: { ...job.metadata, annotations } };
}

/** The attempt a live Job is (1 for the first; the reconciler raises it on every retry). */
export function jobAttempt(job: { metadata?: { annotations?: Record<string, string> } } | undefined): number {
  const n = Number(job?.metadata?.annotations?.[ANNOTATIONS.attempt] ?? '1');
  return Number.isInteger(n) && n >= 1 ? n : 1;
}
