/**
 * The operator on a whole (fake-node) cluster: controller-manager, scheduler and kwok make pods
 * Ready and collect garbage, so the platform can really become Ready and really be deleted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { KubeClient, type KubeObject } from '../../operator/kube/client.ts';
import { isNotFound } from '../../operator/kube/errors.ts';
import { RESOURCES } from '../../operator/kube/resources.ts';
import { fakeNode, freePort, waitUntil } from '../harness/index.ts';
import { REPO_ROOT } from '../harness/paths.ts';
import { adminKubeConfig, installCrd, platform, runOperator } from '../operator/support/operator.ts';

const ns = 'e2e-platform';
let client: KubeClient;

type Platform = KubeObject & { status?: { phase?: string; conditions?: Array<{ type: string; status: string; message: string }> } };
const getPlatform = (name: string) => client.get<Platform>(RESOURCES.HuntMasterPlatform, ns, name);
const readyCondition = async (name: string) => (await getPlatform(name)).status?.conditions?.find((c) => c.type === 'Ready');

/** No storage provisioner runs here: static PVs let the StatefulSets' claims bind. */
async function createVolumes(count: number, prefix: string) {
  for (let i = 0; i < count; i++) {
    await client.create({
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: `${prefix}-${i}` },
      spec: {
        capacity: { storage: '100Gi' },
        accessModes: ['ReadWriteOnce'],
        hostPath: { path: `/tmp/${prefix}-${i}` },
        persistentVolumeReclaimPolicy: 'Retain',
      },
    } as KubeObject);
  }
}

async function pvcsOf(name: string) {
  return (await client.list(RESOURCES.PersistentVolumeClaim, ns, { labelSelector: `app.kubernetes.io/instance=${name}` })).items;
}

async function waitReady(name: string, timeoutMs = 120_000) {
  await waitUntil(`${name} Ready=True`, async () => (await readyCondition(name))?.status === 'True', { timeoutMs });
}

beforeAll(async () => {
  client = new KubeClient(adminKubeConfig());
  await installCrd(client);
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  await createVolumes(12, 'e2e-pv');
});

