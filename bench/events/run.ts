/**
 * Learning-event ingestion benchmark (not a test):
 *   ./node_modules/.bin/node bench/events/run.ts
 *
 * Starts the harness's real PostgreSQL, Redis and MinIO, the Content Bridge as its own process from
 * its production entry point (services/content-bridge/main.ts, access logs at info level), and a raw
 * node:http and a Koa hello world as baselines, each in its own process, all measured in the same run
 * by the load generator in this process (bench/lib/load.ts):
 *
 *   (a) 1000-event batches from 2 and from 4 concurrent clients: events/s, batch p50/p99 latency;
 *   (b) single events from 100 concurrent clients: events/s (group commit at work);
 *   (c) the kit's floor: an authenticated POST to an unknown route (logs, metrics, JWT, 404);
 *   (d) (a) and (b) again with two bridge replicas on the two cores, the connections spread over
 *       them as a Service spreads them.
 *
 * Several runs; the table reports medians. Afterwards every acknowledged event must be in
 * PostgreSQL. Knobs: BENCH_RUNS (3), BENCH_SECONDS (4), BENCH_SINGLE_CLIENTS (100).
 */
import { randomBytes } from 'node:crypto';
import { cpus, loadavg, totalmem } from 'node:os';
import pg from 'pg';
import { startDependencies } from '../lib/dependencies.ts';
import { startBaseline } from '../lib/baselines.ts';
import { registerStudents } from '../lib/seed.ts';
import { median, runLoad, type LoadOptions, type LoadResult } from '../lib/load.ts';
import { startService, type ServiceProcess } from '../lib/service.ts';
import { eventBatch, singleEvent } from './traffic.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const SINGLE_CLIENTS = Number(process.env.BENCH_SINGLE_CLIENTS ?? 100);
const BATCH_SIZE = 1000;
const STUDENTS = 20;

const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function json(url: string, body: unknown): Promise<any> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const parsed = await res.json();
  if (!res.ok) throw new Error(`${url}: ${res.status} ${JSON.stringify(parsed)}`);
  return parsed;
}

/** Sum and count of the group-commit histogram (requests per commit) of some replicas. */
async function commitStats(replicas: ServiceProcess[]): Promise<{ sum: number; count: number }> {
  let sum = 0;
  let count = 0;
  for (const r of replicas) {
    const text = await (await fetch(`${r.url}/metrics`)).text();
    sum += Number(/^hma_analytics_commit_requests_sum(?:\{[^}]*\})? (\S+)$/m.exec(text)?.[1] ?? NaN);
    count += Number(/^hma_analytics_commit_requests_count(?:\{[^}]*\})? (\S+)$/m.exec(text)?.[1] ?? NaN);
  }
  return { sum, count };
}

interface Scenario {
  name: string;
  clients: number;
  /** Events per acknowledged request (0: not an event scenario, count requests). */
  eventsPerRequest: number;
  replicas: ServiceProcess[];
  load: (prefix: string) => Omit<LoadOptions, 'durationMs'>;
  target?: (s: Summary) => string;
}

interface Summary {
  perSecond: number;
  runs: number[];
  p50: number;
  p99: number;
  cpuUs: number;
  perCommit: number;
}

