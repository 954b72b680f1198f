/**
 * Operator benchmark against the apiserver tier (real etcd + kube-apiserver):
 *  0. one CR at a time on an idle operator: the time from CR create to every child created (p50 of 7);
 *  1. over 50 CRs created at 5 per second, the time from CR create to every child created (p50, p99);
 *  2. with 200 CRs at steady state, the operator's RSS and CPU;
 *  3. a resync of 200 unchanged CRs: the API requests it makes, by verb (writes must be 0).
 * The operator runs as its own process (`node operator/main.ts`), as in production. No controllers
 * run in this tier, so the benchmark stands in for two: it marks every Job complete and every
 * PostgreSQL StatefulSet ready (the migration Job waits for it) the moment they appear. Leader
 * election is off so that Lease renewals do not blur the request counts.
 *   ./node_modules/.bin/node bench/operator/run.ts
 * The operator runs under the chart's memory limit for its container (a memory cgroup; node sizes its
 * heap from it, as in a pod); OPERATOR_MEMORY_LIMIT=none runs it without one.
 * The operator gets the image's node flags (its CMD) and glibc allocator settings (operator/Dockerfile's ENV MALLOC_*); MALLOC_*
 * variables in the bench's own environment override them.
 * OPERATOR_NODE_OPTIONS passes flags to the operator's node (e.g. `--cpu-prof --cpu-prof-dir=/tmp/p`
 * for a CPU profile, written when it stops; `--heapsnapshot-signal=SIGUSR2` to take a heap snapshot
 * at steady state, written into the operator's working directory).
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir, cpus, totalmem, loadavg } from 'node:os';
import * as k8s from '@kubernetes/client-node';
import { pino } from 'pino';
import { Informer } from '../../operator/controller/informer.ts';
import { KubeClient, type KubeObject } from '../../operator/kube/client.ts';
import { RESOURCES } from '../../operator/kube/resources.ts';
import { startControlPlane, freePort, waitUntil } from '../../tests/harness/index.ts';
import { REPO_ROOT } from '../../tests/harness/paths.ts';
import { installCrd, platform } from '../../tests/operator/support/crd.ts';
import { completeJob as completeJobIn } from '../../tests/operator/support/controllers.ts';
import { percentile } from '../lib/load.ts';
import { createMemoryLimit } from '../lib/memory-limit.ts';
import { processCpuSeconds } from '../lib/service.ts';
import { quantityValue } from '../../operator/specs/quantity.ts';
import { parse as parseYaml } from 'yaml';

const NS = 'bench';
const RESYNC_SECONDS = 20;
const IDLE_SAMPLES = 7;
const TOTAL = 200;

function procStats(pid: number) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)![1]);
  return { rssMb: kb('VmRSS') / 1024, anonMb: kb('RssAnon') / 1024, fileMb: kb('RssFile') / 1024, cpuSeconds: processCpuSeconds(pid) };
}

/** The chart's memory limit for the operator container: the bench runs the operator under it, as a pod does. */
function chartMemoryLimit(): string {
  const values = parseYaml(readFileSync(join(REPO_ROOT, 'charts/huntmaster/values.yaml'), 'utf8'));
  return values.operator.resources.limits.memory;
}

/**
 * How the operator image starts node, which the bench copies: the node flags of its CMD (the last
 * stage, the runtime's) and its glibc allocator settings (`ENV MALLOC_*=…`).
 */
function imageStart(): { nodeFlags: string[]; allocatorEnv: Record<string, string> } {
  const dockerfile = readFileSync(join(REPO_ROOT, 'operator/Dockerfile'), 'utf8');
  const argv = JSON.parse([...dockerfile.matchAll(/^CMD (\[.*\])$/gm)].at(-1)![1]!) as string[];
  return {
    nodeFlags: argv.slice(1, -1),
    allocatorEnv: Object.fromEntries([...dockerfile.matchAll(/\b(MALLOC_\w+)=(\S+)/g)].map((m) => [m[1]!, m[2]!])),
  };
}

async function requestsByMethod(port: number): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^rest_client_requests_total\{([^}]*)\} (\d+)/gm)) {
    const method = /method="([^"]+)"/.exec(m[1]!)![1]!;
    out[method] = (out[method] ?? 0) + Number(m[2]);
  }
  return out;
}

