/**
 * The reconciler against a real kube-apiserver (no controller-manager, so nothing becomes Ready
 * and there is no garbage collector: ownerReferences are asserted, not deletion).
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient, type KubeObject } from '../../operator/kube/client.ts';
import { completeJob as completeJobIn } from './support/controllers.ts';
import { KubeApiError } from '../../operator/kube/errors.ts';
import { RESOURCES } from '../../operator/kube/resources.ts';
import { FINALIZER } from '../../operator/reconcile/reconciler.ts';
import { waitUntil } from '../harness/index.ts';
import { adminKubeConfig, installCrd, platform, runOperator } from './support/operator.ts';

const ns = 'reconcile-tests';
let client: KubeClient;
let operator: Awaited<ReturnType<typeof runOperator>>;
/** The operator's JSON log lines, as `kubectl logs` would show them. */
const logLines: Array<Record<string, unknown>> = [];
const logsAbout = (platform: string) =>
  logLines.filter((l) => l.platform === `${ns}/${platform}` || l.object === `HuntMasterPlatform/${ns}/${platform}`);

type Platform = KubeObject & {
  status?: {
    phase?: string;
    observedGeneration?: number;
    conditions?: Array<{ type: string; status: string; reason: string; message: string }>;
    endpoints?: { public?: Record<string, string> };
  };
};

const getPlatform = (name: string) => client.get<Platform>(RESOURCES.HuntMasterPlatform, ns, name);
const readyOf = async (name: string) => (await getPlatform(name)).status?.conditions?.find((c) => c.type === 'Ready');
const owned = async (kind: keyof typeof RESOURCES, uid: string) =>
  (await client.list(RESOURCES[kind], ns)).items.filter((o) => o.metadata.ownerReferences?.some((r) => r.uid === uid && r.controller));

/** Marks a Job succeeded, standing in for the Job controller this tier does not run. */
const completeJob = (name: string) => completeJobIn(client, ns, name);

/**
 * Marks a platform's PostgreSQL StatefulSet ready, standing in for the StatefulSet controller this
 * tier does not run: the operator creates the migration Job only once PostgresReady.
 */
async function readyPostgres(platformName: string) {
  const name = `${platformName}-postgres`;
  await waitUntil(
    `StatefulSet ${name} created`,
    async () => (await client.get(RESOURCES.StatefulSet, ns, name).catch(() => undefined)) !== undefined,
    {
      timeoutMs: 30_000,
    },
  );
  const sts = await client.get(RESOURCES.StatefulSet, ns, name);
  await client.mergePatch(
    RESOURCES.StatefulSet,
    ns,
    name,
    {
      status: {
        observedGeneration: sts.metadata.generation,
        replicas: 1,
        readyReplicas: 1,
        availableReplicas: 1,
        currentReplicas: 1,
        updatedReplicas: 1,
      },
    },
    'status',
  );
}

/** Marks a Job Failed as the Job controller does once its backoff limit is reached. */
async function failJob(name: string) {
  const now = new Date().toISOString();
  const failed = {
    status: 'True',
    reason: 'BackoffLimitExceeded',
    message: 'Job has reached the specified backoff limit',
    lastTransitionTime: now,
  };
  await client.mergePatch(
    RESOURCES.Job,
    ns,
    name,
    {
      status: {
        startTime: now,
        failed: 4,
        conditions: [
          { type: 'FailureTarget', ...failed },
          { type: 'Failed', ...failed },
        ],
      },
    },
    'status',
  );
}

beforeAll(async () => {
  client = new KubeClient(adminKubeConfig());
  await installCrd(client);
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  const capture = { write: (line: string) => void logLines.push(JSON.parse(line)) };
  operator = await runOperator([ns], { logger: pino({ level: 'info' }, capture) });
});
afterAll(() => operator?.stop());

