/**
 * Status as a pure function of the CR (its spec and its current status) and a summary of the live
 * children. Conditions follow metav1.Condition: lastTransitionTime only moves when status changes.
 *
 * Phases: Pending (nothing created yet), Provisioning (creating or rolling out), Ready, Degraded
 * (a hard failure, or a component lost after the platform had been ready), Suspended.
 */
import type { V1CronJob, V1Deployment, V1Job, V1StatefulSet } from '@kubernetes/client-node';
import { apiEndpoint, type ApiKey } from './components.ts';
import type { ImageDefaults } from './constants.ts';
import { prepare, type BuildInput } from './context.ts';
import { SpecError } from './defaults.ts';
import { jobAttempt } from './jobs.ts';
import { publicUrls } from './ingress.ts';
import type { ComponentStatus, Condition, ConditionStatus, HuntMasterPlatform, Phase, PlatformStatus, SkippedNote } from './types.ts';

export const PHASES = ['Pending', 'Provisioning', 'Ready', 'Degraded', 'Suspended'] as const satisfies readonly Phase[];

export const CONDITIONS = {
  ready: 'Ready',
  progressing: 'Progressing',
  degraded: 'Degraded',
  postgresReady: 'PostgresReady',
  redisReady: 'RedisReady',
  objectStorageReady: 'ObjectStorageReady',
  migrationsComplete: 'MigrationsComplete',
  contentBridgeAvailable: 'ContentBridgeAvailable',
  mlServerAvailable: 'MLServerAvailable',
} as const;

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

export interface StatusOptions {
  now: Date | string;
  imageDefaults?: Partial<ImageDefaults>;
}

// ---------------------------------------------------------------------------------------------
// Observations from live objects.

export function observeDeployment(d: V1Deployment | undefined): WorkloadObservation | undefined {
  if (!d) return undefined;
  return {
    replicas: d.spec?.replicas ?? 1,
    readyReplicas: d.status?.readyReplicas ?? 0,
    availableReplicas: d.status?.availableReplicas ?? 0,
    updatedReplicas: d.status?.updatedReplicas ?? 0,
    upToDate: (d.status?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0),
  };
}

export function observeStatefulSet(s: V1StatefulSet | undefined): WorkloadObservation | undefined {
  if (!s) return undefined;
  return {
    replicas: s.spec?.replicas ?? 1,
    readyReplicas: s.status?.readyReplicas ?? 0,
    availableReplicas: s.status?.availableReplicas ?? 0,
    updatedReplicas: s.status?.updatedReplicas ?? 0,
    upToDate: (s.status?.observedGeneration ?? 0) >= (s.metadata?.generation ?? 0),
  };
}

export interface BackupObservation {
  lastScheduleTime?: string;
  lastSuccessfulTime?: string;
}

export function observeCronJob(c: V1CronJob | undefined): BackupObservation | undefined {
  if (!c?.status) return undefined;
  const iso = (t: Date | string | undefined) => (t === undefined ? undefined : new Date(t).toISOString());
  const lastScheduleTime = iso(c.status.lastScheduleTime);
  const lastSuccessfulTime = iso(c.status.lastSuccessfulTime);
  return { ...(lastScheduleTime ? { lastScheduleTime } : {}), ...(lastSuccessfulTime ? { lastSuccessfulTime } : {}) };
}

export function observeJob(j: V1Job | undefined): JobObservation | undefined {
  if (!j) return undefined;
  const cond = (type: string) => j.status?.conditions?.find((c) => c.type === type && c.status === 'True');
  const failed = cond('Failed');
  return {
    name: j.metadata?.name ?? '',
    succeeded: Boolean(cond('Complete')) || (j.status?.succeeded ?? 0) > 0,
    failed: Boolean(failed),
    ...(failed?.message ? { message: failed.message } : {}),
    attempt: jobAttempt(j as never),
  };
}

/** "Job x failed (attempt 2): why; retried at t", for the condition messages. */
function jobFailure(name: string, job: JobObservation, what: string): string {
  const attempt = ` (attempt ${job.attempt ?? 1})`;
  const retry = job.retryAt ? `; retried at ${job.retryAt}` : '';
  return `Job ${name} ${what}${attempt}${job.message ? `: ${job.message}` : ''}${retry}`;
}

const running = (name: string, job: JobObservation) => `Job ${name} is running${(job.attempt ?? 1) > 1 ? ` (attempt ${job.attempt})` : ''}`;

// ---------------------------------------------------------------------------------------------
// Conditions.