/** The operator's own gauges (prom-client's default metrics), in MiB. */
async function heapMiB(port: number): Promise<string> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const gauge = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, 'm').exec(text)?.[1] ?? NaN) / 2 ** 20;
  const used = gauge('nodejs_heap_size_used_bytes');
  const total = gauge('nodejs_heap_size_total_bytes');
  const external = gauge('nodejs_external_memory_bytes');
  return `V8 heap used ${used.toFixed(0)} of ${total.toFixed(0)} MiB, external ${external.toFixed(0)} MiB`;
}

const diff = (a: Record<string, number>, b: Record<string, number>) =>
  Object.fromEntries([...new Set([...Object.keys(a), ...Object.keys(b)])].map((k) => [k, (b[k] ?? 0) - (a[k] ?? 0)]));

async function main() {
  const plane = await startControlPlane({ tier: 'apiserver' });
  const kc = new k8s.KubeConfig();
  kc.loadFromString(plane.kubeconfig);
  const client = new KubeClient(kc);
  await installCrd(client);
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  const kubeconfigPath = join(tmpdir(), `hma-bench-kubeconfig-${process.pid}`);
  writeFileSync(kubeconfigPath, plane.kubeconfig);

  // Stand-in Job controller: completes each migration Job as soon as it exists.
  const logger = pino({ level: 'silent' });
  const jobs = new Informer(client, { resource: RESOURCES.Job, namespace: NS, logger });
  const completeJob = (job: KubeObject) => {
    if ((job as { status?: { succeeded?: number } }).status?.succeeded) return;
    void completeJobIn(client, NS, job.metadata.name).catch(() => undefined);
  };
  jobs.on({ add: completeJob });
  jobs.start();
  // Stand-in StatefulSet controller: PostgreSQL is ready as soon as its StatefulSet exists.
  const statefulSets = new Informer(client, { resource: RESOURCES.StatefulSet, namespace: NS, logger });
  statefulSets.on({
    add(sts) {
      if (!sts.metadata.name.endsWith('-postgres')) return;
      const ready = { replicas: 1, readyReplicas: 1, availableReplicas: 1, currentReplicas: 1, updatedReplicas: 1 };
      const status = { observedGeneration: sts.metadata.generation, ...ready };
      void client.mergePatch(RESOURCES.StatefulSet, NS, sts.metadata.name, { status }, 'status').catch(() => undefined);
    },
  });
  statefulSets.start();
  // The last children the operator creates are the two API Deployments (after the migration Job).
  const done = new Map<string, number>();
  const deployments = new Informer(client, { resource: RESOURCES.Deployment, namespace: NS, logger });
  const seen = new Map<string, Set<string>>();
  deployments.on({
    add(d) {
      const instance = d.metadata.labels?.['app.kubernetes.io/instance'];
      if (!instance) return;
      const set = seen.get(instance) ?? new Set();
      set.add(d.metadata.name);
      seen.set(instance, set);
      if (set.size === 2 && !done.has(instance)) done.set(instance, performance.now());
    },
  });
  deployments.start();
  await Promise.all([jobs.waitForSync(10_000), statefulSets.waitForSync(10_000), deployments.waitForSync(10_000)]);

  const port = await freePort();
  const image = imageStart();
  const nodeArgs = [...image.nodeFlags, ...(process.env.OPERATOR_NODE_OPTIONS ?? '').split(' ').filter(Boolean)];
  const memoryLimit = process.env.OPERATOR_MEMORY_LIMIT === 'none' ? undefined : chartMemoryLimit();
  const limit = memoryLimit ? createMemoryLimit(quantityValue(memoryLimit)!) : undefined;
  const command: [string, string[]] = [`${REPO_ROOT}/node_modules/.bin/node`, [...nodeArgs, 'operator/main.ts']];
  const operator = spawn(...(limit ? limit.wrap(...command) : command), {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH,
      ...image.allocatorEnv,
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('MALLOC_'))),
      KUBECONFIG: kubeconfigPath,
      WATCH_NAMESPACES: NS,
      OPERATOR_NAMESPACE: NS,
      HTTP_PORT: String(port),
      LOG_LEVEL: 'warn',
      RESYNC_SECONDS: String(RESYNC_SECONDS),
      LEADER_ELECT: 'false',
      MAX_CONCURRENT_RECONCILES: '4',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  // Made at once, so the cleanup also waits correctly for an operator that already died (e.g. over its memory limit).
  const exited = new Promise((resolve) => operator.once('exit', resolve));
  try {
    await waitUntil('operator ready', async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200, {
      timeoutMs: 30_000,
    });

    const created = new Map<string, number>();
    const load0 = loadavg()[0]!;
    const rssAtStart = procStats(operator.pid!).rssMb;

    // 0. One CR at a time on an idle operator: each waits for the previous one's children, then 2 s.
    const idle: number[] = [];
    for (let i = 0; i < IDLE_SAMPLES; i++) {
      const name = `idle${i}`;
      created.set(name, performance.now());
      await client.create(platform(NS, name));
      await waitUntil(`${name} fully created`, async () => done.has(name), { timeoutMs: 60_000 });
      idle.push(done.get(name)! - created.get(name)!);
      await new Promise((r) => setTimeout(r, 2000));
    }
    idle.sort((a, b) => a - b);

    // 1. Creation latency over 50 CRs, created at 5 per second.
    for (let i = 0; i < 50; i++) {
      const name = `p${String(i).padStart(3, '0')}`;
      created.set(name, performance.now());
      await client.create(platform(NS, name));
      await new Promise((r) => setTimeout(r, 200));
    }
    await waitUntil('50 platforms fully created', async () => [...created.keys()].every((n) => done.has(n)), { timeoutMs: 300_000 });
    const latencies = [...created]
      .filter(([n]) => n.startsWith('p'))
      .map(([n, t]) => done.get(n)! - t)
      .sort((a, b) => a - b);

    // 2. Grow to 200 CRs, settle, then sample RSS and CPU at steady state.
    for (let i = 50; i < TOTAL - IDLE_SAMPLES; i++) {
      const name = `p${String(i).padStart(3, '0')}`;
      created.set(name, performance.now());
      await client.create(platform(NS, name));
    }
    await waitUntil(`${TOTAL} platforms fully created`, async () => [...created.keys()].every((n) => done.has(n)), { timeoutMs: 600_000 });
    await new Promise((r) => setTimeout(r, 45_000)); // let status writes and requeues settle
    const s0 = procStats(operator.pid!);
    const r0 = await requestsByMethod(port);
    await new Promise((r) => setTimeout(r, (RESYNC_SECONDS + 10) * 1000)); // spans at least one full resync of every CR
    const s1 = procStats(operator.pid!);
    const r1 = await requestsByMethod(port);
    const heap = await heapMiB(port);
    if (nodeArgs.some((a) => a.startsWith('--heapsnapshot-signal'))) operator.kill('SIGUSR2');
    const window = RESYNC_SECONDS + 10;
    const requests = diff(r0, r1);
    const writes = (requests.POST ?? 0) + (requests.PUT ?? 0) + (requests.PATCH ?? 0) + (requests.DELETE ?? 0);
    const rows = [
      ['Machine', `${cpus().length} × ${cpus()[0]?.model.trim()}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`],
      ['Date', new Date().toISOString().slice(0, 10)],
      ['Operator memory limit (cgroup)', memoryLimit ?? 'none'],
      ['Load average (1 min) at the start / at the end', `${load0.toFixed(1)} / ${loadavg()[0]!.toFixed(1)}`],
      [
        `One CR on an idle operator → all children created, p50 (${IDLE_SAMPLES} CRs, one at a time)`,
        `${percentile(idle, 50).toFixed(0)} ms`,
      ],
      ['CR create → all children created, p50 (50 CRs)', `${percentile(latencies, 50).toFixed(0)} ms`],
      ['CR create → all children created, p99 (50 CRs)', `${percentile(latencies, 99).toFixed(0)} ms`],
      [
        `Operator RSS, ${TOTAL} CRs at steady state`,
        `${s1.rssMb.toFixed(0)} MiB (anonymous ${s1.anonMb.toFixed(0)}, file-backed ${s1.fileMb.toFixed(0)})`,
      ],
      ['Operator RSS with no CR, once ready', `${rssAtStart.toFixed(0)} MiB`],
      [`Operator memory, ${TOTAL} CRs at steady state`, heap],
      [`Operator CPU, ${TOTAL} CRs at steady state`, `${(((s1.cpuSeconds - s0.cpuSeconds) / window) * 100).toFixed(1)} % of one core`],
      [`API requests during a ${window} s window with a full resync of ${TOTAL} unchanged CRs`, JSON.stringify(requests)],
      ['Writes (POST/PUT/PATCH/DELETE) in that window', String(writes)],
    ];
    console.log('\n| Measure | Value |\n| --- | --- |');
    for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
  } finally {
    operator.kill('SIGTERM');
    await exited;
    limit?.remove();
    await jobs.stop();
    await statefulSets.stop();
    await deployments.stop();
    await plane.close();
  }
}

await main();
process.exit(0);
