/**
 * The platform survives the faults a real cluster has, measured, with nothing acknowledged lost. A
 * client pod sends learning events the whole time and records every id the Content Bridge
 * acknowledged; meanwhile PostgreSQL's pod is deleted, one of two Content Bridge pods is deleted, the
 * operator's pod is killed, and containerd and the kubelet are restarted. Afterwards every
 * acknowledged id must be in PostgreSQL. Each fault's recovery time goes to the figures.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { waitUntil } from '../harness/process.ts';
import { recordFigure } from './support/figures.ts';
import { acknowledgedIds, eventsFlowingAround, missingFromPostgres } from './support/events.ts';
import { kubectl, kubectlJson, waitForPodsReady } from './support/node.ts';
import {
  adminToken,
  createPlatform,
  ensureOperatorInstalled,
  OPERATOR_NAMESPACE,
  startClient,
  waitPlatformReady,
} from './support/platform.ts';

const ns = 'survive';
const platform = 'hm';
const bridge = `http://${platform}-content-bridge.${ns}.svc:8090`;

/** The event sender in a pod of its own around `fault`. */
const withEventsFlowing = (token: string, fault: () => Promise<void>) =>
  eventsFlowingAround(ns, { CONTENT_BRIDGE_URL: bridge, ACCESS_TOKEN: token, RATE: '20' }, fault);

/** Every child's resourceVersion: a rewrite of any of them changes it. */
async function childVersions(): Promise<Record<string, string>> {
  const kinds = 'deployments,statefulsets,services,configmaps,secrets,jobs,poddisruptionbudgets,networkpolicies';
  const list = await kubectlJson(['-n', ns, 'get', kinds, '-l', `app.kubernetes.io/instance=${platform}`]);
  return Object.fromEntries((list.items as any[]).map((o) => [`${o.kind}/${o.metadata.name}`, o.metadata.resourceVersion]));
}

async function restartDaemon(name: 'containerd' | 'kubelet', downMs: number): Promise<void> {
  const res = await fetch(`${inject('nodeControl')}/restart/${name}?down=${downMs}`, { method: 'POST' });
  if (res.status !== 204) throw new Error(`restart ${name}: ${res.status} ${await res.text()}`);
}