/** RFC 3339 with whole seconds, as metav1.Time serialises. */
export function timestamp(now: Date | string): string {
  return new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

type ConditionInput = Omit<Condition, 'lastTransitionTime' | 'observedGeneration'>;

/** Returns `next` with the previous lastTransitionTime when its status did not change. */
export function mergeCondition(previous: Condition[] | undefined, next: ConditionInput, now: string, generation?: number): Condition {
  const prev = previous?.find((c) => c.type === next.type);
  return {
    ...next,
    lastTransitionTime: prev && prev.status === next.status ? prev.lastTransitionTime : now,
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
  };
}

const cond = (type: string, ok: boolean, reason: string, message: string): ConditionInput => ({
  type,
  status: (ok ? 'True' : 'False') as ConditionStatus,
  reason,
  message,
});

interface Evaluated {
  condition: ConditionInput;
  /** A failure that waiting will not fix (Degraded). */
  hardFailure?: string;
}

type WithComponent = Evaluated & { component: ComponentStatus };

const missingMessage = (m: { name: string; key?: string }) =>
  m.key ? `Secret ${m.name} has no key ${m.key}` : `Secret ${m.name} not found`;

function missingIn(observed: ObservedState, secret: string): string | undefined {
  const refs = (observed.missingSecrets ?? []).filter((m) => m.name === secret);
  if (!refs.length) return undefined;
  return refs.map(missingMessage).join('; ');
}

function dataService(
  type: string,
  label: string,
  mode: 'managed' | 'external',
  secret: string,
  obs: WorkloadObservation | undefined,
  statefulSet: string,
  suspended: boolean,
  observed: ObservedState,
): WithComponent {
  const missing = missingIn(observed, secret);
  if (mode === 'external') {
    if (missing) return { condition: cond(type, false, 'SecretMissing', missing), component: { ready: 'external' }, hardFailure: missing };
    return {
      condition: cond(type, true, 'External', `Using the external ${label} from Secret ${secret}`),
      component: { ready: 'external' },
    };
  }
  const component = { ready: `${obs?.readyReplicas ?? 0}/${suspended ? 0 : 1}` };
  if (suspended) return { condition: cond(type, false, 'Suspended', `${label} is scaled to zero`), component };
  if (missing) return { condition: cond(type, false, 'SecretMissing', missing), component, hardFailure: missing };
  if (!obs) return { condition: cond(type, false, 'NotCreated', `StatefulSet ${statefulSet} does not exist yet`), component };
  if (obs.readyReplicas >= 1) return { condition: cond(type, true, 'Ready', `StatefulSet ${statefulSet} is ready`), component };
  return { condition: cond(type, false, 'NotReady', `StatefulSet ${statefulSet}: ${obs.readyReplicas}/1 ready`), component };
}

function api(type: string, input: BuildInput, key: ApiKey, obs: WorkloadObservation | undefined): WithComponent {
  const desired = input.spec.suspend ? 0 : input.spec[key].replicas;
  const name = input.names[key];
  const component = { ready: `${obs?.readyReplicas ?? 0}/${desired}` };
  if (input.spec.suspend) return { condition: cond(type, false, 'Suspended', `Deployment ${name} is scaled to zero`), component };
  if (!obs) return { condition: cond(type, false, 'NotCreated', `Deployment ${name} does not exist yet`), component };
  if (desired === 0) return { condition: cond(type, true, 'ScaledToZero', `Deployment ${name} has 0 replicas desired`), component };
  const msg = `${obs.availableReplicas}/${desired} replicas of Deployment ${name} available`;
  if (obs.availableReplicas >= desired) return { condition: cond(type, true, 'MinimumReplicasAvailable', msg), component };
  return { condition: cond(type, false, 'ReplicasUnavailable', msg), component };
}

function rolloutIncomplete(input: BuildInput, key: ApiKey, obs: WorkloadObservation | undefined): boolean {
  if (input.spec.suspend || !obs) return false;
  const desired = input.spec[key].replicas;
  return !obs.upToDate || obs.updatedReplicas < desired || obs.readyReplicas < desired || obs.replicas !== desired;
}

/** The full status; never throws (an invalid spec becomes a Degraded status). */
export function computeStatus(cr: HuntMasterPlatform, observed: ObservedState, opts: StatusOptions): PlatformStatus {
  const now = timestamp(opts.now);
  const generation = cr.metadata.generation;
  const previous = cr.status?.conditions;
  const set = (c: ConditionInput) => mergeCondition(previous, c, now, generation);

  let input: BuildInput;
  try {
    input = prepare(cr, { configHash: '', ...(opts.imageDefaults ? { imageDefaults: opts.imageDefaults } : {}) });
  } catch (err) {
    if (!(err instanceof SpecError)) throw err;
    return {
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
      phase: 'Degraded',
      conditions: [
        set(cond(CONDITIONS.ready, false, 'InvalidSpec', err.message)),
        set(cond(CONDITIONS.degraded, true, 'InvalidSpec', err.message)),
      ],
    };
  }
  const { spec, names, images } = input;
  const suspended = spec.suspend;

  const os = spec.objectStorage;
  const secrets = {
    postgres: spec.postgres.mode === 'external' ? spec.postgres.external.secretRef.name : names.secrets.postgres,
    redis: spec.redis.mode === 'external' ? spec.redis.external.secretRef.name : names.secrets.redis,
    objectStorage: os.mode === 'external' ? os.external.secretRef.name : names.secrets.minio,
  };
  const postgres = dataService(
    CONDITIONS.postgresReady,
    'PostgreSQL',
    spec.postgres.mode,
    secrets.postgres,
    observed.postgres,
    names.postgres,
    suspended,
    observed,
  );
  const redis = dataService(
    CONDITIONS.redisReady,
    'Redis',
    spec.redis.mode,
    secrets.redis,
    observed.redis,
    names.redis,
    suspended,
    observed,
  );
  let objectStorage = dataService(
    CONDITIONS.objectStorageReady,
    'object storage',
    os.mode,
    secrets.objectStorage,
    observed.minio,
    names.minio,
    suspended,
    observed,
  );
  if (os.mode === 'managed' && objectStorage.condition.status === 'True') {
    const job = observed.bucketJob;
    const jobName = names.bucketJob(os.bucket);
    if (job?.failed) {
      const msg = jobFailure(jobName, job, `could not create bucket ${os.bucket}`);
      objectStorage = {
        ...objectStorage,
        condition: cond(CONDITIONS.objectStorageReady, false, 'BucketCreationFailed', msg),
        hardFailure: msg,
      };
    } else if (!job?.succeeded) {
      objectStorage = {
        ...objectStorage,
        condition: cond(CONDITIONS.objectStorageReady, false, 'BucketPending', `Waiting for Job ${jobName} to create bucket ${os.bucket}`),
      };
    }
  }

  // Migrations.
  const migrationName = names.migrationJob(spec.version, spec.images.contentBridge);
  const mj = observed.migrationJob;
  const previouslyMigrated = cr.status?.versions?.migrated;
  const migrated = mj?.succeeded ? spec.version : previouslyMigrated;
  let migrations: Evaluated;
  const prevMigration = previous?.find((c) => c.type === CONDITIONS.migrationsComplete);
  if (suspended) {
    migrations = {
      condition: prevMigration
        ? { type: prevMigration.type, status: prevMigration.status, reason: prevMigration.reason, message: prevMigration.message }
        : cond(CONDITIONS.migrationsComplete, false, 'Suspended', 'Migrations do not run while suspended'),
    };
  } else if (mj?.succeeded || (!mj && migrated === spec.version)) {
    migrations = {
      condition: cond(CONDITIONS.migrationsComplete, true, 'MigrationSucceeded', `Migrations for version ${spec.version} are complete`),
    };
  } else if (mj?.failed) {
    const msg = jobFailure(migrationName, mj, 'failed');
    migrations = { condition: cond(CONDITIONS.migrationsComplete, false, 'MigrationFailed', msg), hardFailure: msg };
  } else if (mj) {
    migrations = { condition: cond(CONDITIONS.migrationsComplete, false, 'MigrationRunning', running(migrationName, mj)) };
  } else if (spec.postgres.mode === 'managed' && postgres.condition.status !== 'True') {
    // The reconciler creates the Job only once PostgreSQL is ready: migrations never race its start.
    const msg = `Job ${migrationName} will be created once PostgresReady is True`;
    migrations = { condition: cond(CONDITIONS.migrationsComplete, false, 'WaitingForPostgres', msg) };
  } else {
    migrations = { condition: cond(CONDITIONS.migrationsComplete, false, 'MigrationPending', `Job ${migrationName} does not exist yet`) };
  }

  const contentBridge = api(CONDITIONS.contentBridgeAvailable, input, 'contentBridge', observed.contentBridge);
  const mlServer = api(CONDITIONS.mlServerAvailable, input, 'mlServer', observed.mlServer);

  const components = [postgres, redis, objectStorage, migrations, contentBridge, mlServer];
  const serving = [postgres, redis, objectStorage, contentBridge, mlServer].every((e) => e.condition.status === 'True');
  const errors = observed.errors ?? [];
  // Missing data-service Secrets are already a component's hardFailure; the others (JWT, service tokens) are added here.
  const dataSecrets = new Set(Object.values(secrets));
  const hardFailures = [
    ...errors,
    ...components.flatMap((e) => (e.hardFailure ? [e.hardFailure] : [])),
    ...(observed.missingSecrets ?? []).filter((m) => !dataSecrets.has(m.name)).map(missingMessage),
  ];
  const allTrue = components.every((e) => e.condition.status === 'True') && hardFailures.length === 0;

  // Degraded: a hard failure, or losing a component after the platform had been ready.
  const prevDegraded = previous?.find((c) => c.type === CONDITIONS.degraded);
  const wasServing = cr.status?.phase === 'Ready' || (prevDegraded?.status === 'True' && prevDegraded.reason === 'ComponentUnavailable');
  let degraded: ConditionInput;
  if (suspended) degraded = cond(CONDITIONS.degraded, false, 'Suspended', 'The platform is suspended');
  else if (errors.length) degraded = cond(CONDITIONS.degraded, true, 'ReconcileError', hardFailures.join('; '));
  else if (hardFailures.length) {
    const reason = components.find((e) => e.hardFailure)?.condition.reason ?? 'SecretMissing';
    degraded = cond(CONDITIONS.degraded, true, reason, hardFailures.join('; '));
  } else if (wasServing && !serving) {
    const down = components.filter((e) => e.condition.status !== 'True' && e !== migrations).map((e) => e.condition.type);
    degraded = cond(CONDITIONS.degraded, true, 'ComponentUnavailable', `Unavailable after the platform was ready: ${down.join(', ')}`);
  } else degraded = cond(CONDITIONS.degraded, false, 'AsExpected', 'No failures');

  const notReady = components.filter((e) => e.condition.status !== 'True');
  const rolling = (['contentBridge', 'mlServer'] as const).filter((k) => rolloutIncomplete(input, k, observed[k]));
  let progressing: ConditionInput;
  if (suspended) progressing = cond(CONDITIONS.progressing, false, 'Suspended', 'The platform is suspended');
  else if (hardFailures.length) progressing = cond(CONDITIONS.progressing, false, 'Stalled', hardFailures.join('; '));
  else if (notReady.length || rolling.length) {
    const waiting = [...notReady.map((e) => e.condition.type), ...rolling.map((k) => `rollout of ${names[k]}`)];
    progressing = cond(CONDITIONS.progressing, true, 'RollingOut', `Waiting for ${waiting.join(', ')}`);
  } else progressing = cond(CONDITIONS.progressing, false, 'Complete', `Version ${spec.version} is rolled out`);

  const skipped = observed.skipped?.length ? ` (skipped: ${observed.skipped.map((s) => s.message).join('; ')})` : '';
  let ready: ConditionInput;
  if (suspended) ready = cond(CONDITIONS.ready, false, 'Suspended', 'The platform is suspended: every workload is scaled to zero');
  else if (allTrue) ready = cond(CONDITIONS.ready, true, 'Ready', `All components are ready${skipped}`);
  else {
    const first = notReady[0]?.condition;
    const reason = hardFailures.length && !first ? 'ReconcileError' : (first?.reason ?? 'NotReady');
    const detail = [...notReady.map((e) => `${e.condition.type}: ${e.condition.message}`), ...errors];
    ready = cond(CONDITIONS.ready, false, reason, `${detail.join('; ')}${skipped}`);
  }

  const anythingObserved = Boolean(
    observed.contentBridge ||
    observed.mlServer ||
    observed.postgres ||
    observed.redis ||
    observed.minio ||
    observed.migrationJob ||
    observed.bucketJob,
  );
  const phase: PlatformStatus['phase'] = suspended
    ? 'Suspended'
    : ready.status === 'True'
      ? 'Ready'
      : degraded.status === 'True'
        ? 'Degraded'
        : anythingObserved
          ? 'Provisioning'
          : 'Pending';

  const publicEndpoints = publicUrls(input);
  return {
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    phase,
    conditions: [ready, progressing, degraded, ...components.map((e) => e.condition)].map(set),
    endpoints: {
      contentBridge: apiEndpoint(input, 'contentBridge'),
      mlServer: apiEndpoint(input, 'mlServer'),
      ...(Object.keys(publicEndpoints).length ? { public: publicEndpoints } : {}),
    },
    adminSecret: spec.auth.adminSecretRef?.name ?? names.secrets.admin,
    ...(spec.postgres.backup.enabled ? { backup: { ...observed.backups } } : {}),
    versions: {
      platform: spec.version,
      ...(migrated ? { migrated } : {}),
      contentBridge: images.contentBridge,
      mlServer: images.mlServer,
      postgres: spec.postgres.mode === 'managed' ? images.postgres : 'external',
      redis: spec.redis.mode === 'managed' ? images.redis : 'external',
      objectStorage: os.mode === 'managed' ? images.minio : 'external',
    },
    components: {
      contentBridge: contentBridge.component,
      mlServer: mlServer.component,
      postgres: postgres.component,
      redis: redis.component,
      objectStorage: objectStorage.component,
    },
  };
}
