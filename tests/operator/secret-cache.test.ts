/**
 * What the operator caches, against the real kube-apiserver, through a proxy that records every
 * request and the bytes of its answer: only the Secrets it generates (selected by label), never the
 * cluster's other Secrets (Helm release Secrets, say, some large); a Secret a user references is
 * watched by name and read with a GET, and rotating it still rolls the pods. Every list is paged.
 */
import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Informer } from '../../operator/controller/informer.ts';
import { KubeClient, type KubeObject } from '../../operator/kube/client.ts';
import { RESOURCES } from '../../operator/kube/resources.ts';
import { completeJob } from './support/controllers.ts';
import { MANAGED_SELECTOR } from '../../operator/runtime.ts';
import { waitUntil } from '../harness/index.ts';
import { startFaultProxy, upstreamOf, type FaultProxy } from './support/fault-proxy.ts';
import { installCrd, platform, runOperator } from './support/operator.ts';

const ns = 'secret-cache';
const logger = pino({ level: process.env.TEST_LOG ?? 'silent' });
let client: KubeClient;
let proxy: FaultProxy;
let viaProxy: k8s.KubeConfig;
let operator: Awaited<ReturnType<typeof runOperator>>;

/** Like a Helm release Secret: labelled by its owner, not by us. */
const helmRelease = (name: string, bytes: number): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Secret',
  type: 'helm.sh/release.v1',
  metadata: { name, namespace: ns, labels: { owner: 'helm', name, status: 'superseded' } },
  data: { release: randomBytes(bytes).toString('base64') },
});

async function createAll(objects: KubeObject[]): Promise<number> {
  for (let i = 0; i < objects.length; i += 20) await Promise.all(objects.slice(i, i + 20).map((o) => client.create(o)));
  return objects.reduce((n, o) => n + JSON.stringify(o).length, 0);
}

const parsed = (url: string) => new URL(url, 'http://proxy');
const secretRequests = () => proxy.requests.filter((r) => /\/secrets(\/|$|\?)/.test(parsed(r.url).pathname + '?'));
const secretBytes = () => secretRequests().reduce((n, r) => n + r.responseBytes, 0);
const isWatch = (url: string) => parsed(url).searchParams.get('watch') === 'true';

type Deployment = KubeObject & { spec: { template: { metadata: { annotations?: Record<string, string> } } } };
const configHash = async (name: string) =>
  (await client.get<Deployment>(RESOURCES.Deployment, ns, name).catch(() => undefined))?.spec.template.metadata.annotations?.[
    'huntmaster.academy/config-hash'
  ];

beforeAll(async () => {
  const admin = new k8s.KubeConfig();
  admin.loadFromString(inject('kubeconfig'));
  client = new KubeClient(admin);
  proxy = await startFaultProxy(upstreamOf(inject('kubeconfig')));
  viaProxy = new k8s.KubeConfig();
  viaProxy.loadFromString(proxy.kubeconfig);
  await installCrd(client);
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
});
afterAll(async () => {
  await operator?.stop();
  await proxy?.close();
});