describe('the platform survives faults with nothing acknowledged lost', () => {
  const acknowledged = new Set<string>();
  let token = '';

  beforeAll(async () => {
    await ensureOperatorInstalled();
    const ms = await createPlatform(ns, platform, { contentBridge: { replicas: 2 } });
    recordFigure('platform (2 Content Bridge replicas) applied → Ready=True', ms);
    await startClient(ns);
    token = await adminToken(ns, platform);
  });

  afterAll(async () => {
    await kubectl(['delete', 'namespace', ns, '--wait=false', '--ignore-not-found']);
  });

  it('loses no request when one of two Content Bridge pods goes (PodDisruptionBudget, readiness, graceful shutdown)', async () => {
    const pods = (await kubectlJson(['-n', ns, 'get', 'pods', '-l', 'app.kubernetes.io/name=content-bridge'])).items as any[];
    expect(pods).toHaveLength(2);
    let recovered = 0;
    const result = await withEventsFlowing(token, async () => {
      const started = Date.now();
      // An eviction, as `kubectl drain` sends it: it goes through the PodDisruptionBudget.
      const name = pods[0].metadata.name as string;
      const eviction = { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: ns } };
      await kubectl(['create', '--raw', `/api/v1/namespaces/${ns}/pods/${name}/eviction`, '-f', '-'], { input: JSON.stringify(eviction) });
      await kubectl(['-n', ns, 'wait', `pod/${name}`, '--for=delete', '--timeout=120s']);
      await waitForPodsReady(ns, 'app.kubernetes.io/name=content-bridge', 2);
      recovered = Date.now() - started;
    });
    for (const id of acknowledgedIds(result)) acknowledged.add(id);
    recordFigure('Content Bridge pod deleted → 2 Ready again', recovered, { sent: result.sent, failed: result.failed });
    expect(result.ok).toBeGreaterThan(50);
    expect(result.failed, JSON.stringify(result.failuresByReason)).toBe(0);
  });

  it('recovers from the loss of the PostgreSQL pod: the volume keeps the data and the APIs reconnect without a restart', async () => {
    const restartsBefore = await apiRestarts();
    let recovered = 0;
    const result = await withEventsFlowing(token, async () => {
      const started = Date.now();
      await kubectl(['-n', ns, 'delete', 'pod', `${platform}-postgres-0`, '--wait=true']);
      await waitForPodsReady(ns, 'app.kubernetes.io/name=postgres', 1);
      await waitPlatformReady(ns, platform, 300);
      recovered = Date.now() - started;
    });
    for (const id of acknowledgedIds(result)) acknowledged.add(id);
    recordFigure('postgres-0 deleted → platform Ready again', recovered, {
      sent: result.sent,
      failed: result.failed,
      longestGapMs: result.maxGapMs,
    });
    expect(result.ok).toBeGreaterThan(50);
    expect(await apiRestarts()).toEqual(restartsBefore);
  });

  it('lets a replacement operator take over without rewriting any child', async () => {
    const before = await childVersions();
    const [pod] = (await kubectlJson(['-n', OPERATOR_NAMESPACE, 'get', 'pods', '-l', 'app.kubernetes.io/component=operator']))
      .items as any[];
    const started = Date.now();
    await kubectl(['-n', OPERATOR_NAMESPACE, 'delete', 'pod', pod.metadata.name, '--grace-period=0', '--force']);
    await waitUntil(
      'a new operator pod Ready',
      async () => {
        const pods = (await kubectlJson(['-n', OPERATOR_NAMESPACE, 'get', 'pods', '-l', 'app.kubernetes.io/component=operator']))
          .items as any[];
        return pods.some(
          (p) => p.metadata.uid !== pod.metadata.uid && p.status.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'),
        );
      },
      { timeoutMs: 120_000 },
    );
    recordFigure('operator pod killed → replacement Ready', Date.now() - started);
    // The replacement lists everything and reconciles each platform at start; give it time to (not) write.
    await new Promise((r) => setTimeout(r, 10_000));
    expect(await childVersions()).toEqual(before);
  });

  it('brings the pods back after containerd and the kubelet restart', async () => {
    const result = await withEventsFlowing(token, async () => {
      const started = Date.now();
      await restartDaemon('containerd', 2_000);
      await restartDaemon('kubelet', 2_000);
      await waitUntil(
        'node Ready and every pod Ready',
        async () => {
          const node = (await kubectlJson(['get', 'nodes'])).items[0];
          if (!node.status.conditions.some((c: any) => c.type === 'Ready' && c.status === 'True')) return false;
          const pods = (await kubectlJson(['-n', ns, 'get', 'pods'])).items as any[];
          return pods
            .filter((p) => p.status.phase === 'Running')
            .every((p) => p.status.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'));
        },
        { timeoutMs: 180_000 },
      );
      await waitPlatformReady(ns, platform, 180);
      recordFigure('containerd and kubelet restarted → node and pods Ready', Date.now() - started);
    });
    for (const id of acknowledgedIds(result)) acknowledged.add(id);
    expect(result.ok).toBeGreaterThan(50);
  });

  it('has every acknowledged event in PostgreSQL', async () => {
    expect(acknowledged.size).toBeGreaterThan(200);
    const ids = [...acknowledged];
    const missing = await missingFromPostgres(ns, platform, ids);
    recordFigure('acknowledged events missing after the faults', 0, { acknowledged: ids.length, missing });
    expect(missing).toBe(0);
  });
});

async function apiRestarts(): Promise<number[]> {
  const pods = (await kubectlJson(['-n', ns, 'get', 'pods', '-l', 'app.kubernetes.io/component=api'])).items as any[];
  return pods.map((p) => p.status.containerStatuses?.[0]?.restartCount ?? 0).sort();
}
