/** computeStatus: phases, conditions and their transitions. */
import { describe, expect, it } from 'vitest';
import {
  observeCronJob,
  observeDeployment,
  observeJob,
  observeStatefulSet,
  type ObservedState,
  type WorkloadObservation,
} from '../../../operator/specs/observe.ts';
import { computeStatus } from '../../../operator/specs/status.ts';
import type { Condition, HuntMasterPlatform, PlatformSpec, PlatformStatus } from '../../../operator/specs/types.ts';
import { externalCr, minimalCr, platform } from './fixtures.ts';

const T0 = '2026-03-01T10:00:00Z';
const T1 = '2026-03-01T10:05:00Z';
const T2 = '2026-03-01T10:10:00Z';

const ready = (replicas: number): WorkloadObservation => ({
  replicas,
  readyReplicas: replicas,
  availableReplicas: replicas,
  updatedReplicas: replicas,
  upToDate: true,
});
const healthy: ObservedState = {
  postgres: ready(1),
  redis: ready(1),
  minio: ready(1),
  bucketJob: { name: 'demo-minio-bucket-x', succeeded: true, failed: false },
  migrationJob: { name: 'demo-migrate-0-1-0', succeeded: true, failed: false },
  contentBridge: ready(2),
  mlServer: ready(2),
};

const withStatus = (cr: HuntMasterPlatform, status: PlatformStatus, spec?: PlatformSpec): HuntMasterPlatform => ({
  ...cr,
  metadata: { ...cr.metadata, generation: (cr.metadata.generation ?? 1) + (spec ? 1 : 0) },
  ...(spec ? { spec } : {}),
  status,
});
const condition = (s: PlatformStatus, type: string): Condition => {
  const c = s.conditions?.find((x) => x.type === type);
  if (!c) throw new Error(`no ${type} condition`);
  return c;
};

