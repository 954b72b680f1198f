/**
 * The operator's informer and leader election against the real kube-apiserver, through a proxy
 * that injects the failures real clusters produce: dropped and silent watches, 410 Gone, 503s.
 */
import * as k8s from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Informer } from '../../operator/controller/informer.ts';
import { LeaderElector } from '../../operator/controller/leader.ts';
import { KubeClient, type KubeObject } from '../../operator/kube/client.ts';
import { RESOURCES } from '../../operator/kube/resources.ts';
import { waitUntil } from '../harness/index.ts';
import { startFaultProxy, upstreamOf, type FaultProxy } from './support/fault-proxy.ts';

const logger = pino({ level: process.env.TEST_LOG ?? 'silent' });
const namespace = 'watch-tests';
let direct: KubeClient;
let proxy: FaultProxy;
let viaProxy: KubeClient;

const configMap = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data: { v: name } });

beforeAll(async () => {
  const kc = new k8s.KubeConfig();
  kc.loadFromString(inject('kubeconfig'));
  direct = new KubeClient(kc);
  proxy = await startFaultProxy(upstreamOf(inject('kubeconfig')));
  const pkc = new k8s.KubeConfig();
  pkc.loadFromString(proxy.kubeconfig);
  viaProxy = new KubeClient(pkc);
  await direct.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
});
afterAll(() => proxy?.close());

describe('informer', () => {
  it('survives dropped watches, 410 Gone (delivering missed deletes) and silent watches', async () => {
    const events: string[] = [];
    const informer = new Informer(viaProxy, {
      resource: RESOURCES.ConfigMap,
      namespace,
      logger,
      staleAfterMs: 1500,
      watchTimeoutSeconds: 60,
    });
    informer.on({
      add: (o) => events.push(`add ${o.metadata.name}`),
      delete: (o) => events.push(`delete ${o.metadata.name}`),
    });
    await direct.create(configMap('before-start'));
    informer.start();
    expect(await informer.waitForSync(10_000)).toBe(true);
    expect(events).toContain('add before-start');

    await direct.create(configMap('live-1'));
    await waitUntil('live add', async () => events.includes('add live-1'), { timeoutMs: 10_000 });

    // A dropped connection: the watch resumes from its resourceVersion and misses nothing.
    proxy.dropWatches();
    await direct.create(configMap('after-drop'));
    await waitUntil('add after drop', async () => events.includes('add after-drop'), { timeoutMs: 10_000 });

    // 410 Gone while a delete happens out of sight: the relist diff delivers the delete.
    const relistsBefore = informer.relists;
    proxy.silenceWatches(true);
    await direct.delete(RESOURCES.ConfigMap, namespace, 'live-1');
    proxy.goneOnNextWatch();
    proxy.silenceWatches(false);
    proxy.dropWatches();
    await waitUntil('delete after relist', async () => events.includes('delete live-1'), { timeoutMs: 15_000 });
    expect(informer.relists).toBeGreaterThan(relistsBefore);
    expect(informer.get(namespace, 'live-1')).toBeUndefined();

    // A watch that goes silent is detected as stale and restarted.
    const restartsBefore = informer.restarts;
    proxy.silenceWatches(true);
    await waitUntil('stale watch detected', async () => informer.restarts > restartsBefore, { timeoutMs: 10_000 });
    expect(informer.healthy(Date.now() + 2000)).toBe(false);
    proxy.silenceWatches(false);
    proxy.dropWatches();
    await direct.create(configMap('after-stale'));
    await waitUntil('add after stale', async () => events.includes('add after-stale'), { timeoutMs: 15_000 });
    expect(informer.healthy()).toBe(true);

    // Server errors on list: the informer keeps retrying instead of giving up.
    proxy.failRequests(3);
    proxy.goneOnNextWatch();
    proxy.dropWatches();
    await direct.create(configMap('after-errors'));
    await waitUntil('add after errors', async () => events.includes('add after-errors'), { timeoutMs: 20_000 });
    await informer.stop();
  });

  it('re-delivers every cached object on resync', async () => {
    const updates: string[] = [];
    const informer = new Informer(direct, { resource: RESOURCES.ConfigMap, namespace, logger, resyncMs: 300 });
    informer.on({ update: (_o, n) => updates.push(n.metadata.name) });
    informer.start();
    await informer.waitForSync(10_000);
    await waitUntil('resync', async () => updates.includes('before-start'), { timeoutMs: 5000 });
    await informer.stop();
  });
});

describe('leader election', () => {
  const elector = (identity: string, log: string[]) =>
    new LeaderElector(direct, {
      namespace,
      name: 'hma-operator-test',
      identity,
      leaseDurationSeconds: 3,
      renewDeadlineMs: 2000,
      retryPeriodMs: 200,
      logger,
      onStartedLeading: () => void log.push(`${identity} leads`),
      onStoppedLeading: () => void log.push(`${identity} stopped`),
    });

  it('elects exactly one leader, hands over on release, and takes over an abandoned lease after it expires', async () => {
    const log: string[] = [];
    const a = elector('a', log);
    const b = elector('b', log);
    a.start();
    await waitUntil('a leads', async () => a.isLeader, { timeoutMs: 5000 });
    b.start();
    await new Promise((r) => setTimeout(r, 1000));
    expect([a.isLeader, b.isLeader]).toEqual([true, false]);

    const released = Date.now();
    await a.stop(); // graceful: releases the lease
    await waitUntil('b takes over', async () => b.isLeader, { timeoutMs: 5000 });
    expect(Date.now() - released).toBeLessThan(2000); // well under the 3 s lease: the release worked
    const lease = await direct.get<KubeObject & { spec: { holderIdentity: string; leaseTransitions: number } }>(
      RESOURCES.Lease,
      namespace,
      'hma-operator-test',
    );
    expect(lease.spec.holderIdentity).toBe('b');
    expect(lease.spec.leaseTransitions).toBe(1);

    // A crashed leader never releases: a newcomer waits out the lease, then takes over.
    const c = elector('c', log);
    (b as unknown as { stopped: boolean }).stopped = true; // b stops renewing without releasing
    c.start();
    await waitUntil('c takes over an expired lease', async () => c.isLeader, { timeoutMs: 10_000 });
    await c.stop();
    expect(log).toEqual(['a leads', 'a stopped', 'b leads', 'c leads', 'c stopped']);
  });
});
