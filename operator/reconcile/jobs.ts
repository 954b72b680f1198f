/**
 * What to do with a create-only Job (migrations, bucket creation), decided from the desired Job and
 * the live one. Pure, so the rules are unit-tested; the reconciler does the writes.
 *
 * - absent: create it;
 * - spec changed and not succeeded: replace it now (a fixed spec must not wait behind a broken Job;
 *   a succeeded Job's work is done, so it is kept rather than run again);
 * - Failed: recreate it once its backoff has passed (10 s, doubling, at most 5 min), counting
 *   attempts in the `attempt` annotation, so a transient failure never needs `kubectl delete job`;
 * - otherwise keep it.
 */
import { ANNOTATIONS, jobAttempt } from '../specs/index.ts';
import type { KubeObject } from '../kube/client.ts';

export const JOB_RETRY = { firstDelayMs: 10_000, maxDelayMs: 300_000 } as const;

/** How long to wait before recreating a Job whose `attempt`-th run failed. */
export function retryDelayMs(attempt: number): number {
  return Math.min(JOB_RETRY.firstDelayMs * 2 ** Math.max(0, attempt - 1), JOB_RETRY.maxDelayMs);
}

type LiveJob = KubeObject & {
  status?: { completionTime?: string; conditions?: Array<{ type: string; status: string; lastTransitionTime?: string }> };
};

export type JobPlan =
  | { action: 'create' }
  | { action: 'keep' }
  | { action: 'replace'; attempt: 1; why: string }
  | { action: 'retry'; attempt: number; why: string }
  | { action: 'wait'; retryAt: Date };

const hasCondition = (job: LiveJob, type: string) => job.status?.conditions?.some((c) => c.type === type && c.status === 'True') === true;

/** When the Job failed: its Failed condition's transition, else the best time the object offers. */
function failedAt(job: LiveJob, now: Date): Date {
  const failed = job.status?.conditions?.find((c) => c.type === 'Failed' && c.status === 'True');
  const when = failed?.lastTransitionTime ?? job.status?.completionTime ?? job.metadata.creationTimestamp;
  return when ? new Date(when) : now;
}

export function planJob(desired: KubeObject, live: LiveJob | undefined, now: Date): JobPlan {
  if (!live) return { action: 'create' };
  // Being deleted (replaced a moment ago): its delete event brings the reconciler back to create it.
  if (live.metadata.deletionTimestamp) return { action: 'keep' };
  if (hasCondition(live, 'Complete') || hasCondition(live, 'SuccessCriteriaMet')) return { action: 'keep' };
  const wanted = desired.metadata.annotations?.[ANNOTATIONS.specHash];
  if (wanted !== live.metadata.annotations?.[ANNOTATIONS.specHash]) return { action: 'replace', attempt: 1, why: 'its spec changed' };
  if (!hasCondition(live, 'Failed')) return { action: 'keep' };
  const attempt = jobAttempt(live);
  const retryAt = new Date(failedAt(live, now).getTime() + retryDelayMs(attempt));
  if (retryAt > now) return { action: 'wait', retryAt };
  return { action: 'retry', attempt: attempt + 1, why: `attempt ${attempt} failed` };
}
