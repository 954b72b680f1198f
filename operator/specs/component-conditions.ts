/**
 * One condition per component (PostgreSQL, Redis, object storage with its bucket, migrations, the two
 * APIs), each with the component's `ready` string and, when waiting will not fix it, a hard failure.
 */
import type { ApiKey } from './components.ts';
import type { BuildInput } from './context.ts';
import { cond, CONDITIONS, type Evaluated, type WithComponent } from './conditions.ts';
import type { JobObservation, ObservedState, WorkloadObservation } from './observe.ts';
import type { HuntMasterPlatform } from './types.ts';

/** "Job x failed (attempt 2): why; retried at t", for the condition messages. */
function jobFailure(name: string, job: JobObservation, what: string): string {
  const attempt = ` (attempt ${job.attempt ?? 1})`;
  const retry = job.retryAt ? `; retried at ${job.retryAt}` : '';
  return `Job ${name} ${what}${attempt}${job.message ? `: ${job.message}` : ''}${retry}`;
}

const running = (name: string, job: JobObservation) => `Job ${name} is running${(job.attempt ?? 1) > 1 ? ` (attempt ${job.attempt})` : ''}`;

export const missingMessage = (m: { name: string; key?: string }) =>
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

export function rolloutIncomplete(input: BuildInput, key: ApiKey, obs: WorkloadObservation | undefined): boolean {
  if (input.spec.suspend || !obs) return false;
  const desired = input.spec[key].replicas;
  return !obs.upToDate || obs.updatedReplicas < desired || obs.readyReplicas < desired || obs.replicas !== desired;
}

/** The Secret each data service reads its credentials from (generated, or the user's for external). */
export function dataSecrets(input: BuildInput) {
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
export function migratedVersion(cr: HuntMasterPlatform, input: BuildInput, observed: ObservedState): string | undefined {
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
export interface Components {
  postgres: WithComponent;
  redis: WithComponent;
  objectStorage: WithComponent;
  migrations: Evaluated;
  contentBridge: WithComponent;
  mlServer: WithComponent;
}

export const evaluatedIn = (c: Components): Evaluated[] => [
  c.postgres,
  c.redis,
  c.objectStorage,
  c.migrations,
  c.contentBridge,
  c.mlServer,
];

/** Every component's condition, from the spec and what was observed. */
export function componentConditions(cr: HuntMasterPlatform, input: BuildInput, observed: ObservedState): Components {
  const postgres = postgresCondition(input, observed);
  return {
    postgres,
    redis: redisCondition(input, observed),
    objectStorage: objectStorageCondition(input, observed),
    migrations: migrationsCondition(cr, input, observed, postgres),
    contentBridge: api(CONDITIONS.contentBridgeAvailable, input, 'contentBridge', observed.contentBridge),
    mlServer: api(CONDITIONS.mlServerAvailable, input, 'mlServer', observed.mlServer),
  };
}
