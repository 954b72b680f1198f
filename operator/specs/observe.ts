/**
 * What the reconciler saw, summarised for computeStatus (status.ts): the observation of each kind
 * of live child (replica counts, Job outcome, backup runs), and the ObservedState built from the
 * live children, read by kind and name, and what the reconcile itself learnt (missing Secrets,
 * errors, retries).
 */
import { COMPONENTS } from './labels.ts';
import { LABELS } from './constants.ts';
import type { PlatformNames } from './names.ts';
import type { Child, SkippedNote } from './types.ts';
import type { CronJobObject, JobObject, WorkloadObject } from './objects.ts';
import { jobAttempt } from './jobs.ts';

/** A Deployment's or StatefulSet's replica counts, as the reconciler read them. */
export interface WorkloadObservation {
  /** spec.replicas of the live object. */
  replicas: number;
  readyReplicas: number;
  availableReplicas: number;
  updatedReplicas: number;
  /** status.observedGeneration has caught up with metadata.generation. */
  upToDate: boolean;
}

export interface JobObservation {
  name: string;
  succeeded: boolean;
  failed: boolean;
  /** The Failed condition's message, if any. */
  message?: string;
  /** Which attempt the live Job is, 1 when absent (the reconciler recreates a Failed Job and counts up). */
  attempt?: number;
  /** When a Failed Job will be recreated (set by the reconciler, which owns the backoff). */
  retryAt?: string;
}

/** What the reconciler saw. An absent workload or Job is `undefined`. */
export interface ObservedState {
  contentBridge?: WorkloadObservation;
  mlServer?: WorkloadObservation;
  postgres?: WorkloadObservation;
  redis?: WorkloadObservation;
  minio?: WorkloadObservation;
  /** The bucket Job of the current bucket name. */
  bucketJob?: JobObservation;
  /** The migration Job of the current spec.version. */
  migrationJob?: JobObservation;
  /** The backup CronJob's record of its runs. */
  backups?: BackupObservation;
  /** Referenced Secret keys that do not exist (see referencedSecretKeys; leave out optional ones). */
  missingSecrets?: { name: string; key?: string }[];
  /** Errors of this reconcile (failed API calls, …). */
  errors?: string[];
  /** DesiredState.skipped, surfaced in the Ready message. */
  skipped?: SkippedNote[];
}

/** The fields the observations read: a cached object (specs/objects.ts) has them. */
interface WorkloadFields {
  metadata?: { generation?: number };
  spec?: { replicas?: number };
  status?: { readyReplicas?: number; availableReplicas?: number; updatedReplicas?: number; observedGeneration?: number };
}
interface JobFields {
  metadata?: { name?: string; annotations?: Record<string, string> };
  status?: { succeeded?: number; conditions?: Array<{ type: string; status: string; message?: string }> };
}
interface CronJobFields {
  spec?: unknown;
  status?: { lastScheduleTime?: string | Date; lastSuccessfulTime?: string | Date };
}

/** A Deployment's or a StatefulSet's replica counts. */
export function observeWorkload(w: WorkloadFields | undefined): WorkloadObservation | undefined {
  if (!w) return undefined;
  return {
    replicas: w.spec?.replicas ?? 1,
    readyReplicas: w.status?.readyReplicas ?? 0,
    availableReplicas: w.status?.availableReplicas ?? 0,
    updatedReplicas: w.status?.updatedReplicas ?? 0,
    upToDate: (w.status?.observedGeneration ?? 0) >= (w.metadata?.generation ?? 0),
  };
}

export const observeDeployment = observeWorkload;
export const observeStatefulSet = observeWorkload;

export interface BackupObservation {
  lastScheduleTime?: string;
  lastSuccessfulTime?: string;
}

export function observeCronJob(c: CronJobFields | undefined): BackupObservation | undefined {
  if (!c?.status) return undefined;
  const iso = (t: string | Date | undefined) => (t === undefined ? undefined : new Date(t).toISOString());
  const lastScheduleTime = iso(c.status.lastScheduleTime);
  const lastSuccessfulTime = iso(c.status.lastSuccessfulTime);
  return { ...(lastScheduleTime ? { lastScheduleTime } : {}), ...(lastSuccessfulTime ? { lastSuccessfulTime } : {}) };
}

export function observeJob(j: JobFields | undefined): JobObservation | undefined {
  if (!j) return undefined;
  const cond = (type: string) => j.status?.conditions?.find((c) => c.type === type && c.status === 'True');
  const failed = cond('Failed');
  return {
    name: j.metadata?.name ?? '',
    succeeded: Boolean(cond('Complete')) || (j.status?.succeeded ?? 0) > 0,
    failed: Boolean(failed),
    ...(failed?.message ? { message: failed.message } : {}),
    attempt: jobAttempt(j),
  };
}

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
