/**
 * What the reconciler saw, summarised for computeStatus (status.ts): built from the live children,
 * read by kind and name, and what the reconcile itself learnt (missing Secrets, errors, retries).
 */
import { COMPONENTS } from './labels.ts';
import { LABELS } from './constants.ts';
import type { PlatformNames } from './names.ts';
import type { Child, SkippedNote } from './types.ts';
import type { CronJobObject, JobObject, WorkloadObject } from './objects.ts';
import { observeCronJob, observeJob, observeWorkload, type JobObservation, type ObservedState } from './status.ts';

/** The live children of one platform, by name (the reconciler's cache). */
export interface LiveChildren {
  deployment(name: string): WorkloadObject | undefined;
  statefulSet(name: string): WorkloadObject | undefined;
  job(name: string): JobObject | undefined;
  cronJob(name: string): CronJobObject | undefined;
}

export interface ReconcileFindings {
  names: PlatformNames;
  /** The desired children: the bucket Job is found among them by its component label. */
  desired: Child[];
  /** The live migration Job, as the reconcile read it (it gates the APIs). */
  migrationJob: JobObject | undefined;
  /** Job name → when a Failed Job will be recreated. */
  retryAt: ReadonlyMap<string, Date>;
  missingSecrets: { name: string; key?: string }[];
  errors: string[];
  skipped: SkippedNote[];
}

/** The desired bucket Job, by its own component label. */
export function bucketJobOf(desired: Child[]): Child | undefined {
  return desired.find((o) => o.kind === 'Job' && o.metadata.labels[LABELS.component] === COMPONENTS.bucketInit.component);
}

function withRetry(job: JobObservation | undefined, retryAt: ReadonlyMap<string, Date>): JobObservation | undefined {
  const at = job && retryAt.get(job.name);
  return at ? { ...job, retryAt: at.toISOString().replace(/\.\d{3}Z$/, 'Z') } : job;
}

export function observeState(live: LiveChildren, f: ReconcileFindings): ObservedState {
  const { names } = f;
  const bucketJob = bucketJobOf(f.desired);
  return {
    contentBridge: observeWorkload(live.deployment(names.contentBridge)),
    mlServer: observeWorkload(live.deployment(names.mlServer)),
    postgres: observeWorkload(live.statefulSet(names.postgres)),
    redis: observeWorkload(live.statefulSet(names.redis)),
    minio: observeWorkload(live.statefulSet(names.minio)),
    migrationJob: withRetry(observeJob(f.migrationJob), f.retryAt),
    bucketJob: withRetry(observeJob(bucketJob && live.job(bucketJob.metadata.name)), f.retryAt),
    backups: observeCronJob(live.cronJob(names.postgresBackup)),
    missingSecrets: f.missingSecrets,
    errors: f.errors,
    skipped: f.skipped,
  };
}
