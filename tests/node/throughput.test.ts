/**
 * Event throughput through a Service from a pod, next to the same load against the same code as a
 * plain process outside the cluster, in the same run (issue 13 §7; the figures go to BENCHMARKS.md).
 *
 * - In the cluster: the event sender in a pod → the Content Bridge Service (kube-proxy) → its one pod.
 * - Outside: the Content Bridge from this checkout (the code the image was built from) as a process on
 *   the node, not in a container, with the pod's own environment; the same sender as a process beside it,
 *   over loopback.
 * Both use the same in-cluster PostgreSQL, Redis and MinIO (the process reaches them at their pods'
 * addresses: the node has no route to the Service range), so the difference is the container, the
 * pod network and the Service hop in front of the Content Bridge, not the data services. The sender keeps 16 requests of 10 events in flight. Time is recorded, never asserted;
 * what is asserted is that neither path fails a request or loses an acknowledged event.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inNode, NODE_NETWORK } from '../harness/node/network.ts';
import { REPO_ROOT } from '../harness/paths.ts';
import { spawnManaged, waitUntil, type ManagedProcess } from '../harness/process.ts';
import { makeTempDir } from '../harness/tempdir.ts';
import { acknowledgedIds, eventsFlowingAround, missingFromPostgres, type SenderResult } from './support/events.ts';
import { recordRate } from './support/figures.ts';
import { execIn, kubectl, kubectlJson } from './support/node.ts';
import { adminToken, createPlatform, ensureOperatorInstalled, startClient } from './support/platform.ts';

const ns = 'throughput';
const platform = 'hm';
const PROCESS_PORT = 18090;
const ROUNDS = 3;
const SECONDS = 10;
const LOAD = { RATE: '400', BATCH_SIZE: '10', MAX_IN_FLIGHT: '16' };

/**
 * The Content Bridge pod's environment, with each `<service>.<ns>.svc` host replaced by the address of
 * that Service's pod: the node has routes to the pods, not to the Service range (kube-proxy's rules
 * serve pods, and the node's own network namespace has no route for it).
 */
async function bridgeEnvOutsideTheCluster(): Promise<Record<string, string>> {
  const [pod] = (await kubectlJson(['-n', ns, 'get', 'pods', '-l', 'app.kubernetes.io/name=content-bridge'])).items as any[];
  const lines = (await execIn(ns, pod.metadata.name, ['env'])).trim().split('\n');
  const slices = (await kubectlJson(['-n', ns, 'get', 'endpointslices'])).items as any[];
  const address = new Map<string, string>();
  for (const slice of slices) {
    const ready = (slice.endpoints ?? []).find((e: any) => e.conditions?.ready);
    if (ready) address.set(slice.metadata.labels['kubernetes.io/service-name'], ready.addresses[0]);
  }
  const env: Record<string, string> = {};
  for (const line of lines) {
    const eq = line.indexOf('=');
    const [key, value] = [line.slice(0, eq), line.slice(eq + 1)];
    if (/^(KUBERNETES_|HOSTNAME$|HOME$|PATH$|HM_|NODE_VERSION$|YARN_VERSION$)/.test(key)) continue;
    env[key] = value.replace(new RegExp(`\\b([a-z0-9-]+)\\.${ns}\\.svc(?:\\.cluster\\.local)?\\b`, 'g'), (whole, name: string) => {
      const ip = address.get(name);
      if (!ip) throw new Error(`${key} names ${whole}, which has no ready endpoint`);
      return ip;
    });
  }
  return { ...env, HOST: '127.0.0.1', PORT: String(PROCESS_PORT), POD_NAME: 'content-bridge-process' };
}

/** The event sender as a process on the node, for SECONDS; resolves with its report. */
async function senderOnTheNode(logDir: string, token: string, round: number): Promise<SenderResult> {
  const sender = spawnManaged(`event-sender-${round}`, process.execPath, [join(REPO_ROOT, 'tests/node/support/event-sender.mjs')], {
    logDir,
    netns: NODE_NETWORK.netns,
    env: {
      CONTENT_BRIDGE_URL: `http://127.0.0.1:${PROCESS_PORT}`,
      ACCESS_TOKEN: token,
      DURATION_SECONDS: String(SECONDS),
      ACK_FORMAT: 'ranges',
      STOP_FILE: join(logDir, 'never'),
      ...LOAD,
    },
  });
  const code = await sender.exited;
  const lines = readFileSync(sender.logFile, 'utf8').trim().split('\n');
  const report = lines.findLast((l) => l.startsWith('{'));
  if (code !== 0 || !report) throw new Error(`event sender exited ${code}: ${sender.logTail()}`);
  return JSON.parse(report) as SenderResult;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describe('event throughput: through a Service from a pod, and against the process outside the cluster', () => {
  let bridge: ManagedProcess | undefined;
  let logDir = '';
  let token = '';

  beforeAll(async () => {
    await ensureOperatorInstalled();
    await createPlatform(ns, platform, { contentBridge: { replicas: 1 }, mlServer: { replicas: 1 } });
    await startClient(ns);
    token = await adminToken(ns, platform);
    logDir = makeTempDir('throughput');
    bridge = spawnManaged(
      'content-bridge-process',
      process.execPath,
      ['--import', './services/kit/observability/register-tracing.ts', 'services/content-bridge/main.ts'],
      {
        logDir,
        cwd: REPO_ROOT,
        netns: NODE_NETWORK.netns,
        env: await bridgeEnvOutsideTheCluster(),
      },
    );
    const probe = `fetch('http://127.0.0.1:${PROCESS_PORT}/readyz').then(r=>console.log(r.status),()=>console.log(0))`;
    await waitUntil('the Content Bridge process ready', async () => (await inNode(process.execPath, ['-e', probe])).trim() === '200', {
      timeoutMs: 120_000,
      process: bridge,
    });
  });

  afterAll(async () => {
    await bridge?.stop();
    await kubectl(['delete', 'namespace', ns, '--wait=false', '--ignore-not-found']);
  });

  it('serves both without a failed request or a lost event, and records both rates', async () => {
    const rates = { pod: [] as number[], process: [] as number[] };
    const acknowledged: string[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      // Alternating, so a change in the machine's load falls on both.
      const viaService = await eventsFlowingAround(
        ns,
        { CONTENT_BRIDGE_URL: `http://${platform}-content-bridge.${ns}.svc:8090`, ACCESS_TOKEN: token, ...LOAD },
        () => new Promise((r) => setTimeout(r, (SECONDS - 6) * 1000)),
      );
      const outside = await senderOnTheNode(logDir, token, round);
      for (const [path, result] of [
        ['pod → Service → pod', viaService],
        ['process → process', outside],
      ] as const) {
        expect(result.failed, `${path}: ${JSON.stringify(result.failuresByReason)}`).toBe(0);
        expect(result.ok, path).toBeGreaterThan(10);
        acknowledged.push(...acknowledgedIds(result));
      }
      rates.pod.push(viaService.eventsPerSecond);
      rates.process.push(outside.eventsPerSecond);
    }
    const [pod, outside] = [median(rates.pod), median(rates.process)];
    recordRate('events through a Service from a pod (pod → Service → Content Bridge pod)', pod, rates.pod);
    recordRate('events against the Content Bridge as a process outside the cluster', outside, rates.process, {
      ratio: Number((pod / outside).toFixed(2)),
    });
    expect(await missingFromPostgres(ns, platform, acknowledged)).toBe(0);
  });
});
