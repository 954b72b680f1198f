/**
 * Status as a pure function of the CR (its spec and its current status) and a summary of the live
 * children. Conditions follow metav1.Condition: lastTransitionTime only moves when status changes.
 *
 * Phases: Pending (nothing created yet), Provisioning (creating or rolling out), Ready, Degraded
 * (a hard failure, or a component lost after the platform had been ready), Suspended.
 */
import { apiEndpoint, type ApiKey } from './components.ts';
import type { ImageDefaults } from './constants.ts';
import { prepare, type BuildInput } from './context.ts';
import { SpecError } from './defaults.ts';
import { publicUrls } from './ingress.ts';
import type { JobObservation, ObservedState, WorkloadObservation } from './observe.ts';
import type { ComponentStatus, Condition, ConditionStatus, HuntMasterPlatform, Phase, PlatformStatus } from './types.ts';

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

export interface StatusOptions {
  now: Date | string;
  imageDefaults?: Partial<ImageDefaults>;
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

/** The Secret each data service reads its credentials from (generated, or the user's for external). */
function dataSecrets(input: BuildInput) {
  const { spec, names } = input;
  const os = spec.objectStorage;
  return {
    postgres: spec.postgres.mode === 'external' ? spec.postgres.external.secretRef.name : names.secrets.postgres,
    redis: spec.redis.mode === 'external' ? spec.redis.external.secretRef.name : names.secrets.redis,
    objectStorage: os.mode === 'external' ? os.external.secretRef.name : names.secrets.minio,
  };
}

function postgresCondition(input: BuildInput, observed: ObservedState): WithComponent {
  const { spec, names } = input;
  const secret = dataSecrets(input).postgres;
  return dataService(
    CONDITIONS.postgresReady,
    'PostgreSQL',
    spec.postgres.mode,
    secret,
    observed.postgres,
    names.postgres,
    spec.suspend,
    observed,
  );
}

function redisCondition(input: BuildInput, observed: ObservedState): WithComponent {
  const { spec, names } = input;
  const secret = dataSecrets(input).redis;
  return dataService(CONDITIONS.redisReady, 'Redis', spec.redis.mode, secret, observed.redis, names.redis, spec.suspend, observed);
}

/** MinIO (or the external store) and, for a managed one, the bucket its Job creates. */
function objectStorageCondition(input: BuildInput, observed: ObservedState): WithComponent {
  const { spec, names } = input;
  const os = spec.objectStorage;
  const secret = dataSecrets(input).objectStorage;
  const store = dataService(
    CONDITIONS.objectStorageReady,
    'object storage',
    os.mode,
    secret,
    observed.minio,
    names.minio,
    spec.suspend,
    observed,
  );
  if (os.mode !== 'managed' || store.condition.status !== 'True') return store;
  const job = observed.bucketJob;
  const jobName = names.bucketJob(os.bucket);
  if (job?.failed) {
    const msg = jobFailure(jobName, job, `could not create bucket ${os.bucket}`);
    return { ...store, condition: cond(CONDITIONS.objectStorageReady, false, 'BucketCreationFailed', msg), hardFailure: msg };
  }
  if (!job?.succeeded) {
    const msg = `Waiting for Job ${jobName} to create bucket ${os.bucket}`;
    return { ...store, condition: cond(CONDITIONS.objectStorageReady, false, 'BucketPending', msg) };
  }
  return store;
}

/** The version whose migrations have succeeded: this pass's Job, or what the status already records. */
function migratedVersion(cr: HuntMasterPlatform, input: BuildInput, observed: ObservedState): string | undefined {
  return observed.migrationJob?.succeeded ? input.spec.version : cr.status?.versions?.migrated;
}

function migrationsCondition(cr: HuntMasterPlatform, input: BuildInput, observed: ObservedState, postgres: WithComponent): Evaluated {
  const { spec, names } = input;
  const migrationName = names.migrationJob(spec.version, spec.images.contentBridge);
  const mj = observed.migrationJob;
  const prev = cr.status?.conditions?.find((c) => c.type === CONDITIONS.migrationsComplete);
  if (spec.suspend) {
    return {
      condition: prev
        ? { type: prev.type, status: prev.status, reason: prev.reason, message: prev.message }
        : cond(CONDITIONS.migrationsComplete, false, 'Suspended', 'Migrations do not run while suspended'),
    };
  }
  if (mj?.succeeded || (!mj && migratedVersion(cr, input, observed) === spec.version)) {
    const msg = `Migrations for version ${spec.version} are complete`;
    return { condition: cond(CONDITIONS.migrationsComplete, true, 'MigrationSucceeded', msg) };
  }
  if (mj?.failed) {
    const msg = jobFailure(migrationName, mj, 'failed');
    return { condition: cond(CONDITIONS.migrationsComplete, false, 'MigrationFailed', msg), hardFailure: msg };
  }
  if (mj) return { condition: cond(CONDITIONS.migrationsComplete, false, 'MigrationRunning', running(migrationName, mj)) };
  if (spec.postgres.mode === 'managed' && postgres.condition.status !== 'True') {
    // The reconciler creates the Job only once PostgreSQL is ready: migrations never race its start.
    const msg = `Job ${migrationName} will be created once PostgresReady is True`;
    return { condition: cond(CONDITIONS.migrationsComplete, false, 'WaitingForPostgres', msg) };
  }
  return { condition: cond(CONDITIONS.migrationsComplete, false, 'MigrationPending', `Job ${migrationName} does not exist yet`) };
}

/** Every component's condition, in the order the status lists them. */
interface Components {
  postgres: WithComponent;
  redis: WithComponent;
  objectStorage: WithComponent;
  migrations: Evaluated;
  contentBridge: WithComponent;
  mlServer: WithComponent;
}

const evaluatedIn = (c: Components): Evaluated[] => [c.postgres, c.redis, c.objectStorage, c.migrations, c.contentBridge, c.mlServer];

/** This pass's errors, the components' hard failures, and the missing Secrets no component reports. */
function hardFailuresOf(input: BuildInput, observed: ObservedState, components: Components): string[] {
  // Missing data-service Secrets are already a component's hardFailure; the others (JWT, service tokens) are added here.
  const dataSecretNames = new Set(Object.values(dataSecrets(input)));
  return [
    ...(observed.errors ?? []),
    ...evaluatedIn(components).flatMap((e) => (e.hardFailure ? [e.hardFailure] : [])),
    ...(observed.missingSecrets ?? []).filter((m) => !dataSecretNames.has(m.name)).map(missingMessage),
  ];
}

/** Degraded: a hard failure, or losing a component after the platform had been ready. */
function degradedCondition(cr: HuntMasterPlatform, input: BuildInput, observed: ObservedState, c: Components, hardFailures: string[]) {
  const prev = cr.status?.conditions?.find((x) => x.type === CONDITIONS.degraded);
  const wasServing = cr.status?.phase === 'Ready' || (prev?.status === 'True' && prev.reason === 'ComponentUnavailable');
  const serving = [c.postgres, c.redis, c.objectStorage, c.contentBridge, c.mlServer].every((e) => e.condition.status === 'True');
  if (input.spec.suspend) return cond(CONDITIONS.degraded, false, 'Suspended', 'The platform is suspended');
  if (observed.errors?.length) return cond(CONDITIONS.degraded, true, 'ReconcileError', hardFailures.join('; '));
  if (hardFailures.length) {
    const reason = evaluatedIn(c).find((e) => e.hardFailure)?.condition.reason ?? 'SecretMissing';
    return cond(CONDITIONS.degraded, true, reason, hardFailures.join('; '));
  }
  if (wasServing && !serving) {
    const down = evaluatedIn(c)
      .filter((e) => e.condition.status !== 'True' && e !== c.migrations)
      .map((e) => e.condition.type);
    return cond(CONDITIONS.degraded, true, 'ComponentUnavailable', `Unavailable after the platform was ready: ${down.join(', ')}`);
  }
  return cond(CONDITIONS.degraded, false, 'AsExpected', 'No failures');
}

function progressingCondition(input: BuildInput, observed: ObservedState, c: Components, hardFailures: string[]) {
  const notReady = evaluatedIn(c).filter((e) => e.condition.status !== 'True');
  const rolling = (['contentBridge', 'mlServer'] as const).filter((k) => rolloutIncomplete(input, k, observed[k]));
  if (input.spec.suspend) return cond(CONDITIONS.progressing, false, 'Suspended', 'The platform is suspended');
  if (hardFailures.length) return cond(CONDITIONS.progressing, false, 'Stalled', hardFailures.join('; '));
  if (notReady.length || rolling.length) {
    const waiting = [...notReady.map((e) => e.condition.type), ...rolling.map((k) => `rollout of ${input.names[k]}`)];
    return cond(CONDITIONS.progressing, true, 'RollingOut', `Waiting for ${waiting.join(', ')}`);
  }
  return cond(CONDITIONS.progressing, false, 'Complete', `Version ${input.spec.version} is rolled out`);
}

function readyCondition(input: BuildInput, observed: ObservedState, c: Components, hardFailures: string[]) {
  const notReady = evaluatedIn(c).filter((e) => e.condition.status !== 'True');
  const skipped = observed.skipped?.length ? ` (skipped: ${observed.skipped.map((s) => s.message).join('; ')})` : '';
  if (input.spec.suspend) return cond(CONDITIONS.ready, false, 'Suspended', 'The platform is suspended: every workload is scaled to zero');
  if (notReady.length === 0 && hardFailures.length === 0)
    return cond(CONDITIONS.ready, true, 'Ready', `All components are ready${skipped}`);
  const first = notReady[0]?.condition;
  const reason = hardFailures.length && !first ? 'ReconcileError' : (first?.reason ?? 'NotReady');
  const detail = [...notReady.map((e) => `${e.condition.type}: ${e.condition.message}`), ...(observed.errors ?? [])];
  return cond(CONDITIONS.ready, false, reason, `${detail.join('; ')}${skipped}`);
}

function phaseOf(input: BuildInput, observed: ObservedState, ready: ConditionInput, degraded: ConditionInput): Phase {
  const anythingObserved = Boolean(
    observed.contentBridge ||
    observed.mlServer ||
    observed.postgres ||
    observed.redis ||
    observed.minio ||
    observed.migrationJob ||
    observed.bucketJob,
  );
  if (input.spec.suspend) return 'Suspended';
  if (ready.status === 'True') return 'Ready';
  if (degraded.status === 'True') return 'Degraded';
  return anythingObserved ? 'Provisioning' : 'Pending';
}

/** The full status; never throws (an invalid spec becomes a Degraded status). */
export function computeStatus(cr: HuntMasterPlatform, observed: ObservedState, opts: StatusOptions): PlatformStatus {
  const now = timestamp(opts.now);
  const generation = cr.metadata.generation;
  const set = (c: ConditionInput) => mergeCondition(cr.status?.conditions, c, now, generation);

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
  const { spec, images } = input;
  const postgres = postgresCondition(input, observed);
  const components: Components = {
    postgres,
    redis: redisCondition(input, observed),
    objectStorage: objectStorageCondition(input, observed),
    migrations: migrationsCondition(cr, input, observed, postgres),
    contentBridge: api(CONDITIONS.contentBridgeAvailable, input, 'contentBridge', observed.contentBridge),
    mlServer: api(CONDITIONS.mlServerAvailable, input, 'mlServer', observed.mlServer),
  };
  const hardFailures = hardFailuresOf(input, observed, components);
  const ready = readyCondition(input, observed, components, hardFailures);
  const progressing = progressingCondition(input, observed, components, hardFailures);
  const degraded = degradedCondition(cr, input, observed, components, hardFailures);
  const migrated = migratedVersion(cr, input, observed);
  const os = spec.objectStorage;
  const publicEndpoints = publicUrls(input);
  return {
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    phase: phaseOf(input, observed, ready, degraded),
    conditions: [ready, progressing, degraded, ...evaluatedIn(components).map((e) => e.condition)].map(set),
    endpoints: {
      contentBridge: apiEndpoint(input, 'contentBridge'),
      mlServer: apiEndpoint(input, 'mlServer'),
      ...(Object.keys(publicEndpoints).length ? { public: publicEndpoints } : {}),
    },
    adminSecret: spec.auth.adminSecretRef?.name ?? input.names.secrets.admin,
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
      contentBridge: components.contentBridge.component,
      mlServer: components.mlServer.component,
      postgres: components.postgres.component,
      redis: components.redis.component,
      objectStorage: components.objectStorage.component,
    },
  };
}