describe('computeStatus', () => {
  it('reports the backup CronJob runs when backups are on, and nothing about backups otherwise', () => {
    const on = platform({ postgres: { backup: { enabled: true } } });
    const backups = { lastScheduleTime: '2026-03-01T03:00:00.000Z', lastSuccessfulTime: '2026-03-01T03:01:12.000Z' };
    expect(computeStatus(on, { ...healthy, backups }, { now: T0 }).backup).toEqual(backups);
    expect(computeStatus(on, healthy, { now: T0 }).backup).toEqual({}); // not run yet
    expect(computeStatus(minimalCr, { ...healthy, backups }, { now: T0 }).backup).toBeUndefined();
    expect(
      observeCronJob({ spec: { schedule: '@daily', jobTemplate: {} }, status: { lastSuccessfulTime: new Date('2026-03-01T03:01:12Z') } }),
    ).toEqual({
      lastSuccessfulTime: '2026-03-01T03:01:12.000Z',
    });
    expect(observeCronJob(undefined)).toBeUndefined();
  });

  it('reports the in-cluster URLs, and the public ones the Ingress serves', () => {
    expect(computeStatus(minimalCr, {}, { now: T0 }).endpoints).toEqual({
      contentBridge: 'http://demo-content-bridge.hunting.svc:8090',
      mlServer: 'http://demo-ml-server.hunting.svc:8010',
    });
    const exposed = platform({ ingress: { enabled: true, tls: { secretName: 'tls' }, mlServer: { host: 'ml.example.com' } } });
    expect(computeStatus(exposed, {}, { now: T0 }).endpoints?.public).toEqual({ mlServer: 'https://ml.example.com' });
  });

  it('Pending when nothing exists yet; every condition False with a reason', () => {
    const s = computeStatus(minimalCr, {}, { now: T0 });
    expect(s.phase).toBe('Pending');
    expect(s.observedGeneration).toBe(1);
    expect(s.conditions!.map((c) => `${c.type}=${c.status}/${c.reason}`)).toMatchSnapshot();
    expect(s.components).toEqual({
      contentBridge: { ready: '0/2' },
      mlServer: { ready: '0/2' },
      postgres: { ready: '0/1' },
      redis: { ready: '0/1' },
      objectStorage: { ready: '0/1' },
    });
  });

  it('Provisioning while children come up; waiting for the bucket and the migration', () => {
    const s = computeStatus(
      minimalCr,
      { postgres: ready(1), redis: ready(1), minio: ready(1), migrationJob: { name: 'm', succeeded: false, failed: false } },
      { now: T0 },
    );
    expect(s.phase).toBe('Provisioning');
    expect(condition(s, 'ObjectStorageReady')).toMatchObject({ status: 'False', reason: 'BucketPending' });
    expect(condition(s, 'MigrationsComplete')).toMatchObject({ status: 'False', reason: 'MigrationRunning' });
    expect(condition(s, 'Progressing')).toMatchObject({ status: 'True', reason: 'RollingOut' });
    expect(condition(s, 'Degraded').status).toBe('False');
  });

  it('Ready when everything is; the full status is stable and readable', () => {
    const s = computeStatus(minimalCr, healthy, { now: T0 });
    expect(s.phase).toBe('Ready');
    expect(s).toMatchSnapshot();
  });

  it('keeps lastTransitionTime while a status is unchanged and moves it on a change', () => {
    const first = computeStatus(minimalCr, healthy, { now: T0 });
    const again = computeStatus(withStatus(minimalCr, first), healthy, { now: T1 });
    expect(again.conditions).toEqual(first.conditions);

    const down = computeStatus(withStatus(minimalCr, again), { ...healthy, redis: { ...ready(1), readyReplicas: 0 } }, { now: T2 });
    expect(condition(down, 'RedisReady')).toMatchObject({ status: 'False', lastTransitionTime: T2 });
    expect(condition(down, 'Ready')).toMatchObject({ status: 'False', lastTransitionTime: T2 });
    expect(condition(down, 'PostgresReady')).toMatchObject({ status: 'True', lastTransitionTime: T0 });
  });

  it('Degraded (not Provisioning) when a component is lost after Ready, until it recovers', () => {
    const readyStatus = computeStatus(minimalCr, healthy, { now: T0 });
    const lost: ObservedState = { ...healthy, contentBridge: { ...ready(2), availableReplicas: 0, readyReplicas: 0 } };
    const degraded = computeStatus(withStatus(minimalCr, readyStatus), lost, { now: T1 });
    expect(degraded.phase).toBe('Degraded');
    expect(condition(degraded, 'Degraded')).toMatchObject({ status: 'True', reason: 'ComponentUnavailable' });
    expect(condition(degraded, 'Degraded').message).toContain('ContentBridgeAvailable');

    const still = computeStatus(withStatus(minimalCr, degraded), lost, { now: T2 });
    expect(still.phase).toBe('Degraded');
    expect(condition(still, 'Degraded').lastTransitionTime).toBe(T1);

    const recovered = computeStatus(withStatus(minimalCr, still), healthy, { now: T2 });
    expect(recovered.phase).toBe('Ready');
    expect(condition(recovered, 'Degraded').status).toBe('False');
  });

  it('an upgrade is Provisioning, not Degraded: the new migration runs while the old pods serve', () => {
    const v1 = computeStatus(minimalCr, healthy, { now: T0 });
    expect(v1.versions?.migrated).toBe('0.1.0');
    const upgrading = withStatus(minimalCr, v1, { version: '0.2.0' });
    const s = computeStatus(
      upgrading,
      { ...healthy, migrationJob: { name: 'demo-migrate-0-2-0', succeeded: false, failed: false } },
      { now: T1 },
    );
    expect(s.phase).toBe('Provisioning');
    expect(condition(s, 'Degraded').status).toBe('False');
    expect(condition(s, 'MigrationsComplete')).toMatchObject({ status: 'False', reason: 'MigrationRunning' });
    expect(s.versions).toMatchObject({ platform: '0.2.0', migrated: '0.1.0' });
    expect(s.observedGeneration).toBe(2);
  });

  it('a failed migration is Degraded with the Job message and stops Progressing', () => {
    const s = computeStatus(
      minimalCr,
      { ...healthy, migrationJob: { name: 'demo-migrate-0-1-0', succeeded: false, failed: true, message: 'BackoffLimitExceeded' } },
      { now: T0 },
    );
    expect(s.phase).toBe('Degraded');
    expect(condition(s, 'Degraded')).toMatchObject({ status: 'True', reason: 'MigrationFailed' });
    expect(condition(s, 'Degraded').message).toContain('BackoffLimitExceeded');
    expect(condition(s, 'Progressing')).toMatchObject({ status: 'False', reason: 'Stalled' });
  });

  it('a failed migration that will be retried says which attempt failed and when the next one starts', () => {
    const failed = { name: 'demo-migrate-0-1-0', succeeded: false, failed: true, message: 'BackoffLimitExceeded', attempt: 2 };
    const s = computeStatus(minimalCr, { ...healthy, migrationJob: { ...failed, retryAt: '2026-03-01T12:00:40Z' } }, { now: T0 });
    expect(condition(s, 'MigrationsComplete')).toMatchObject({
      status: 'False',
      reason: 'MigrationFailed',
      message: 'Job demo-migrate-0-1-0 failed (attempt 2): BackoffLimitExceeded; retried at 2026-03-01T12:00:40Z',
    });
    const rerun = computeStatus(minimalCr, { ...healthy, migrationJob: { ...failed, failed: false, attempt: 3 } }, { now: T0 });
    expect(condition(rerun, 'MigrationsComplete')).toMatchObject({
      reason: 'MigrationRunning',
      message: 'Job demo-migrate-0-1-0 is running (attempt 3)',
    });
  });

  it('migrations wait for the managed PostgreSQL to be ready, and say so', () => {
    const { migrationJob: _none, ...noJob } = healthy;
    const s = computeStatus(minimalCr, { ...noJob, postgres: { ...ready(1), readyReplicas: 0 } }, { now: T0 });
    expect(condition(s, 'MigrationsComplete')).toMatchObject({ status: 'False', reason: 'WaitingForPostgres' });
    expect(condition(s, 'MigrationsComplete').message).toContain('PostgresReady');
    expect(condition(computeStatus(minimalCr, noJob, { now: T0 }), 'MigrationsComplete').reason).toBe('MigrationPending');
  });

  it("names the Secret holding the first admin, generated or the user's", () => {
    expect(computeStatus(minimalCr, healthy, { now: T0 }).adminSecret).toBe('demo-admin');
    expect(computeStatus(platform({ auth: { adminSecretRef: { name: 'mine' } } }), healthy, { now: T0 }).adminSecret).toBe('mine');
  });

  it('remembers a completed migration after its Job was pruned', () => {
    const first = computeStatus(minimalCr, healthy, { now: T0 });
    const { migrationJob: _gone, ...withoutJob } = healthy;
    const s = computeStatus(withStatus(minimalCr, first), withoutJob, { now: T1 });
    expect(condition(s, 'MigrationsComplete').status).toBe('True');
    expect(s.phase).toBe('Ready');
  });

  it('missing user Secrets make an external platform Degraded, naming the Secret and key', () => {
    const observed: ObservedState = {
      contentBridge: ready(2),
      mlServer: ready(2),
      migrationJob: { name: 'academy-migrate-0-1-0', succeeded: true, failed: false },
      missingSecrets: [{ name: 'academy-db', key: 'DATABASE_URL' }, { name: 'academy-jwt' }],
    };
    const s = computeStatus(externalCr, observed, { now: T0 });
    expect(s.phase).toBe('Degraded');
    expect(condition(s, 'PostgresReady')).toMatchObject({
      status: 'False',
      reason: 'SecretMissing',
      message: 'Secret academy-db has no key DATABASE_URL',
    });
    expect(condition(s, 'RedisReady')).toMatchObject({ status: 'True', reason: 'External' });
    expect(condition(s, 'Degraded').message).toContain('Secret academy-jwt not found');
    expect(s.components?.postgres).toEqual({ ready: 'external' });
    expect(s.versions?.postgres).toBe('external');
  });

  it('Suspended when spec.suspend, keeping the migration condition as it was', () => {
    const readyStatus = computeStatus(minimalCr, healthy, { now: T0 });
    const suspended = withStatus(minimalCr, readyStatus, { suspend: true });
    const s = computeStatus(suspended, { postgres: { ...ready(0) }, contentBridge: ready(0) }, { now: T1 });
    expect(s.phase).toBe('Suspended');
    expect(condition(s, 'Ready')).toMatchObject({ status: 'False', reason: 'Suspended' });
    expect(condition(s, 'Degraded').status).toBe('False');
    expect(condition(s, 'MigrationsComplete')).toMatchObject({ status: 'True', lastTransitionTime: T0 });
    expect(s.components?.contentBridge).toEqual({ ready: '0/0' });
  });

  it('reconcile errors make it Degraded; skipped objects are mentioned in the Ready message', () => {
    const err = computeStatus(minimalCr, { ...healthy, errors: ['deployments.apps "demo-ml-server" is forbidden'] }, { now: T0 });
    expect(err.phase).toBe('Degraded');
    expect(condition(err, 'Degraded')).toMatchObject({ reason: 'ReconcileError' });
    const note = {
      kind: 'ServiceMonitor',
      reason: 'CRDMissing',
      message: 'ServiceMonitor skipped because monitoring.coreos.com CRDs are missing',
    };
    const ok = computeStatus(minimalCr, { ...healthy, skipped: [note] }, { now: T0 });
    expect(condition(ok, 'Ready').status).toBe('True');
    expect(condition(ok, 'Ready').message).toContain(note.message);
  });

  it('an invalid spec yields a Degraded status instead of throwing', () => {
    const s = computeStatus(platform({ redis: { mode: 'external' } }), {}, { now: T0 });
    expect(s.phase).toBe('Degraded');
    expect(condition(s, 'Ready')).toMatchObject({ status: 'False', reason: 'InvalidSpec' });
  });

  it('a rollout in progress keeps Progressing True while the API stays available', () => {
    const rolling = computeStatus(minimalCr, { ...healthy, contentBridge: { ...ready(2), updatedReplicas: 1, replicas: 2 } }, { now: T0 });
    expect(rolling.phase).toBe('Ready');
    expect(condition(rolling, 'Progressing')).toMatchObject({ status: 'True' });
    expect(condition(rolling, 'Progressing').message).toContain('rollout of demo-content-bridge');
  });
});