describe('with the operator running', () => {
  let operator: Awaited<ReturnType<typeof runOperator>>;
  beforeAll(async () => {
    operator = await runOperator([ns]);
  });
  afterAll(() => operator?.stop());

  it('brings a platform to Ready=True once every workload is Available on kwok nodes', async () => {
    await client.create(platform(ns, 'alpha', { contentBridge: { replicas: 2 }, mlServer: { replicas: 1 } }));
    await waitReady('alpha');
    const cr = await getPlatform('alpha');
    expect(cr.status!.phase).toBe('Ready');
    for (const type of ['PostgresReady', 'RedisReady', 'ObjectStorageReady', 'ContentBridgeAvailable', 'MLServerAvailable']) {
      expect(cr.status!.conditions!.find((c) => c.type === type)?.status, type).toBe('True');
    }
    const pods = await client.list(RESOURCES.Pod, ns, {
      labelSelector: 'app.kubernetes.io/instance=alpha,app.kubernetes.io/name=content-bridge',
    });
    expect(pods.items.filter((p) => (p as { status?: { phase?: string } }).status?.phase === 'Running')).toHaveLength(2);
    const metrics = await (await fetch(`http://127.0.0.1:${operator.port}/metrics`)).text();
    expect(metrics).toContain(`hma_platform_ready{namespace="${ns}",name="alpha"} 1`);
  });

  it('scales the Deployment when replicas change', async () => {
    await client.mergePatch(RESOURCES.HuntMasterPlatform, ns, 'alpha', { spec: { contentBridge: { replicas: 3 } } });
    await waitUntil(
      'three ready replicas',
      async () => {
        const d = await client.get<KubeObject & { status?: { readyReplicas?: number } }>(RESOURCES.Deployment, ns, 'alpha-content-bridge');
        return d.status?.readyReplicas === 3;
      },
      { timeoutMs: 60_000 },
    );
    await waitReady('alpha');
  });

  it('rolls the API pods when a referenced secret rotates', async () => {
    await client.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'beta-jwt', namespace: ns },
      stringData: { key: 'a'.repeat(48) },
    });
    await client.create(
      platform(ns, 'beta', {
        auth: { jwtSecretRef: { name: 'beta-jwt', key: 'key' } },
        contentBridge: { replicas: 1 },
        mlServer: { replicas: 1 },
      }),
    );
    await waitReady('beta');
    const podNames = async () =>
      (
        await client.list(RESOURCES.Pod, ns, { labelSelector: 'app.kubernetes.io/instance=beta,app.kubernetes.io/name=content-bridge' })
      ).items
        .filter((p) => !p.metadata.deletionTimestamp)
        .map((p) => p.metadata.name);
    const before = await podNames();
    const hashOf = async () =>
      (
        await client.get<KubeObject & { spec: { template: { metadata: { annotations: Record<string, string> } } } }>(
          RESOURCES.Deployment,
          ns,
          'beta-content-bridge',
        )
      ).spec.template.metadata.annotations['huntmaster.academy/config-hash'];
    const hashBefore = await hashOf();
    await client.mergePatch(RESOURCES.Secret, ns, 'beta-jwt', { stringData: { key: 'b'.repeat(48) } });
    await waitUntil('pod template hash changed', async () => (await hashOf()) !== hashBefore, { timeoutMs: 30_000 });
    await waitUntil(
      'pods replaced',
      async () => {
        const now = await podNames();
        return now.length === 1 && !before.includes(now[0]!);
      },
      { timeoutMs: 60_000 },
    );
    await waitReady('beta');
  });

  it('places each component where spec.scheduling says, PostgreSQL alone on the data pool', async () => {
    const pool = 'e2e.huntmaster.academy/pool';
    const dedicated = 'e2e.huntmaster.academy/dedicated';
    // Both pools are tainted, so the other suites sharing this cluster never land on them.
    for (const name of ['apps', 'data']) {
      await client.request('POST', '/api/v1/nodes', {
        body: fakeNode(`kwok-${name}`, { labels: { [pool]: name }, taints: [{ key: dedicated, value: name, effect: 'NoSchedule' }] }),
      });
    }
    await createVolumes(3, 'e2e-placed-pv');
    await client.create(
      platform(ns, 'placed', {
        contentBridge: { replicas: 1 },
        mlServer: { replicas: 1 },
        scheduling: {
          nodeSelector: { [pool]: 'apps' },
          tolerations: [{ key: dedicated, operator: 'Equal', value: 'apps', effect: 'NoSchedule' }],
        },
        postgres: {
          scheduling: {
            nodeSelector: { [pool]: 'data' },
            tolerations: [{ key: dedicated, operator: 'Equal', value: 'data', effect: 'NoSchedule' }],
          },
        },
      }),
    );
    await waitReady('placed');
    const pods = (await client.list(RESOURCES.Pod, ns, { labelSelector: 'app.kubernetes.io/instance=placed' })).items as Array<
      KubeObject & { spec: { nodeName?: string } }
    >;
    const placement: Record<string, string[]> = {};
    for (const pod of pods) {
      const component = pod.metadata.labels!['app.kubernetes.io/name']!;
      placement[component] = [...new Set([...(placement[component] ?? []), pod.spec.nodeName ?? '(unscheduled)'])];
    }
    expect(placement).toEqual({
      'content-bridge': ['kwok-apps'],
      'ml-server': ['kwok-apps'],
      migrations: ['kwok-apps'],
      postgres: ['kwok-data'],
      redis: ['kwok-apps'],
      minio: ['kwok-apps'],
      'minio-bucket-init': ['kwok-apps'],
    });
    await client.delete(RESOURCES.HuntMasterPlatform, ns, 'placed');
  });

  it('lets the real autoscaler own the count: it scales to a raised minimum and the operator keeps it', async () => {
    await createVolumes(3, 'e2e-scaled-pv');
    await client.create(
      platform(ns, 'scaled', {
        contentBridge: { autoscaling: { enabled: true, minReplicas: 2, maxReplicas: 5 } },
        mlServer: { replicas: 1 },
      }),
    );
    await waitReady('scaled');
    type Scaled = KubeObject & { spec: { replicas?: number }; status?: { readyReplicas?: number } };
    const deployment = () => client.get<Scaled>(RESOURCES.Deployment, ns, 'scaled-content-bridge');
    expect((await deployment()).spec.replicas).toBe(2); // created at the minimum, not at the default of 1

    // Only the HPA controller can bring it to 4: the operator never sets replicas while autoscaled.
    await client.mergePatch(RESOURCES.HuntMasterPlatform, ns, 'scaled', { spec: { contentBridge: { autoscaling: { minReplicas: 4 } } } });
    await waitUntil('the autoscaler scaled to its new minimum', async () => (await deployment()).status?.readyReplicas === 4, {
      timeoutMs: 90_000,
    });
    await waitReady('scaled');
    expect((await deployment()).spec.replicas).toBe(4);
    await client.delete(RESOURCES.HuntMasterPlatform, ns, 'scaled');
  });

  it('grows a PVC when storage.size grows, and reports a StorageClass that refuses', async () => {
    // Two classes, each with static PVs: one allows expansion, the other does not.
    for (const [name, allow] of [
      ['e2e-expandable', true],
      ['e2e-fixed', false],
    ] as const) {
      await client.create({
        apiVersion: 'storage.k8s.io/v1',
        kind: 'StorageClass',
        metadata: { name },
        provisioner: 'kubernetes.io/no-provisioner',
        volumeBindingMode: 'Immediate',
        allowVolumeExpansion: allow,
      } as KubeObject);
      for (let i = 0; i < 2; i++) {
        await client.create({
          apiVersion: 'v1',
          kind: 'PersistentVolume',
          metadata: { name: `${name}-${i}` },
          spec: {
            storageClassName: name,
            capacity: { storage: '100Gi' },
            accessModes: ['ReadWriteOnce'],
            hostPath: { path: `/tmp/${name}-${i}` },
            persistentVolumeReclaimPolicy: 'Retain',
          },
        } as KubeObject);
      }
    }
    await client.create(
      platform(ns, 'grow', {
        postgres: { mode: 'managed', storage: { size: '1Gi', storageClassName: 'e2e-expandable' } },
        redis: { mode: 'managed', storage: { size: '1Gi', storageClassName: 'e2e-fixed' } },
        objectStorage: { mode: 'managed', storage: { size: '1Gi', storageClassName: 'e2e-fixed' } },
      }),
    );
    await waitReady('grow');
    const claim = (component: string) =>
      client.get<KubeObject & { spec: any }>(RESOURCES.PersistentVolumeClaim, ns, `data-grow-${component}-0`);
    expect((await claim('postgres')).spec.resources.requests.storage).toBe('1Gi');

    await client.mergePatch(RESOURCES.HuntMasterPlatform, ns, 'grow', { spec: { postgres: { storage: { size: '3Gi' } } } });
    await waitUntil('the PostgreSQL PVC asks for 3Gi', async () => (await claim('postgres')).spec.resources.requests.storage === '3Gi', {
      timeoutMs: 30_000,
    });
    // The StatefulSet keeps its (immutable) template and records the size applied; the platform stays Ready.
    const sts = await client.get<KubeObject & { spec: any }>(RESOURCES.StatefulSet, ns, 'grow-postgres');
    expect(sts.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('1Gi');
    await waitUntil(
      'size recorded',
      async () => {
        const live = await client.get(RESOURCES.StatefulSet, ns, 'grow-postgres');
        return live.metadata.annotations?.['huntmaster.academy/storage-size'] === '3Gi';
      },
      { timeoutMs: 30_000 },
    );
    await waitReady('grow');

    // Redis's class does not allow expansion: the platform says so, and the PVC is left as it was.
    await client.mergePatch(RESOURCES.HuntMasterPlatform, ns, 'grow', { spec: { redis: { storage: { size: '2Gi' } } } });
    await waitUntil(
      'Degraded names the PVC',
      async () => {
        const degraded = (await getPlatform('grow')).status?.conditions?.find((c) => c.type === 'Degraded');
        return degraded?.status === 'True' && degraded.message.includes('PVC data-grow-redis-0 cannot grow from 1Gi to 2Gi');
      },
      { timeoutMs: 30_000 },
    );
    expect((await claim('redis')).spec.resources.requests.storage).toBe('1Gi');
    const events = await client.list(RESOURCES.Event, ns, { fieldSelector: 'involvedObject.name=grow' });
    const reasons = events.items.map((e) => (e as unknown as { reason: string }).reason);
    expect(reasons).toEqual(expect.arrayContaining(['VolumeExpanding', 'VolumeExpansionFailed']));
    await client.delete(RESOURCES.HuntMasterPlatform, ns, 'grow');
  });

  it('garbage-collects the children of a deleted platform and deletes its PVCs under deletionPolicy Delete', async () => {
    await client.mergePatch(RESOURCES.HuntMasterPlatform, ns, 'alpha', { spec: { deletionPolicy: { persistentVolumeClaims: 'Delete' } } });
    expect((await pvcsOf('alpha')).length).toBe(3);
    await client.delete(RESOURCES.HuntMasterPlatform, ns, 'alpha');
    await waitUntil(
      'alpha and its children gone',
      async () => {
        const gone = await getPlatform('alpha').then(
          () => false,
          (err) => isNotFound(err),
        );
        const deployments = (await client.list(RESOURCES.Deployment, ns, { labelSelector: 'app.kubernetes.io/instance=alpha' })).items;
        const sts = (await client.list(RESOURCES.StatefulSet, ns, { labelSelector: 'app.kubernetes.io/instance=alpha' })).items;
        return gone && deployments.length === 0 && sts.length === 0;
      },
      { timeoutMs: 60_000 },
    );
    await waitUntil('PVCs deleted', async () => (await pvcsOf('alpha')).every((p) => p.metadata.deletionTimestamp), { timeoutMs: 30_000 });
  });

  it('keeps the PVCs under the default Retain policy', async () => {
    expect((await pvcsOf('beta')).length).toBe(3);
    await client.delete(RESOURCES.HuntMasterPlatform, ns, 'beta');
    await waitUntil(
      'beta gone',
      async () =>
        (await getPlatform('beta').then(
          () => false,
          (err) => isNotFound(err),
        )) && (await client.list(RESOURCES.StatefulSet, ns, { labelSelector: 'app.kubernetes.io/instance=beta' })).items.length === 0,
      { timeoutMs: 60_000 },
    );
    const pvcs = await pvcsOf('beta');
    expect(pvcs.length).toBe(3);
    expect(pvcs.every((p) => !p.metadata.deletionTimestamp)).toBe(true);
  });

  it('keeps the credentials with the retained PVCs through the garbage collector, and a re-created platform adopts them', async () => {
    // beta is gone (above) and its data directories remember the passwords they were initialised with.
    const generated = [
      'beta-admin',
      'beta-minio-credentials',
      'beta-postgres-credentials',
      'beta-redis-credentials',
      'beta-service-tokens',
    ];
    const secrets = () =>
      Promise.all(generated.map((name) => client.get<KubeObject & { data: Record<string, string> }>(RESOURCES.Secret, ns, name)));
    await new Promise((r) => setTimeout(r, 3000)); // give the garbage collector a moment to act, as it did on the children
    const kept = await secrets();
    expect(kept.map((s) => s.metadata.ownerReferences ?? [])).toEqual(generated.map(() => []));

    const again = await client.create(
      platform(ns, 'beta', {
        auth: { jwtSecretRef: { name: 'beta-jwt', key: 'key' } },
        contentBridge: { replicas: 1 },
        mlServer: { replicas: 1 },
      }),
    );
    await waitReady('beta');
    const adopted = await secrets();
    expect(adopted.map((s) => s.data)).toEqual(kept.map((s) => s.data));
    for (const s of adopted)
      expect(
        s.metadata.ownerReferences?.map((r) => r.uid),
        s.metadata.name,
      ).toEqual([again.metadata.uid]);
    expect((await pvcsOf('beta')).length).toBe(3); // the same claims, bound again
  });
});