describe('CRD validation by the API server', () => {
  it.each([
    ['negative replicas', { contentBridge: { replicas: -1 } }, /replicas/, 422],
    ['an unknown postgres mode', { postgres: { mode: 'sideways' } }, /mode/, 422],
    ['external postgres without a secretRef', { postgres: { mode: 'external' } }, /secretRef|external/, 422],
    ['managed postgres with external settings', { postgres: { mode: 'managed', external: { secretRef: { name: 'x' } } } }, /external/, 422],
    ['a bad token TTL', { auth: { accessTokenTTL: 'forever' } }, /accessTokenTTL/, 422],
    [
      'a toleration with operator Exists and a value',
      { scheduling: { tolerations: [{ key: 'pool', operator: 'Exists', value: 'data' }] } },
      /operator Exists takes no value/,
      422,
    ],
    [
      'tolerationSeconds without effect NoExecute',
      { postgres: { scheduling: { tolerations: [{ key: 'pool', tolerationSeconds: 30 }] } } },
      /tolerationSeconds applies only to effect NoExecute/,
      422,
    ],
    ['an enabled ingress without a host', { ingress: { enabled: true } }, /an enabled ingress needs at least one host/, 422],
    ['a backup schedule that is not cron', { postgres: { backup: { enabled: true, schedule: 'nightly' } } }, /schedule/, 422],
    [
      'two components on one host',
      { ingress: { enabled: true, contentBridge: { host: 'a.example.com' }, mlServer: { host: 'a.example.com' } } },
      /each component needs its own host/,
      422,
    ],
    [
      'a MinIO host with external object storage',
      {
        objectStorage: { mode: 'external', external: { endpoint: 'https://s3.example.com', secretRef: { name: 's3' } } },
        ingress: { enabled: true, objectStorage: { host: 'media.example.com' } },
      },
      /ingress.objectStorage applies only to objectStorage mode managed/,
      422,
    ],
    ['a host that is not a DNS name', { ingress: { enabled: true, mlServer: { host: 'Not A Host' } } }, /host/, 422],
    [
      'scheduling for an external postgres',
      { postgres: { mode: 'external', external: { secretRef: { name: 'x' } }, scheduling: { nodeSelector: { pool: 'data' } } } },
      /postgres.scheduling apply only to mode managed/,
      422,
    ],
    [
      'parameters for an external postgres',
      { postgres: { mode: 'external', external: { secretRef: { name: 'x' } }, parameters: { work_mem: '16MB' } } },
      /postgres.parameters apply only to mode managed/,
      422,
    ],
    ['a postgres parameter that is not a string', { postgres: { parameters: { max_connections: 200 } } }, /max_connections/, 422],
    // Strict field validation (kubectl's default) refuses unknown fields with 400 instead of dropping them.
    ['an unknown field', { surprise: true }, /unknown field "spec.surprise"/, 400],
  ])('rejects %s with a clear message', async (_name, spec, message, status) => {
    let error: unknown;
    try {
      await client.create(platform(ns, 'invalid', spec));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(KubeApiError);
    expect((error as KubeApiError).status).toBe(status);
    expect((error as KubeApiError).message).toMatch(message);
  });

  it('refuses to shrink storage (a transition rule)', async () => {
    await client.create(platform(ns, 'storage-rule', { postgres: { storage: { size: '20Gi' } } }));
    const cr = await getPlatform('storage-rule');
    const err = await client.update({ ...cr, spec: { ...(cr.spec as object), postgres: { storage: { size: '10Gi' } } } }).then(
      () => undefined,
      (e) => e,
    );
    expect(err).toBeInstanceOf(KubeApiError);
    expect((err as KubeApiError).message).toMatch(/shrink|smaller|storage/i);
    await client.delete(RESOURCES.HuntMasterPlatform, ns, 'storage-rule');
  });
});

describe('a minimal platform', () => {
  let uid: string;

  beforeAll(async () => {
    const created = await client.create(platform(ns, 'demo'));
    uid = created.metadata.uid!;
    await readyPostgres('demo');
    await waitUntil(
      'migration Job created',
      async () => (await owned('Job', uid)).some((j) => j.metadata.name.startsWith('demo-migrate-')),
      {
        timeoutMs: 30_000,
      },
    );
    const migration = (await owned('Job', uid)).find((j) => j.metadata.name.startsWith('demo-migrate-'))!;
    await completeJob(migration.metadata.name);
    await waitUntil('API Deployments created', async () => (await owned('Deployment', uid)).length === 2, { timeoutMs: 30_000 });
  });

  it('adds its finalizer and creates every child with a controller ownerReference and the standard labels', async () => {
    expect((await getPlatform('demo')).metadata.finalizers).toContain(FINALIZER);
    const statefulSets = (await owned('StatefulSet', uid)).map((s) => s.metadata.name).sort();
    expect(statefulSets).toEqual(['demo-minio', 'demo-postgres', 'demo-redis']);
    expect((await owned('Deployment', uid)).map((d) => d.metadata.name).sort()).toEqual(['demo-content-bridge', 'demo-ml-server']);
    const services = (await owned('Service', uid)).map((s) => s.metadata.name);
    expect(services).toEqual(
      expect.arrayContaining(['demo-content-bridge', 'demo-ml-server', 'demo-postgres', 'demo-redis', 'demo-minio']),
    );
    for (const kind of ['StatefulSet', 'Deployment', 'Service', 'Secret', 'Job'] as const) {
      for (const obj of await owned(kind, uid)) {
        const ref = obj.metadata.ownerReferences!.find((r) => r.controller)!;
        expect(ref).toMatchObject({ kind: 'HuntMasterPlatform', name: 'demo', uid, blockOwnerDeletion: true });
        expect(obj.metadata.labels).toMatchObject({
          'app.kubernetes.io/instance': 'demo',
          'app.kubernetes.io/part-of': 'huntmaster',
          'app.kubernetes.io/managed-by': 'huntmaster-operator',
        });
        const managers = (obj.metadata.managedFields as Array<{ manager: string }> | undefined)?.map((f) => f.manager);
        expect(managers).toContain('huntmaster-operator');
      }
    }
  });

  it('reports status through the subresource, with conditions in the metav1.Condition shape', async () => {
    await waitUntil('status written', async () => (await getPlatform('demo')).status?.observedGeneration === 1, { timeoutMs: 20_000 });
    const { status } = await getPlatform('demo');
    expect(status!.phase).toBe('Provisioning'); // nothing runs pods in this tier
    const types = status!.conditions!.map((c) => c.type);
    expect(types).toEqual(
      expect.arrayContaining([
        'Ready',
        'Progressing',
        'Degraded',
        'PostgresReady',
        'RedisReady',
        'ObjectStorageReady',
        'ContentBridgeAvailable',
        'MLServerAvailable',
      ]),
    );
    for (const c of status!.conditions!) {
      expect(c).toMatchObject({ status: expect.stringMatching(/^(True|False|Unknown)$/), reason: expect.stringMatching(/^[A-Za-z]+$/) });
      expect(c).toHaveProperty('lastTransitionTime');
    }
    expect(status!.conditions!.find((c) => c.type === 'Ready')!.status).toBe('False');
  });

  it('generates its Secrets once and never rewrites them', async () => {
    const before = Object.fromEntries((await owned('Secret', uid)).map((s) => [s.metadata.name, (s as { data?: unknown }).data]));
    expect(Object.keys(before).sort()).toEqual([
      'demo-admin',
      'demo-jwt',
      'demo-minio-credentials',
      'demo-postgres-credentials',
      'demo-redis-credentials',
      'demo-service-tokens',
    ]);
    operator.controller.queue.add(`${ns}/demo`);
    await new Promise((r) => setTimeout(r, 1500));
    const after = Object.fromEntries((await owned('Secret', uid)).map((s) => [s.metadata.name, (s as { data?: unknown }).data]));
    expect(after).toEqual(before);
  });

  it('gives the Content Bridge its first admin from <cr>-admin, and names that Secret in status', async () => {
    type Deployment = KubeObject & {
      spec: { template: { spec: { containers: Array<{ env: Array<{ name: string; valueFrom?: unknown }> }> } } };
    };
    const env = (await client.get<Deployment>(RESOURCES.Deployment, ns, 'demo-content-bridge')).spec.template.spec.containers[0]!.env;
    const ref = (name: string) => env.find((e) => e.name === name)?.valueFrom;
    expect(ref('ADMIN_EMAIL')).toEqual({ secretKeyRef: { name: 'demo-admin', key: 'email' } });
    expect(ref('ADMIN_PASSWORD')).toEqual({ secretKeyRef: { name: 'demo-admin', key: 'password' } });
    const admin = await client.get<KubeObject & { data: Record<string, string> }>(RESOURCES.Secret, ns, 'demo-admin');
    const decoded = (key: string) => Buffer.from(admin.data[key]!, 'base64').toString();
    expect(decoded('email')).toBe('admin@huntmaster.local');
    expect(decoded('password')).toMatch(/^[A-Za-z0-9]{32}$/);
    await waitUntil(
      'status.adminSecret',
      async () => ((await getPlatform('demo')).status as { adminSecret?: string })?.adminSecret === 'demo-admin',
      {
        timeoutMs: 20_000,
      },
    );
  });

  it('makes zero writes when reconciling an unchanged platform', async () => {
    await new Promise((r) => setTimeout(r, 1000)); // let the initial burst settle
    operator.writeLog.reset();
    for (let i = 0; i < 3; i++) {
      operator.controller.queue.add(`${ns}/demo`);
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(operator.writeLog.writes.filter((w) => w.kind !== 'HuntMasterPlatform' || w.verb !== 'status')).toEqual([]);
  });

  it('corrects drift: an edited Deployment is restored and a deleted one recreated', async () => {
    const deployment = await client.get<KubeObject & { spec: { replicas: number } }>(RESOURCES.Deployment, ns, 'demo-content-bridge');
    await client.mergePatch(RESOURCES.Deployment, ns, 'demo-content-bridge', { spec: { replicas: 7 } });
    await waitUntil(
      'replicas restored',
      async () =>
        (await client.get<KubeObject & { spec: { replicas: number } }>(RESOURCES.Deployment, ns, 'demo-content-bridge')).spec.replicas ===
        deployment.spec.replicas,
      { timeoutMs: 20_000 },
    );
    await client.delete(RESOURCES.Deployment, ns, 'demo-ml-server');
    await waitUntil(
      'deployment recreated',
      async () => (await owned('Deployment', uid)).some((d) => d.metadata.name === 'demo-ml-server'),
      {
        timeoutMs: 20_000,
      },
    );
  });

  it('scales on a replicas change and removes switched-off components', async () => {
    // No resourceVersion precondition: the operator may write the status at any moment (a 409 flaked CI).
    await client.mergePatch(RESOURCES.HuntMasterPlatform, ns, 'demo', {
      spec: { contentBridge: { replicas: 3 }, management: { adminer: { enabled: true } } },
    });
    await waitUntil(
      'scaled and adminer added',
      async () => {
        const d = await client.get<KubeObject & { spec: { replicas: number } }>(RESOURCES.Deployment, ns, 'demo-content-bridge');
        return d.spec.replicas === 3 && (await owned('Deployment', uid)).some((x) => x.metadata.name === 'demo-adminer');
      },
      { timeoutMs: 20_000 },
    );
    await client.mergePatch(RESOURCES.HuntMasterPlatform, ns, 'demo', { spec: { management: { adminer: { enabled: false } } } });
    await waitUntil('adminer removed', async () => !(await owned('Deployment', uid)).some((x) => x.metadata.name === 'demo-adminer'), {
      timeoutMs: 20_000,
    });
  });

  it('records Events on the platform', async () => {
    const events = await client.list(RESOURCES.Event, ns, { fieldSelector: `involvedObject.name=demo` });
    const reasons = events.items.map((e) => (e as unknown as { reason: string }).reason);
    expect(reasons).toEqual(expect.arrayContaining(['SecretGenerated', 'PhaseProvisioning']));
  });
});

describe('write discipline', () => {
  it('does not reconcile again when only the status changes', async () => {
    const reconciles = async () => {
      const text = await (await fetch(`http://127.0.0.1:${operator.port}/metrics`)).text();
      return [...text.matchAll(/^controller_runtime_reconcile_total\{[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
    };
    await new Promise((r) => setTimeout(r, 1000));
    const before = await reconciles();
    // Someone (or something) writes status only: generation does not change, so nothing is queued.
    await client.mergePatch(
      RESOURCES.HuntMasterPlatform,
      ns,
      'demo',
      { status: { endpoints: { contentBridge: 'http://elsewhere' } } },
      'status',
    );
    await new Promise((r) => setTimeout(r, 1500));
    expect(await reconciles()).toBe(before);
  });
});

describe('migrations', () => {
  it('waits for PostgresReady before creating the migration Job, and says so', async () => {
    const { metadata } = await client.create(platform(ns, 'early', { version: '1.0.0' }));
    await waitUntil(
      'MigrationsComplete=False/WaitingForPostgres',
      async () =>
        (await getPlatform('early')).status?.conditions?.some(
          (c) => c.type === 'MigrationsComplete' && c.reason === 'WaitingForPostgres',
        ) === true,
      { timeoutMs: 20_000 },
    );
    expect((await owned('Job', metadata.uid!)).map((j) => j.metadata.name)).not.toContain('early-migrate-1-0-0');
    await readyPostgres('early');
    await waitUntil(
      'migration Job created once PostgreSQL is ready',
      async () => (await owned('Job', metadata.uid!)).some((j) => j.metadata.name === 'early-migrate-1-0-0'),
      {
        timeoutMs: 20_000,
      },
    );
  });

  it('a failed migration Job shows in the conditions, blocks the API roll-out, and is recreated with backoff until it succeeds', async () => {
    const created = await client.create(platform(ns, 'migrating', { version: '1.0.0' }));
    const uid = created.metadata.uid!;
    await readyPostgres('migrating');
    await waitUntil(
      '1.0.0 migration Job',
      async () => (await owned('Job', uid)).some((j) => j.metadata.name === 'migrating-migrate-1-0-0'),
      {
        timeoutMs: 30_000,
      },
    );
    await completeJob('migrating-migrate-1-0-0');
    await waitUntil('APIs on 1.0.0', async () => (await owned('Deployment', uid)).length === 2, { timeoutMs: 30_000 });
    await client.mergePatch(RESOURCES.HuntMasterPlatform, ns, 'migrating', { spec: { version: '1.1.0' } });
    await waitUntil(
      '1.1.0 migration Job',
      async () => (await owned('Job', uid)).some((j) => j.metadata.name === 'migrating-migrate-1-1-0'),
      {
        timeoutMs: 30_000,
      },
    );
    const firstAttempt = (await client.get(RESOURCES.Job, ns, 'migrating-migrate-1-1-0')).metadata.uid;
    await failJob('migrating-migrate-1-1-0');
    await waitUntil(
      'MigrationsComplete=False',
      async () =>
        (await getPlatform('migrating')).status?.conditions?.some(
          (c) => c.type === 'MigrationsComplete' && c.status === 'False' && /backoff limit/i.test(c.message),
        ) === true,
      { timeoutMs: 20_000 },
    );
    const migrationCondition = async () =>
      (await getPlatform('migrating')).status!.conditions!.find((c) => c.type === 'MigrationsComplete')!;
    expect((await migrationCondition()).message).toMatch(
      /^Job migrating-migrate-1-1-0 failed \(attempt 1\): .*; retried at \d{4}-\d\d-\d\dT/,
    );
    const image = async (name: string) =>
      (
        await client.get<KubeObject & { spec: { template: { spec: { containers: Array<{ image: string }> } } } }>(
          RESOURCES.Deployment,
          ns,
          name,
        )
      ).spec.template.spec.containers[0]!.image;
    expect(await image('migrating-content-bridge')).toMatch(/:1\.0\.0$/);
    expect(await image('migrating-ml-server')).toMatch(/:1\.0\.0$/);
    expect((await getPlatform('migrating')).status?.phase).toBe('Degraded');

    // Not terminal: after its 10 s backoff the operator recreates the Job as attempt 2 (no kubectl delete job).
    await waitUntil(
      'attempt 2 created',
      async () => {
        const job = await client.get(RESOURCES.Job, ns, 'migrating-migrate-1-1-0').catch(() => undefined);
        return job !== undefined && job.metadata.uid !== firstAttempt && job.metadata.annotations?.['huntmaster.academy/attempt'] === '2';
      },
      { timeoutMs: 30_000 },
    );
    await waitUntil('the condition counts the attempt', async () => /is running \(attempt 2\)/.test((await migrationCondition()).message), {
      timeoutMs: 20_000,
    });
    await completeJob('migrating-migrate-1-1-0');
    await waitUntil('APIs roll to 1.1.0', async () => /:1\.1\.0$/.test(await image('migrating-content-bridge')), { timeoutMs: 30_000 });
    // The status is written at the end of the pass that applied the Deployments: wait for it.
    await waitUntil('MigrationsComplete=True', async () => (await migrationCondition()).status === 'True', { timeoutMs: 10_000 });
    expect((await migrationCondition()).status).toBe('True');

    // The log tells each transition once, however many reconciles saw the failure.
    const lines = logsAbout('migrating');
    expect(lines.filter((l) => l.condition === 'MigrationsComplete' && l.reason === 'MigrationFailed')).toHaveLength(1);
    expect(lines.filter((l) => l.event === 'JobFailed')).toHaveLength(1);
    expect(lines.filter((l) => l.event === 'JobRecreated')).toHaveLength(1);
    expect(lines.find((l) => l.condition === 'MigrationsComplete' && l.reason === 'MigrationFailed')).toMatchObject({
      level: 40,
      status: 'False',
    });
  }, 90_000);

  it('a new spec.images.contentBridge at the same version runs its migrations before the APIs take it', async () => {
    const created = await client.create(
      platform(ns, 'pinned', { version: '1.0.0', images: { contentBridge: 'registry.example/cb:1.0.0' } }),
    );
    const uid = created.metadata.uid!;
    await readyPostgres('pinned');
    const migrationJobs = async () => (await owned('Job', uid)).filter((j) => j.metadata.name.startsWith('pinned-migrate-'));
    await waitUntil('first migration Job', async () => (await migrationJobs()).length === 1, { timeoutMs: 30_000 });
    const first = (await migrationJobs())[0]!.metadata.name;
    await completeJob(first);
    const image = async () =>
      (
        await client.get<KubeObject & { spec: { template: { spec: { containers: Array<{ image: string }> } } } }>(
          RESOURCES.Deployment,
          ns,
          'pinned-content-bridge',
        )
      ).spec.template.spec.containers[0]!.image;
    await waitUntil('the Content Bridge on the pinned image', async () => (await image().catch(() => '')) === 'registry.example/cb:1.0.0', {
      timeoutMs: 30_000,
    });

    await client.mergePatch(RESOURCES.HuntMasterPlatform, ns, 'pinned', {
      spec: { images: { contentBridge: 'registry.example/cb:1.0.1' } },
    });
    await waitUntil("the new image's migration Job", async () => (await migrationJobs()).some((j) => j.metadata.name !== first), {
      timeoutMs: 30_000,
    });
    const second = (await migrationJobs()).find((j) => j.metadata.name !== first) as any;
    expect(second.spec.template.spec.containers[0].image).toBe('registry.example/cb:1.0.1');
    // Until it succeeds, the Deployment keeps the image whose migrations ran.
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await image()).toBe('registry.example/cb:1.0.0');
    await completeJob(second.metadata.name);
    await waitUntil('the Content Bridge rolls to the new image', async () => (await image()) === 'registry.example/cb:1.0.1', {
      timeoutMs: 30_000,
    });
  }, 90_000);
});

describe('create-only Jobs', () => {
  it('replaces an unfinished Job whose spec changed (the bucket Job of an older operator), keeping its name', async () => {
    const { metadata } = await client.create(platform(ns, 'bucket'));
    const bucketJob = async () =>
      (await owned('Job', metadata.uid!)).find((j) => j.metadata.name.startsWith('bucket-minio-bucket-')) as any;
    await waitUntil('bucket Job created', async () => (await bucketJob()) !== undefined, { timeoutMs: 30_000 });
    const before = await bucketJob();
    await client.mergePatch(RESOURCES.HuntMasterPlatform, ns, 'bucket', {
      spec: { images: { minioClient: 'quay.io/minio/mc:RELEASE.2025-09-01T00-00-00Z' } },
    });
    await waitUntil(
      'bucket Job replaced',
      async () => {
        const job = await bucketJob();
        return (
          job && job.metadata.uid !== before.metadata.uid && job.spec.template.spec.containers[0].image.endsWith('2025-09-01T00-00-00Z')
        );
      },
      { timeoutMs: 30_000 },
    );
    expect((await bucketJob()).metadata.name).toBe(before.metadata.name);
  });
});

describe('autoscaling', () => {
  type Scaled = KubeObject & { spec: { replicas?: number; template: { spec: { containers: Array<{ env?: Array<{ name: string }> }> } } } };
  const deployment = () => client.get<Scaled>(RESOURCES.Deployment, ns, 'scaled-content-bridge');
  const autoscaler = () => client.get<KubeObject>(RESOURCES.HorizontalPodAutoscaler, ns, 'scaled-content-bridge').catch(() => undefined);

  it('hands the replica count to the autoscaler without a dip, never fights it, and takes it back when switched off', async () => {
    const { metadata } = await client.create(platform(ns, 'scaled', { contentBridge: { replicas: 4 } }));
    await readyPostgres('scaled');
    await waitUntil(
      'migration Job created',
      async () => (await owned('Job', metadata.uid!)).some((j) => j.metadata.name.startsWith('scaled-migrate-')),
      {
        timeoutMs: 30_000,
      },
    );
    await completeJob((await owned('Job', metadata.uid!)).find((j) => j.metadata.name.startsWith('scaled-migrate-'))!.metadata.name);
    await waitUntil('4 replicas', async () => (await deployment().catch(() => undefined))?.spec.replicas === 4, { timeoutMs: 30_000 });

    await client.mergePatch(RESOURCES.HuntMasterPlatform, ns, 'scaled', {
      spec: { contentBridge: { autoscaling: { enabled: true, minReplicas: 2, maxReplicas: 6 } } },
    });
    await waitUntil('autoscaled', async () => (await deployment()).metadata.annotations?.['huntmaster.academy/autoscaled'] === 'true', {
      timeoutMs: 20_000,
    });
    expect(await autoscaler()).toBeDefined();
    // No autoscaler runs in this tier, so a count reset by the hand-over would stay visible here.
    expect((await deployment()).spec.replicas).toBe(4);

    // The autoscaler writes the scale subresource with its own field manager, as the HPA controller does.
    await client.request('PUT', `/apis/apps/v1/namespaces/${ns}/deployments/scaled-content-bridge/scale`, {
      body: {
        apiVersion: 'autoscaling/v1',
        kind: 'Scale',
        metadata: { name: 'scaled-content-bridge', namespace: ns },
        spec: { replicas: 6 },
      },
      query: { fieldManager: 'horizontal-pod-autoscaler' },
    });
    // A spec change re-applies the Deployment: the count must survive it.
    await client.mergePatch(RESOURCES.HuntMasterPlatform, ns, 'scaled', {
      spec: { contentBridge: { env: [{ name: 'LOG_LEVEL', value: 'debug' }] } },
    });
    await waitUntil(
      'Deployment re-applied',
      async () => (await deployment()).spec.template.spec.containers[0]!.env!.some((e) => e.name === 'LOG_LEVEL'),
      { timeoutMs: 20_000 },
    );
    expect((await deployment()).spec.replicas).toBe(6);

    await client.mergePatch(RESOURCES.HuntMasterPlatform, ns, 'scaled', { spec: { contentBridge: { autoscaling: { enabled: false } } } });
    await waitUntil(
      'replicas back from the spec, autoscaler pruned',
      async () => {
        const d = await deployment();
        return d.spec.replicas === 4 && d.metadata.annotations?.['huntmaster.academy/autoscaled'] === undefined && !(await autoscaler());
      },
      { timeoutMs: 20_000 },
    );
  });
});

describe('inherited metadata', () => {
  it('reaches every child and pod template of a live platform, StatefulSets included, without a refusal', async () => {
    const { metadata } = await client.create(platform(ns, 'labelled'));
    const uid = metadata.uid!;
    await waitUntil('StatefulSets created', async () => (await owned('StatefulSet', uid)).length === 3, { timeoutMs: 20_000 });
    await client.mergePatch(RESOURCES.HuntMasterPlatform, ns, 'labelled', {
      spec: { inheritedMetadata: { labels: { 'cost-centre': 'academy' }, annotations: { 'linkerd.io/inject': 'enabled' } } },
    });
    await waitUntil(
      'every StatefulSet and its pod template labelled',
      async () =>
        (await owned('StatefulSet', uid)).every(
          (o: any) =>
            o.metadata.labels['cost-centre'] === 'academy' && o.spec.template.metadata.annotations['linkerd.io/inject'] === 'enabled',
        ),
      { timeoutMs: 20_000 },
    );
    // One reconcile applies the children a few at a time: wait for the pass to reach every kind.
    const unlabelled = async () => {
      const names: string[] = [];
      for (const kind of ['Service', 'NetworkPolicy', 'ConfigMap'] as const) {
        for (const o of await owned(kind, uid))
          if (o.metadata.labels?.['cost-centre'] !== 'academy') names.push(`${kind}/${o.metadata.name}`);
      }
      return names;
    };
    await waitUntil('every Service, NetworkPolicy and ConfigMap labelled', async () => (await unlabelled()).length === 0, {
      timeoutMs: 20_000,
    });
    expect(await unlabelled()).toEqual([]);
    expect((await readyOf('labelled'))?.message ?? '').not.toMatch(/refused/);
  });
});

describe('PostgreSQL backups', () => {
  it('creates the backup CronJob the API server accepts, follows a schedule change, and removes it when switched off', async () => {
    const cronJob = () => client.get<any>(RESOURCES.CronJob, ns, 'backed-up-postgres-backup').catch(() => undefined);
    await client.create(platform(ns, 'backed-up', { postgres: { backup: { enabled: true } } }));
    await waitUntil('CronJob created', async () => (await cronJob()) !== undefined, { timeoutMs: 20_000 });
    expect((await cronJob()).spec).toMatchObject({ schedule: '0 3 * * *', timeZone: 'Etc/UTC', concurrencyPolicy: 'Forbid' });

    await client.mergePatch(RESOURCES.HuntMasterPlatform, ns, 'backed-up', { spec: { postgres: { backup: { schedule: '@hourly' } } } });
    await waitUntil('schedule applied', async () => (await cronJob())?.spec.schedule === '@hourly', { timeoutMs: 20_000 });
    await client.mergePatch(RESOURCES.HuntMasterPlatform, ns, 'backed-up', { spec: { postgres: { backup: { enabled: false } } } });
    await waitUntil('CronJob pruned', async () => (await cronJob()) === undefined, { timeoutMs: 20_000 });
  });
});

describe('ingress', () => {
  it('exposes the hosts asked for, reports their URLs in status, and goes away when switched off', async () => {
    const ingress = () => client.get<any>(RESOURCES.Ingress, ns, 'exposed-ingress').catch(() => undefined);
    await client.create(
      platform(ns, 'exposed', {
        ingress: {
          enabled: true,
          tls: { secretName: 'exposed-tls' },
          contentBridge: { host: 'academy.example.com' },
          objectStorage: { host: 'media.example.com' },
        },
      }),
    );
    await waitUntil('Ingress created', async () => (await ingress()) !== undefined, { timeoutMs: 20_000 });
    const created = await ingress();
    expect(created.spec.rules.map((r: any) => `${r.host}→${r.http.paths[0].backend.service.name}`)).toEqual([
      'academy.example.com→exposed-content-bridge',
      'media.example.com→exposed-minio',
    ]);
    expect(created.spec.tls).toEqual([{ hosts: ['academy.example.com', 'media.example.com'], secretName: 'exposed-tls' }]);
    await waitUntil('public endpoints in status', async () => (await getPlatform('exposed')).status?.endpoints?.public !== undefined, {
      timeoutMs: 20_000,
    });
    expect((await getPlatform('exposed')).status!.endpoints!.public).toEqual({
      contentBridge: 'https://academy.example.com',
      objectStorage: 'https://media.example.com',
    });

    await client.mergePatch(RESOURCES.HuntMasterPlatform, ns, 'exposed', { spec: { ingress: { enabled: false } } });
    await waitUntil('Ingress pruned', async () => (await ingress()) === undefined, { timeoutMs: 20_000 });
    await waitUntil('public endpoints gone', async () => (await getPlatform('exposed')).status?.endpoints?.public === undefined, {
      timeoutMs: 20_000,
    });
  });
});

describe('problems the schema cannot catch', () => {
  it('a missing referenced Secret gives Ready=False with a reason, and recovers once it exists', async () => {
    await client.create(
      platform(ns, 'needs-secret', { postgres: { mode: 'external', external: { secretRef: { name: 'db-credentials' } } } }),
    );
    await waitUntil(
      'Ready=False SecretMissing',
      async () => {
        const ready = (await getPlatform('needs-secret')).status?.conditions?.find((c) => c.type === 'Ready');
        return ready?.status === 'False' && /db-credentials/.test(ready.message);
      },
      { timeoutMs: 20_000 },
    );
    const degraded = (await getPlatform('needs-secret')).status!;
    expect(degraded.phase).toBe('Degraded');
    // Retried with backoff, not hot-looping: the error counter grows slowly.
    await client.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'db-credentials', namespace: ns },
      stringData: { DATABASE_URL: 'postgres://u:p@db:5432/hma' },
    });
    await waitUntil(
      'secret found',
      async () =>
        !/db-credentials/.test(
          (await getPlatform('needs-secret')).status?.conditions?.find((c) => c.type === 'Ready')?.message ?? 'db-credentials',
        ),
      { timeoutMs: 30_000 },
    );
    const uid = (await getPlatform('needs-secret')).metadata.uid!;
    expect((await owned('StatefulSet', uid)).map((s) => s.metadata.name)).not.toContain('needs-secret-postgres');
  });

  it('a scheduling the API server refuses makes the platform Degraded with its words, and recovers once fixed', async () => {
    // The CRD passes affinity through; the API server checks it only inside the StatefulSet.
    const noTerms = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } } };
    await client.create(platform(ns, 'bad-affinity', { postgres: { scheduling: { affinity: noTerms } } }));
    await waitUntil(
      'Ready=False naming the refusal',
      async () => /StatefulSet bad-affinity-postgres refused by the API server/.test((await readyOf('bad-affinity'))?.message ?? ''),
      { timeoutMs: 20_000 },
    );
    const status = (await getPlatform('bad-affinity')).status!;
    expect(status.phase).toBe('Degraded');
    expect((await readyOf('bad-affinity'))!.message).toMatch(/nodeSelectorTerms.*must have at least one node selector term/);
    // The operator's log says it too: the refusal once, however many passes retried it.
    const refusals = () => logsAbout('bad-affinity').filter((l) => l.event === 'ApplyRefused');
    await waitUntil('refusal logged', async () => refusals().length > 0, { timeoutMs: 10_000 });
    expect(refusals()).toHaveLength(1);
    expect(refusals()[0]).toMatchObject({
      level: 40,
      msg: expect.stringContaining('StatefulSet bad-affinity-postgres refused by the API server'),
    });
    // Everything else was still applied.
    const uid = (await getPlatform('bad-affinity')).metadata.uid!;
    expect((await owned('StatefulSet', uid)).map((o) => o.metadata.name).sort()).toEqual(['bad-affinity-minio', 'bad-affinity-redis']);

    const zone = { nodeSelectorTerms: [{ matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: ['a'] }] }] };
    await client.mergePatch(RESOURCES.HuntMasterPlatform, ns, 'bad-affinity', {
      spec: { postgres: { scheduling: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: zone } } } } },
    });
    await waitUntil(
      'the StatefulSet applied with the fixed affinity',
      async () => {
        const sts = await client.get<any>(RESOURCES.StatefulSet, ns, 'bad-affinity-postgres').catch(() => undefined);
        return (
          sts?.spec.template.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms?.length === 1
        );
      },
      { timeoutMs: 30_000 },
    );
    await waitUntil('the refusal is gone from Ready', async () => !/refused/.test((await readyOf('bad-affinity'))?.message ?? 'refused'), {
      timeoutMs: 20_000,
    });
  });

  it('a postgres parameter the operator owns makes Ready=False InvalidSpec naming it; fixed, the server gets the settings', async () => {
    await client.create(platform(ns, 'pg-params', { postgres: { parameters: { port: '5433', work_mem: '16MB' } } }));
    await waitUntil('Ready=False InvalidSpec', async () => (await readyOf('pg-params'))?.reason === 'InvalidSpec', { timeoutMs: 20_000 });
    expect((await readyOf('pg-params'))!.message).toMatch(/spec.postgres.parameters may not set port: the operator sets it/);
    expect(await client.get(RESOURCES.StatefulSet, ns, 'pg-params-postgres').catch(() => undefined)).toBeUndefined();

    await client.update({
      ...(await getPlatform('pg-params')),
      spec: { postgres: { parameters: { work_mem: '16MB', shared_buffers: '256MB' } } },
    });
    await waitUntil(
      'the StatefulSet applied with the settings',
      async () => {
        const sts = await client.get<any>(RESOURCES.StatefulSet, ns, 'pg-params-postgres').catch(() => undefined);
        return (
          JSON.stringify(sts?.spec.template.spec.containers[0].args) ===
          JSON.stringify(['postgres', '-c', 'shared_buffers=256MB', '-c', 'work_mem=16MB'])
        );
      },
      { timeoutMs: 30_000 },
    );
    await waitUntil('InvalidSpec gone from Ready', async () => (await readyOf('pg-params'))?.reason !== 'InvalidSpec', {
      timeoutMs: 20_000,
    });
  });

  it('an unreachable external S3 endpoint gives Ready=False naming it', async () => {
    await client.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's3-credentials', namespace: ns },
      stringData: { accessKey: 'a', secretKey: 'b' },
    });
    await client.create(
      platform(ns, 'bad-s3', {
        objectStorage: {
          mode: 'external',
          external: { endpoint: 'http://127.0.0.1:1', region: 'us-east-1', secretRef: { name: 's3-credentials' } },
        },
      }),
    );
    await waitUntil(
      'Ready=False unreachable',
      async () => /unreachable/.test((await getPlatform('bad-s3')).status?.conditions?.find((c) => c.type === 'Ready')?.message ?? ''),
      { timeoutMs: 20_000 },
    );
  });
});

