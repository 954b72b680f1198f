/**
 * Learning-event ingestion benchmark (not a test). Starts the harness's real PostgreSQL, Redis and
 * MinIO and the Content Bridge in-process, plus a raw node:http and a Koa hello-world as baselines
 * measured in the same run, and drives all of them from a load generator in a worker thread:
 *
 *   (a) 1000-event batches from a few concurrent clients: events/s, batch p50/p99 latency;
 *   (b) single events from 100 concurrent clients: events/s (group commit at work).
 *
 * Batches are measured with 2 and with 4 concurrent clients (closed loop: more clients, more
 * queueing per batch). Several runs; the table reports medians. Usage:
 *   ./node_modules/.bin/node bench/events/run.ts
 * Knobs: BENCH_RUNS (3), BENCH_SECONDS (4), BENCH_SINGLE_CLIENTS (100).
 */
import http from 'node:http';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';
import Koa from 'koa';
import { startMinio, startPostgres, startRedis } from '../../tests/harness/index.ts';
import { analyticsRuntime } from '../../services/content-bridge/analytics/routes.ts';
import { startBenchBridge } from './bridge.ts';
import type { LoadJob, LoadResult } from './loadgen.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const SINGLE_CLIENTS = Number(process.env.BENCH_SINGLE_CLIENTS ?? 100);
const BATCH_SIZE = 1000;
const STUDENTS = 20;