describe('the Secret cache', () => {
  const unrelatedBefore = [
    ...Array.from({ length: 280 }, (_, i) => helmRelease(`sh.helm.release.v1.app-${i}.v1`, 1024)),
    ...Array.from({ length: 20 }, (_, i) => helmRelease(`sh.helm.release.v1.big-${i}.v1`, 192 * 1024)),
  ];

  it('holds only the Secrets the operator generates, however many others the cluster has', async () => {
    const unrelatedBytes = await createAll(unrelatedBefore);
    expect(unrelatedBytes).toBeGreaterThan(4_000_000);
    // Its own namespace only: the other suites' operators own the other namespaces of this API server.
    operator = await runOperator([ns], { kubeConfig: viaProxy });
    await client.create(platform(ns, 'cached', { contentBridge: { replicas: 1 }, mlServer: { replicas: 1 } }));
    // What it holds: the platform's generated Secrets, and nothing else.
    const generated = async () => (await client.list(RESOURCES.Secret, ns, { labelSelector: MANAGED_SELECTOR })).items.length;
    await waitUntil('generated Secrets cached', async () => operator.cacheSizes().Secret === 6 && (await generated()) === 6, {
      timeoutMs: 30_000,
    });
    expect((await client.list(RESOURCES.Secret, ns)).items.length).toBeGreaterThan(300);
    const metrics = await (await fetch(`http://127.0.0.1:${operator.port}/metrics`)).text();
    expect(metrics).toMatch(/hma_operator_cached_objects\{kind="Secret"\} \d+/);
    expect(Number(/hma_operator_cached_objects\{kind="Secret"\} (\d+)/.exec(metrics)![1])).toBe(6);

    // What it asked for: every Secret list and watch selects ours by label, and every list is paged.
    const collectionCalls = secretRequests().filter((r) => r.method === 'GET' && /\/secrets$/.test(parsed(r.url).pathname));
    expect(collectionCalls.length).toBeGreaterThan(0);
    for (const call of collectionCalls) {
      const q = parsed(call.url).searchParams;
      expect(q.get('labelSelector'), call.url).toBe(MANAGED_SELECTOR);
      if (!isWatch(call.url)) expect(Number(q.get('limit')), call.url).toBe(500);
    }
    // What reached it: a small fraction of the cluster's Secret data.
    expect(secretBytes()).toBeLessThan(unrelatedBytes / 20);

    // More unrelated Secrets while it runs: no event, no byte and no cache entry for any of them.
    const cachedBefore = operator.cacheSizes().Secret!;
    const bytesBefore = secretBytes();
    const more = await createAll([
      ...Array.from({ length: 100 }, (_, i) => helmRelease(`sh.helm.release.v1.later-${i}.v1`, 1024)),
      ...Array.from({ length: 5 }, (_, i) => helmRelease(`sh.helm.release.v1.later-big-${i}.v1`, 192 * 1024)),
    ]);
    // A labelled Secret created after them is seen, so the watch was live while they were created.
    await client.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'marker', namespace: ns, labels: { 'app.kubernetes.io/managed-by': 'huntmaster-operator' } },
      stringData: { v: '1' },
    });
    await waitUntil('the labelled marker is cached', async () => operator.cacheSizes().Secret === cachedBefore + 1, { timeoutMs: 10_000 });
    expect(secretBytes() - bytesBefore).toBeLessThan(more / 100);
  });

  it("watches a user's Secret by name, caches none of its data, and rolls the pods when it changes", async () => {
    for (const [name, data] of [
      ['user-db', { DATABASE_URL: 'postgres://hma:pw@db.example:5432/hma' }],
      ['user-jwt', { key: 'a'.repeat(48) }],
    ] as const) {
      await client.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: ns }, stringData: data });
    }
    await client.create(
      platform(ns, 'rotates', {
        postgres: { mode: 'external', external: { secretRef: { name: 'user-db' } } },
        auth: { jwtSecretRef: { name: 'user-jwt', key: 'key' } },
        contentBridge: { replicas: 1 },
        mlServer: { replicas: 1 },
      }),
    );
    // The APIs are applied once the migration Job succeeds: stand in for the Job controller.
    const job = 'rotates-migrate-0-1-0';
    await waitUntil('migration Job', async () => (await client.get(RESOURCES.Job, ns, job).catch(() => undefined)) !== undefined, {
      timeoutMs: 30_000,
    });
    await completeJob(client, ns, job);
    await waitUntil('API Deployment with a config hash', async () => (await configHash('rotates-content-bridge')) !== undefined, {
      timeoutMs: 30_000,
    });
    expect(operator.referencedSecretWatches().sort()).toEqual(expect.arrayContaining([`${ns}/user-db`, `${ns}/user-jwt`]));
    const watchOf = (name: string) =>
      secretRequests().filter((r) => isWatch(r.url) && parsed(r.url).searchParams.get('fieldSelector') === `metadata.name=${name}`);
    expect(watchOf('user-jwt').length).toBeGreaterThan(0);
    // Read by name, when needed: GETs of the Secret itself, never a list of the namespace's Secrets.
    expect(secretRequests().some((r) => r.method === 'GET' && parsed(r.url).pathname.endsWith(`/namespaces/${ns}/secrets/user-jwt`))).toBe(
      true,
    );

    const before = await configHash('rotates-content-bridge');
    await client.mergePatch(RESOURCES.Secret, ns, 'user-jwt', { stringData: { key: 'b'.repeat(48) } });
    // The watch brings it at once; the periodic requeue (30 s) and resync (10 min) are far longer.
    await waitUntil('config hash follows the rotated Secret', async () => (await configHash('rotates-content-bridge')) !== before, {
      timeoutMs: 15_000,
    });
    expect(await configHash('rotates-ml-server')).toBe(await configHash('rotates-content-bridge'));

    // No longer referenced: no longer watched.
    await client.mergePatch(RESOURCES.HuntMasterPlatform, ns, 'rotates', { spec: { auth: { jwtSecretRef: null } } });
    await waitUntil('watch of user-jwt stopped', async () => !operator.referencedSecretWatches().includes(`${ns}/user-jwt`), {
      timeoutMs: 10_000,
    });
    expect(operator.referencedSecretWatches()).toContain(`${ns}/user-db`);
  });
});

describe('informer lists', () => {
  it('are paged with limit and continue, and the pages together fill the cache', async () => {
    const selector = 'paging-test=yes';
    await createAll(
      Array.from({ length: 35 }, (_, i) => ({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: `page-${i}`, namespace: ns, labels: { 'paging-test': 'yes' } },
        data: { i: String(i) },
      })),
    );
    const informer = new Informer(new KubeClient(viaProxy), {
      resource: RESOURCES.ConfigMap,
      namespace: ns,
      labelSelector: selector,
      pageSize: 10,
      logger,
    });
    const from = proxy.requests.length;
    informer.start();
    try {
      expect(await informer.waitForSync(10_000)).toBe(true);
      expect(informer.size).toBe(35);
      const lists = proxy.requests
        .slice(from)
        .filter((r) => /\/namespaces\/secret-cache\/configmaps$/.test(parsed(r.url).pathname) && !isWatch(r.url));
      expect(lists.map((r) => parsed(r.url).searchParams.get('limit'))).toEqual(['10', '10', '10', '10']);
      expect(lists.map((r) => Boolean(parsed(r.url).searchParams.get('continue')))).toEqual([false, true, true, true]);
      expect(informer.pages).toBe(4);
    } finally {
      await informer.stop();
    }
  });
});