describe('operator restarts', () => {
  it('converges after being stopped in the middle of a reconcile', async () => {
    const first = await runOperator([ns]);
    await client.create(platform(ns, 'gamma', { contentBridge: { replicas: 1 }, mlServer: { replicas: 1 } }));
    await waitUntil('first writes happened', async () => first.writeLog.writes.length >= 3, { timeoutMs: 30_000 });
    await first.stop(); // mid-flight: some children exist, others not yet
    const second = await runOperator([ns]);
    try {
      await waitReady('gamma');
    } finally {
      await second.stop();
    }
  });
});

describe('leader election between two operator processes', () => {
  const processes: ChildProcess[] = [];
  afterAll(() => processes.forEach((p) => p.kill('SIGKILL')));

  it('lets exactly one lead, and the other takes over within 20 s of the leader stopping', async () => {
    const kubeconfig = join(tmpdir(), `hma-e2e-kubeconfig-${process.pid}`);
    writeFileSync(kubeconfig, inject('kubeconfig'));
    const start = async (id: string) => {
      const port = await freePort();
      const child = spawn(`${REPO_ROOT}/node_modules/.bin/node`, ['operator/main.ts'], {
        cwd: REPO_ROOT,
        env: {
          PATH: process.env.PATH,
          KUBECONFIG: kubeconfig,
          WATCH_NAMESPACES: ns,
          OPERATOR_NAMESPACE: ns,
          HTTP_PORT: String(port),
          HOSTNAME: id,
          LOG_LEVEL: 'info',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      processes.push(child);
      let out = '';
      child.stdout!.on('data', (c) => (out += c));
      child.stderr!.on('data', (c) => (out += c));
      const leaderMetric = async () => {
        try {
          const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
          return /leader_election_master_status\{name="huntmaster-operator"\} 1/.test(text);
        } catch {
          return false;
        }
      };
      return { child, leaderMetric, output: () => out };
    };
    const a = await start('op-a');
    await waitUntil('a leads', a.leaderMetric, { timeoutMs: 30_000 });
    const b = await start('op-b');
    await waitUntil('b is up', async () => b.output().includes('operator started'), { timeoutMs: 30_000 });
    await new Promise((r) => setTimeout(r, 3000));
    expect([await a.leaderMetric(), await b.leaderMetric()]).toEqual([true, false]);

    // A crash: the lease is not released, so b must wait for it to expire (15 s) and then take over.
    const stopped = Date.now();
    a.child.kill('SIGKILL');
    await waitUntil('b takes over', b.leaderMetric, { timeoutMs: 25_000 }).catch((err) => {
      throw new Error(`${err.message}\n--- b's log ---\n${b.output().slice(-3000)}`);
    });
    expect(Date.now() - stopped).toBeLessThan(20_000);

    // It works as leader: it reconciles a new platform to Ready.
    await client.create(platform(ns, 'delta', { contentBridge: { replicas: 1 }, mlServer: { replicas: 1 } }));
    await waitReady('delta');
    b.child.kill('SIGTERM');
    await new Promise((resolve) => b.child.once('exit', resolve));
    const lease = await client.get<KubeObject & { spec: { holderIdentity?: string | null } }>(RESOURCES.Lease, ns, 'huntmaster-operator');
    expect(lease.spec.holderIdentity ?? null).toBeNull(); // released on a graceful stop
  });
});