async function main() {
  const load0 = loadavg();
  log(`${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), load average ${load0.map((l) => l.toFixed(2)).join(' ')}`);
  const deps = await startDependencies(['bench_events']);
  try {
    const adminPassword = `Adm1n-${randomBytes(9).toString('base64url')}`;
    const env = {
      ...deps.serviceEnv('bench_events', 'bench-events'),
      JWT_SECRET: randomBytes(32).toString('hex'),
      ADMIN_EMAIL: 'admin@huntmaster.bench',
      ADMIN_PASSWORD: adminPassword,
      RATE_LIMIT_SCALE: '1000000', // registering the bench's students is not what is measured
    };
    const first = await startService('content-bridge', env);
    deps.onClose(() => first.stop());
    const [raw, koa] = await Promise.all([startBaseline('node:http'), startBaseline('koa')]);
    deps.onClose(() => raw.stop());
    deps.onClose(() => koa.stop());

    const adminLogin = await json(`${first.url}/auth/login`, { email: 'admin@huntmaster.bench', password: adminPassword });
    const students = await registerStudents(first.url, STUDENTS);
    const student = (c: number) => students[c % students.length]!;
    const studentHeaders = (c: number) => ({ authorization: `Bearer ${student(c).token}` });
    const adminHeaders = { authorization: `Bearer ${adminLogin.access_token as string}` };
    const eventsUrl = (replicas: ServiceProcess[]) => replicas.map((r) => `${r.url}/api/analytics/events`);

    const batchTarget = (s: Summary) => `≥ 20,000 events/s and p99 < 200 ms: ${s.perSecond >= 20_000 && s.p99 < 200 ? 'met' : 'NOT met'}`;
    const singleTarget = (s: Summary) => `≥ 5,000 events/s: ${s.perSecond >= 5000 ? 'met' : 'NOT met'}`;
    const single =
      (replicas: ServiceProcess[]): Scenario['load'] =>
      (prefix) => ({
        url: eventsUrl(replicas),
        method: 'POST',
        headers: studentHeaders,
        body: (i, c) => singleEvent(prefix, i, c, student(c).userId),
        concurrency: SINGLE_CLIENTS,
      });
    const batches =
      (replicas: ServiceProcess[], clients: number): Scenario['load'] =>
      (prefix) => ({
        url: eventsUrl(replicas),
        method: 'POST',
        headers: adminHeaders,
        body: (i) => eventBatch(prefix, i, BATCH_SIZE),
        concurrency: clients,
      });
    const helloBody = singleEvent('hello', 0, 0, 'nobody');
    const oneReplica: Scenario[] = [
      {
        name: 'raw node:http hello world (POST, 1 event body)',
        clients: SINGLE_CLIENTS,
        eventsPerRequest: 0,
        replicas: [],
        load: () => ({ url: raw.url, method: 'POST', body: helloBody, concurrency: SINGLE_CLIENTS }),
      },
      {
        name: 'koa hello world (POST, 1 event body)',
        clients: SINGLE_CLIENTS,
        eventsPerRequest: 0,
        replicas: [],
        load: () => ({ url: koa.url, method: 'POST', body: helloBody, concurrency: SINGLE_CLIENTS }),
      },
      {
        name: "bridge: authenticated POST to an unknown route (the kit's floor: logs, metrics, JWT, revocation check, 404)",
        clients: SINGLE_CLIENTS,
        eventsPerRequest: 0,
        replicas: [first],
        load: () => ({
          url: `${first.url}/api/analytics/no-such-route`,
          method: 'POST',
          headers: studentHeaders,
          body: helloBody,
          concurrency: SINGLE_CLIENTS,
          expectStatus: 404,
        }),
      },
      {
        name: 'bridge: single events (JWT, validation, group commit)',
        clients: SINGLE_CLIENTS,
        eventsPerRequest: 1,
        replicas: [first],
        load: single([first]),
        target: singleTarget,
      },
      {
        name: 'bridge: 1000-event batches',
        clients: 2,
        eventsPerRequest: BATCH_SIZE,
        replicas: [first],
        load: batches([first], 2),
        target: batchTarget,
      },
      {
        name: 'bridge: 1000-event batches',
        clients: 4,
        eventsPerRequest: BATCH_SIZE,
        replicas: [first],
        load: batches([first], 4),
        target: batchTarget,
      },
    ];

    let runNo = 0;
    let acknowledged = 0;
    const measure = async (s: Scenario): Promise<Summary> => {
      const runs: LoadResult[] = [];
      const cpu = () => s.replicas.reduce((sum, r) => sum + r.cpuSeconds(), 0);
      const commits0 = s.eventsPerRequest ? await commitStats(s.replicas) : undefined;
      let cpuSeconds = 0;
      for (let run = 0; run <= RUNS; run++) {
        const cpu0 = cpu();
        const r = await runLoad({ ...s.load(`r${++runNo}`), durationMs: run === 0 ? 1000 : SECONDS * 1000 });
        // Every acknowledged request counts, warm-ups included: the durability check needs all of them.
        if (s.eventsPerRequest) acknowledged += (r.allStatuses['200'] ?? 0) * s.eventsPerRequest;
        if (r.errors) log(`${s.name}: ${r.errors} unexpected answers ${JSON.stringify(r.statuses)}`);
        if (run === 0) continue; // warm-up
        cpuSeconds += cpu() - cpu0;
        runs.push(r);
      }
      const commits1 = commits0 ? await commitStats(s.replicas) : undefined;
      const perSecond = (r: LoadResult) => r.rps * (s.eventsPerRequest || 1);
      const summary: Summary = {
        perSecond: median(runs.map(perSecond)),
        runs: runs.map(perSecond),
        p50: median(runs.map((r) => r.p50Ms)),
        p99: median(runs.map((r) => r.p99Ms)),
        cpuUs: (cpuSeconds * 1e6) / runs.reduce((n, r) => n + r.requests, 0),
        perCommit: commits0 && commits1 ? (commits1.sum - commits0.sum) / (commits1.count - commits0.count) : NaN,
      };
      log(`${s.name} (${s.clients} clients, ${s.replicas.length} replica(s)): ${fmt(summary.perSecond)}/s, p99 ${fmt(summary.p99, 1)} ms`);
      return summary;
    };

    const results: Array<[Scenario, Summary]> = [];
    for (const s of oneReplica) results.push([s, await measure(s)]);
    const second = await startService('content-bridge', env);
    deps.onClose(() => second.stop());
    const both = [first, second];
    const twoReplicas: Scenario[] = [
      {
        name: 'bridge ×2 replicas: single events',
        clients: SINGLE_CLIENTS,
        eventsPerRequest: 1,
        replicas: both,
        load: single(both),
        target: singleTarget,
      },
      {
        name: 'bridge ×2 replicas: 1000-event batches',
        clients: 2,
        eventsPerRequest: BATCH_SIZE,
        replicas: both,
        load: batches(both, 2),
        target: batchTarget,
      },
    ];
    for (const s of twoReplicas) results.push([s, await measure(s)]);

    const db = new pg.Client({ connectionString: deps.postgresUrl('bench_events') });
    await db.connect();
    const stored = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM content.learning_events')).rows[0]!.n;
    await db.end();

    const rawRps = results[0]![1].perSecond;
    const koaRps = results[1]![1].perSecond;
    const load1 = loadavg();
    const lines = [
      `### Learning-event ingestion, ${new Date().toISOString().slice(0, 10)}`,
      '',
      `${cpus().length} × ${cpus()[0]?.model.trim() ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; load average ${load0.map((x) => x.toFixed(2)).join(' ')} before, ${load1.map((x) => x.toFixed(2)).join(' ')} after. ` +
        `${RUNS} runs × ${SECONDS} s after a warm-up, medians; every service and baseline in its own process; PostgreSQL (the harness's: fsync off), Redis and MinIO on the same machine.`,
      '',
      '| scenario | clients | median throughput | runs | p50 ms | p99 ms | server CPU µs/request | requests per commit | vs node:http | vs koa | target |',
      '|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---|',
      ...results.map(([s, r]) => {
        const unit = s.eventsPerRequest ? 'events/s' : 'req/s';
        const cpu = s.replicas.length ? fmt(r.cpuUs) : '';
        const perCommit = Number.isNaN(r.perCommit) ? '' : fmt(r.perCommit, 1);
        return `| ${s.name} | ${s.clients} | ${fmt(r.perSecond)} ${unit} | ${r.runs.map((x) => fmt(x)).join(' / ')} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ${cpu} | ${perCommit} | ${fmt(r.perSecond / rawRps, 2)} | ${fmt(r.perSecond / koaRps, 2)} | ${s.target?.(r) ?? ''} |`;
      }),
      '',
      `Durability check: ${fmt(acknowledged)} events acknowledged (warm-ups included), ${fmt(stored)} rows in content.learning_events (${stored === acknowledged ? 'equal' : 'MISMATCH'}). ` +
        'Latencies are per request (per 1000-event batch for batches). Ratios compare events/s with baseline requests/s.',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    if (stored !== acknowledged) process.exitCode = 1;
  } finally {
    await deps.close();
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? err}\n`);
  process.exitCode = 1;
});