function runInWorker(job: LoadJob): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./loadgen.ts', import.meta.url), { workerData: { job } });
    worker.once('message', (msg: { result?: LoadResult; error?: string }) => {
      if (msg.result) resolve(msg.result);
      else reject(new Error(msg.error));
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const pct = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! : NaN;

async function listenOn(server: http.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function json(url: string, body: unknown, token?: string): Promise<any> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const parsed = await res.json();
  if (!res.ok) throw new Error(`${url}: ${res.status} ${JSON.stringify(parsed)}`);
  return parsed;
}

interface Sample {
  perSecond: number;
  p50: number;
  p99: number;
  ok: number;
  errors: number;
  statuses: Record<string, number>;
}

async function main() {
  const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);
  log(
    `${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  log('starting PostgreSQL, Redis and MinIO');
  const [postgres, redis, minio] = await Promise.all([startPostgres(), startRedis(), startMinio()]);
  const closers: Array<() => Promise<unknown>> = [() => postgres.close(), () => redis.close(), () => minio.close()];
  const shutdown = async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
  };
  process.once('SIGINT', () => void shutdown().then(() => process.exit(130)));
  try {
    const bridge = await startBenchBridge({
      postgresUrl: postgres.url,
      redisUrl: redis.url,
      minio: { endpoint: minio.endpoint, accessKey: minio.accessKey, secretKey: minio.secretKey },
    });
    closers.push(() => bridge.close());

    const raw = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"hello":"world"}');
      });
    });
    const rawPort = await listenOn(raw);
    closers.push(() => new Promise((r) => raw.close(r)));
    const koa = new Koa();
    koa.use((ctx) => {
      ctx.body = { hello: 'world' };
    });
    const koaServer = http.createServer(koa.callback());
    const koaPort = await listenOn(koaServer);
    closers.push(() => new Promise((r) => koaServer.close(r)));

    const admin = await json(`${bridge.url}/auth/login`, { username: 'admin', password: bridge.adminPassword });
    const students: Array<{ token: string; userId: string }> = [];
    for (let i = 0; i < STUDENTS; i++) {
      const username = `bench_student_${i}`;
      const password = `bench-password-${i}-long`;
      const reg = await json(`${bridge.url}/auth/register`, { username, email: `${username}@huntmaster.bench`, password });
      const login = await json(`${bridge.url}/auth/login`, { username, password });
      students.push({ token: login.access_token, userId: reg.user.user_id });
    }
    const adminClient = [{ token: admin.access_token as string, userId: 'bench-admin' }];

    let runNo = 0;
    const batchJob = (clients: number, ms: number): LoadJob => ({
      port: bridge.port,
      path: '/api/analytics/events',
      concurrency: clients,
      maxRequests: 1e9,
      maxDurationMs: ms,
      kind: 'batch',
      batchSize: BATCH_SIZE,
      clients: adminClient,
      prefix: `b${runNo}`,
    });
    const scenarios = {
      raw: (ms: number): LoadJob => ({
        port: rawPort,
        path: '/',
        concurrency: SINGLE_CLIENTS,
        maxRequests: 1e9,
        maxDurationMs: ms,
        kind: 'single',
        batchSize: 1,
        clients: students,
        prefix: `r${runNo}`,
      }),
      koa: (ms: number): LoadJob => ({
        port: koaPort,
        path: '/',
        concurrency: SINGLE_CLIENTS,
        maxRequests: 1e9,
        maxDurationMs: ms,
        kind: 'single',
        batchSize: 1,
        clients: students,
        prefix: `k${runNo}`,
      }),
      // The kit's per-request floor: request id, logs, metrics, JWT + revocation check, router miss (404).
      floor: (ms: number): LoadJob => ({
        port: bridge.port,
        path: '/api/analytics/no-such-route',
        concurrency: SINGLE_CLIENTS,
        maxRequests: 1e9,
        maxDurationMs: ms,
        kind: 'single',
        batchSize: 1,
        clients: students,
        prefix: `f${runNo}`,
      }),
      single: (ms: number): LoadJob => ({
        port: bridge.port,
        path: '/api/analytics/events',
        concurrency: SINGLE_CLIENTS,
        maxRequests: 1e9,
        maxDurationMs: ms,
        kind: 'single',
        batchSize: 1,
        clients: students,
        prefix: `s${runNo}`,
      }),
      batch2: (ms: number) => batchJob(2, ms),
      batch4: (ms: number) => batchJob(4, ms),
    };
    type Name = keyof typeof scenarios;
    const samples: Record<Name, Sample[]> = { raw: [], koa: [], floor: [], single: [], batch2: [], batch4: [] };
    const writer = analyticsRuntime(bridge.bridge.context).writer;
    const groupSizes: number[] = [];
    let acceptedEvents = 0;

    const measure = async (name: Name, ms: number, record: boolean) => {
      runNo++;
      const before = { ...writer.stats };
      const r = await runInWorker(scenarios[name](ms));
      const perRequest = name.startsWith('batch') ? BATCH_SIZE : 1;
      if (name === 'single' || name.startsWith('batch')) acceptedEvents += r.ok * perRequest;
      if (name === 'single' && record)
        groupSizes.push((writer.stats.requests - before.requests) / Math.max(1, writer.stats.flushes - before.flushes));
      const sample: Sample = {
        // The floor scenario's answers are all 404s by design: count every answer.
        perSecond: ((name === 'floor' ? r.requests - (r.statuses['0'] ?? 0) : r.ok) * perRequest) / (r.elapsedMs / 1000),
        p50: pct(r.latenciesMs, 50),
        p99: pct(r.latenciesMs, 99),
        ok: r.ok,
        errors: r.errors,
        statuses: r.statuses,
      };
      if (r.errors && name !== 'floor') log(`${name}: ${r.errors} failed requests ${JSON.stringify(r.statuses)}`);
      if (record) samples[name].push(sample);
      log(
        `${record ? 'run' : 'warm-up'} ${name}: ${sample.perSecond.toFixed(0)}/s p50 ${sample.p50.toFixed(1)} ms p99 ${sample.p99.toFixed(1)} ms`,
      );
    };

    for (const name of Object.keys(scenarios) as Name[]) await measure(name, 1000, false);
    for (let run = 1; run <= RUNS; run++) {
      log(`run ${run}/${RUNS}`);
      for (const name of Object.keys(scenarios) as Name[]) await measure(name, SECONDS * 1000, true);
    }

    const { rows } = await bridge.deps.db.query<{ n: number }>('SELECT count(*)::int AS n FROM content.learning_events');
    const med = (name: Name, key: keyof Sample) => median(samples[name].map((s) => s[key] as number));
    const rawRps = med('raw', 'perSecond');
    const koaRps = med('koa', 'perSecond');
    const floor = med('floor', 'perSecond');
    const single = med('single', 'perSecond');
    const batch2 = med('batch2', 'perSecond');
    const batch4 = med('batch4', 'perSecond');
    const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
    const runsOf = (name: Name) => samples[name].map((s) => fmt(s.perSecond)).join(' / ');
    const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');

    const lines = [
      `### Learning-event ingestion: ${RUNS} runs × ${SECONDS} s, medians (${os.cpus().length} CPUs, shared machine)`,
      '',
      '| scenario | clients | median throughput | runs | p50 | p99 | vs raw node:http | vs koa | target |',
      '|---|---:|---:|---|---:|---:|---:|---:|---|',
      `| raw node:http hello-world (POST, 1 event body) | ${SINGLE_CLIENTS} | ${fmt(rawRps)} req/s | ${runsOf('raw')} | ${fmt(med('raw', 'p50'), 1)} ms | ${fmt(med('raw', 'p99'), 1)} ms | 1.00 | ${fmt(rawRps / koaRps, 2)} | baseline |`,
      `| koa hello-world (POST, 1 event body) | ${SINGLE_CLIENTS} | ${fmt(koaRps)} req/s | ${runsOf('koa')} | ${fmt(med('koa', 'p50'), 1)} ms | ${fmt(med('koa', 'p99'), 1)} ms | ${fmt(koaRps / rawRps, 2)} | 1.00 | baseline |`,
      `| bridge: authenticated POST to an unknown route (the kit's floor: logs, metrics, JWT, revocation check, 404) | ${SINGLE_CLIENTS} | ${fmt(floor)} req/s | ${runsOf('floor')} | ${fmt(med('floor', 'p50'), 1)} ms | ${fmt(med('floor', 'p99'), 1)} ms | ${fmt(floor / rawRps, 2)} | ${fmt(floor / koaRps, 2)} | reference |`,
      `| bridge: single events (JWT, validation, group commit) | ${SINGLE_CLIENTS} | ${fmt(single)} events/s | ${runsOf('single')} | ${fmt(med('single', 'p50'), 1)} ms | ${fmt(med('single', 'p99'), 1)} ms | ${fmt(single / rawRps, 2)} | ${fmt(single / koaRps, 2)} | ≥ 5,000 events/s: ${verdict(single >= 5000)} |`,
      ...(['batch2', 'batch4'] as const).map((name) => {
        const rate = name === 'batch2' ? batch2 : batch4;
        const p99 = med(name, 'p99');
        return `| bridge: 1000-event batches | ${name === 'batch2' ? 2 : 4} | ${fmt(rate)} events/s | ${runsOf(name)} | ${fmt(med(name, 'p50'), 1)} ms | ${fmt(p99, 1)} ms | ${fmt(rate / rawRps, 2)} | ${fmt(rate / koaRps, 2)} | ≥ 20,000 events/s and p99 < 200 ms: ${verdict(rate >= 20_000 && p99 < 200)} |`;
      }),
      '',
      `Single events reach ${fmt((100 * single) / floor)} % of the kit floor. ` +
        `Group commit: median ${fmt(median(groupSizes), 1)} single-event requests per transaction. ` +
        `Durability check: ${fmt(acceptedEvents)} events acknowledged, ${fmt(rows[0]!.n)} rows in content.learning_events ` +
        `(${rows[0]!.n === acceptedEvents ? 'equal' : 'MISMATCH'}). Latencies are per request (per 1000-event batch for batches). ` +
        'Ratios compare events/s with baseline requests/s. PostgreSQL is the harness server (fsync=off, synchronous_commit=off).',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await shutdown();
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? err}\n`);
  process.exitCode = 1;
});