describe('deletionPolicy Retain keeps the credentials with the volumes', () => {
  type Secret = KubeObject & { data: Record<string, string> };
  const generated = [
    'phoenix-admin',
    'phoenix-jwt',
    'phoenix-minio-credentials',
    'phoenix-postgres-credentials',
    'phoenix-redis-credentials',
    'phoenix-service-tokens',
  ];
  const secrets = async () => Promise.all(generated.map((name) => client.get<Secret>(RESOURCES.Secret, ns, name)));

  it('releases the generated Secrets when the platform goes, and a platform of the same name adopts them unchanged', async () => {
    const first = await client.create(platform(ns, 'phoenix'));
    await waitUntil('Secrets generated', async () => (await owned('Secret', first.metadata.uid!)).length === generated.length, {
      timeoutMs: 30_000,
    });
    const data = (await secrets()).map((s) => s.data);

    await client.delete(RESOURCES.HuntMasterPlatform, ns, 'phoenix');
    await waitUntil(
      'finalized',
      async () =>
        getPlatform('phoenix').then(
          () => false,
          (err) => err instanceof KubeApiError && err.status === 404,
        ),
      {
        timeoutMs: 30_000,
      },
    );
    // No garbage collector runs in this tier: what proves the Secrets survive one is that nothing owns them.
    for (const s of await secrets()) expect(s.metadata.ownerReferences ?? [], s.metadata.name).toEqual([]);

    const second = await client.create(platform(ns, 'phoenix'));
    await waitUntil('Secrets adopted', async () => (await owned('Secret', second.metadata.uid!)).length === generated.length, {
      timeoutMs: 30_000,
    });
    expect((await secrets()).map((s) => s.data)).toEqual(data);
    const events = await client.list(RESOURCES.Event, ns, { fieldSelector: 'involvedObject.name=phoenix' });
    const reasons = events.items.map((e) => (e as unknown as { reason: string }).reason);
    expect(reasons).toEqual(expect.arrayContaining(['SecretsRetained', 'SecretAdopted']));
  });
});

describe('operator endpoints', () => {
  it('serves controller-runtime metrics, /livez and /readyz', async () => {
    const base = `http://127.0.0.1:${operator.port}`;
    expect((await fetch(`${base}/livez`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const text = await (await fetch(`${base}/metrics`)).text();
    for (const name of [
      'controller_runtime_reconcile_total{controller="huntmasterplatform",result="success"}',
      'controller_runtime_reconcile_errors_total',
      'controller_runtime_reconcile_time_seconds_bucket',
      'controller_runtime_active_workers',
      'workqueue_depth',
      'workqueue_adds_total',
      'workqueue_queue_duration_seconds_bucket',
      'workqueue_work_duration_seconds_bucket',
      'workqueue_retries_total',
      'rest_client_requests_total{method="PATCH",code="200"}',
      `hma_platform_ready{namespace="${ns}",name="demo"} 0`,
    ]) {
      expect(text).toContain(name);
    }
  });
});