describe('observations from live objects', () => {
  it('read replica counts and generation from Deployments and StatefulSets', () => {
    expect(observeDeployment(undefined)).toBeUndefined();
    expect(
      observeDeployment({
        metadata: { generation: 3 },
        spec: { replicas: 2 } as any,
        status: { observedGeneration: 2, readyReplicas: 1, availableReplicas: 1 },
      }),
    ).toEqual({ replicas: 2, readyReplicas: 1, availableReplicas: 1, updatedReplicas: 0, upToDate: false });
    expect(
      observeStatefulSet({
        metadata: { generation: 1 },
        spec: { replicas: 1 } as any,
        status: { observedGeneration: 1, readyReplicas: 1 } as any,
      }),
    ).toMatchObject({
      readyReplicas: 1,
      upToDate: true,
    });
  });

  it('read Complete and Failed conditions from Jobs', () => {
    const now = new Date(T0);
    expect(
      observeJob({
        metadata: { name: 'j' },
        status: { conditions: [{ type: 'Complete', status: 'True', lastTransitionTime: now }] } as any,
      }),
    ).toEqual({
      name: 'j',
      succeeded: true,
      failed: false,
      attempt: 1,
    });
    expect(
      observeJob({
        metadata: { name: 'j', annotations: { 'huntmaster.academy/attempt': '3' } },
        status: { conditions: [{ type: 'Failed', status: 'True', message: 'DeadlineExceeded', lastTransitionTime: now }] } as any,
      }),
    ).toEqual({ name: 'j', succeeded: false, failed: true, message: 'DeadlineExceeded', attempt: 3 });
  });
});
