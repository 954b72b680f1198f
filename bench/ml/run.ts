/**
 * ML Server benchmark (a plain script, not a test):
 *   ./node_modules/.bin/node bench/ml/run.ts
 *
 * Starts real PostgreSQL, Redis and MinIO (tests/harness), the ML Server in-process with its
 * production wiring (access logs at info level, written synchronously to /dev/null as pino writes stdout; 10% prediction sampling), and
 * two baselines in the same process: a raw node:http hello world and a Koa hello world. The load
 * generator (bench/ml/load.ts) runs in a worker thread. Every scenario gets a warm-up run, then
 * BENCH_RUNS measured runs (default 5) of BENCH_DURATION_MS (default 3000); the table shows medians.
 *
 * Scenarios: /predict, one row, uncached (every request has new inputs) and cached (the same inputs),
 * on a synthetic 100-tree depth-6 GBDT over 20 features; a 1,000-row batch (sequential requests);
 * loading a ~10 MB artifact (fetch from MinIO + SHA-256 + parse + validate), and the engine's
 * loadModel alone on the same bytes.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import Koa from 'koa';
import pg from 'pg';
import { pino } from 'pino';
import { signAccessToken, tokenSettingsFromConfig } from '../../services/kit/auth/tokens.ts';
import { loadMigrations, migrate } from '../../services/kit/deps/migrations.ts';
import { listen } from '../../services/kit/http/server.ts';
import { createLogger } from '../../services/kit/observability/logger.ts';
import { loadModel } from '../../services/ml-server/inference/index.ts';
import { buildMlServer, createMlDeps, prepareMlServer, startBackground, stopBackground } from '../../services/ml-server/app.ts';
import { loadMlServerConfig } from '../../services/ml-server/config.ts';
import { MIGRATIONS_DIR } from '../../services/ml-server/paths.ts';
import { startMinio, startPostgres, startRedis } from '../../tests/harness/index.ts';
import { gbdtOfSize, syntheticGbdt } from './gbdt.ts';
import type { LoadJob, LoadResult } from './load.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 3000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const FEATURES = Array.from({ length: 20 }, (_, i) => `f${i}`);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const fmt = (x: number, digits = 0) => x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function load(job: LoadJob): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./load.ts', import.meta.url), { workerData: job });
    worker.once('message', (msg: { ok: boolean; result?: LoadResult; error?: string }) => {
      void worker.terminate();
      if (msg.ok) resolve(msg.result!);
      else reject(new Error(msg.error));
    });
    worker.once('error', reject);
  });
}

async function measure(
  name: string,
  job: Omit<LoadJob, 'durationMs' | 'maxRequests'> & { maxRequests?: number },
  durationMs = DURATION_MS,
) {
  await load({ ...job, durationMs: Math.min(1000, durationMs), maxRequests: job.maxRequests ?? Infinity }); // warm-up
  const runs: LoadResult[] = [];
  // CPU time of this (the server's) thread per request: much less sensitive to the machine's other
  // load than req/s, which is what a shared 2-core machine makes noisy.
  const cpu0 = process.threadCpuUsage();
  for (let i = 0; i < RUNS; i++) {
    const r = await load({ ...job, durationMs, maxRequests: job.maxRequests ?? Infinity });
    const bad = Object.entries(r.statuses).filter(([s]) => s !== '200');
    if (bad.length || r.errors) throw new Error(`${name}: unexpected answers ${JSON.stringify(r.statuses)}, ${r.errors} errors`);
    runs.push(r);
  }
  const cpu1 = process.threadCpuUsage();
  const cpuUsPerRequest = (cpu1.user - cpu0.user + cpu1.system - cpu0.system) / runs.reduce((a, r) => a + r.requests, 0);
  const result = {
    cpuUs: cpuUsPerRequest,
    name,
    rps: median(runs.map((r) => r.rps)),
    p50: median(runs.map((r) => r.latencyMs.p50)),
    p95: median(runs.map((r) => r.latencyMs.p95)),
    p99: median(runs.map((r) => r.latencyMs.p99)),
    cachedShare: median(runs.map((r) => r.cachedTrue / r.requests)),
    allRps: runs.map((r) => Math.round(r.rps)),
  };
  process.stderr.write(
    `  ${name}: ${fmt(result.rps)} req/s (runs ${result.allRps.join(', ')}), p50 ${fmt(result.p50, 2)} ms, ${fmt(cpuUsPerRequest)} µs CPU/request\n`,
  );
  return result;
}

async function main() {
  const load0 = loadavg();
  process.stderr.write(`starting PostgreSQL, Redis and MinIO (load average ${load0.map((x) => x.toFixed(2)).join(' ')})\n`);
  const [postgres, redis, minio] = await Promise.all([startPostgres(), startRedis(), startMinio()]);
  const closers: Array<() => Promise<unknown>> = [() => postgres.close(), () => redis.close(), () => minio.close()];
  try {
    const admin = new pg.Client({ connectionString: postgres.url });
    await admin.connect();
    await admin.query('CREATE DATABASE bench_ml');
    await admin.end();
    const config = loadMlServerConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      DATABASE_URL: postgres.urlFor('bench_ml'),
      REDIS_URL: redis.url,
      S3_ENDPOINT: minio.endpoint,
      S3_ACCESS_KEY: minio.accessKey,
      S3_SECRET_KEY: minio.secretKey,
      S3_BUCKET: 'bench-ml',
      JWT_SECRET: randomUUID() + randomUUID(),
    });
    const logger = createLogger({
      service: 'ml-server',
      level: config.LOG_LEVEL,
      destination: pino.destination({ dest: '/dev/null', sync: true }),
    });
    const { deps, readDb } = createMlDeps(config);
    await migrate(deps.db, 'ml-server', loadMigrations(MIGRATIONS_DIR));
    const ml = buildMlServer({ config, deps, logger, readDb });
    await prepareMlServer(ml.context);
    const running = await listen({
      app: ml.app,
      health: ml.health,
      logger,
      port: 0,
      host: '127.0.0.1',
      graceMs: 1000,
      closers: [() => stopBackground(ml.context), () => deps.db.close(), () => deps.cache.close()],
    });
    await startBackground(ml.context);
    closers.unshift(() => running.shutdown('benchmark finished'));
    const base = `http://127.0.0.1:${running.port}`;
    const token = signAccessToken(tokenSettingsFromConfig(config), { userId: randomUUID(), username: 'bench', roles: ['admin'] }).token;
    const auth = { authorization: `Bearer ${token}` };

    const raw = createServer((_req, res) => res.end('hello world'));
    await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r));
    const koa = new Koa();
    koa.use((ctx) => {
      ctx.body = 'hello world';
    });
    const koaServer = createServer(koa.callback());
    await new Promise<void>((r) => koaServer.listen(0, '127.0.0.1', r));
    closers.unshift(
      async () => raw.close(),
      async () => koaServer.close(),
    );

    const register = async (name: string, artifact: string) => {
      const created = await fetch(`${base}/models`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ name, task: 'classification', format: 'xgboost' }),
      });
      if (created.status !== 201) throw new Error(`create ${name}: ${created.status} ${await created.text()}`);
      const form = new FormData();
      form.append('file', new Blob([artifact], { type: 'application/json' }), 'model.json');
      const t0 = performance.now();
      const up = await fetch(`${base}/models/${name}/versions`, { method: 'POST', headers: auth, body: form });
      const ms = performance.now() - t0;
      if (up.status !== 201) throw new Error(`upload ${name}: ${up.status} ${await up.text()}`);
      return ms;
    };
    const gbdt = JSON.stringify(syntheticGbdt({ trees: 100, depth: 6, features: FEATURES.length }));
    await register('gbdt100', gbdt);
    const big = gbdtOfSize(10 * 1024 * 1024, 6, FEATURES.length);
    const bigUploadMs = await register('gbdt10mb', big.artifact);
    process.stderr.write(
      `models: gbdt100 (${fmt(gbdt.length / 1024)} KiB), gbdt10mb (${big.trees} trees, ${(big.artifact.length / 1024 / 1024).toFixed(1)} MiB)\n`,
    );

    const url = `http://127.0.0.1`;
    const results = [];
    results.push(
      await measure('node:http hello world', {
        url: `${url}:${(raw.address() as { port: number }).port}/`,
        method: 'GET',
        headers: {},
        body: { kind: 'none' },
        concurrency: CONCURRENCY,
      }),
    );
    results.push(
      await measure('koa hello world', {
        url: `${url}:${(koaServer.address() as { port: number }).port}/`,
        method: 'GET',
        headers: {},
        body: { kind: 'none' },
        concurrency: CONCURRENCY,
      }),
    );
    const fixedRow = Object.fromEntries(FEATURES.map((f, i) => [f, i * 4.5]));
    const uncached = await measure('/predict 1 row, uncached', {
      url: `${base}/predict`,
      method: 'POST',
      headers: auth,
      body: { kind: 'vary', model: 'gbdt100', features: FEATURES, rows: 1 },
      concurrency: CONCURRENCY,
    });
    const cached = await measure('/predict 1 row, cached', {
      url: `${base}/predict`,
      method: 'POST',
      headers: auth,
      body: { kind: 'fixed', text: JSON.stringify({ model: 'gbdt100', inputs: fixedRow }) },
      concurrency: CONCURRENCY,
    });
    results.push(uncached, cached);
    if (uncached.cachedShare > 0) throw new Error('the uncached scenario hit the cache');
    if (cached.cachedShare < 0.99) throw new Error(`the cached scenario missed the cache (${cached.cachedShare})`);
    const batch = await measure(
      '/predict 1,000 rows, uncached (sequential)',
      {
        url: `${base}/predict`,
        method: 'POST',
        headers: auth,
        body: { kind: 'vary', model: 'gbdt100', features: FEATURES, rows: 1000 },
        concurrency: 1,
        maxRequests: 40,
      },
      20_000,
    );

    // Loading the ~10 MB artifact: fetch + SHA-256 + parse + validate, through the server's own path.
    const { model, version } = await ml.context.predictor.resolve('gbdt10mb');
    const loads: number[] = [];
    for (let i = 0; i < RUNS + 1; i++) {
      ml.context.models.clear();
      const t0 = performance.now();
      await ml.context.predictor.load(model, version);
      if (i > 0) loads.push(performance.now() - t0); // the first one warms the JIT
    }
    const bytes = Buffer.from(big.artifact);
    const engineOnly: number[] = [];
    for (let i = 0; i < RUNS + 1; i++) {
      const t0 = performance.now();
      loadModel(bytes);
      if (i > 0) engineOnly.push(performance.now() - t0);
    }
    ml.context.models.clear();
    const t0 = performance.now();
    const cold = await fetch(`${base}/predict`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gbdt10mb', inputs: fixedRow }),
    });
    await cold.text();
    const coldMs = performance.now() - t0;

    const [rawR, koaR] = results;
    const ratio = (x: number, y: number) => `${(x / y).toFixed(2)}×`;
    const load1 = loadavg();
    const lines = [
      `### ML Server benchmark`,
      '',
      `Node ${process.version}, ${cpus().length} CPU(s) (${cpus()[0]?.model ?? '?'}), shared machine: load average ${load0.map((x) => x.toFixed(2)).join(' ')} before, ${load1.map((x) => x.toFixed(2)).join(' ')} after.`,
      `Medians of ${RUNS} runs of ${DURATION_MS / 1000} s each after a warm-up, ${CONCURRENCY} keep-alive connections from a worker-thread load generator; server, baselines, PostgreSQL, Redis and MinIO on the same machine.`,
      `Model: synthetic XGBoost binary:logistic, 100 trees of depth 6 (127 nodes each), 20 features.`,
      '',
      '| scenario | req/s | p50 ms | p99 ms | server CPU µs/req | req/s per core (1e6 / CPU µs) | vs node:http | vs koa | target | met |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |',
      ...[rawR!, koaR!, uncached, cached].map((r) => {
        const target = r === uncached ? 3000 : r === cached ? 8000 : undefined;
        return `| ${r.name} | ${fmt(r.rps)} | ${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} | ${fmt(r.cpuUs)} | ${fmt(1e6 / r.cpuUs)} | ${ratio(r.rps, rawR!.rps)} | ${ratio(r.rps, koaR!.rps)} | ${target ? `≥ ${fmt(target)} req/s` : ''} | ${target ? (r.rps >= target ? 'yes' : 'no') : ''} |`;
      }),
      `| ${batch.name} | ${fmt(batch.rps, 1)} | ${fmt(batch.p50, 2)} | ${fmt(batch.p99, 2)} | ${fmt(batch.cpuUs)} | | | | p50 < 50 ms | ${batch.p50 < 50 ? 'yes' : 'no'} |`,
      '',
      '| load of the ~10 MB artifact | median ms | target | met |',
      '| --- | ---: | --- | --- |',
      `| fetch from MinIO + SHA-256 + parse + validate (${big.trees} trees, ${(big.artifact.length / 1024 / 1024).toFixed(1)} MiB) | ${fmt(median(loads), 1)} | < 1000 ms | ${median(loads) < 1000 ? 'yes' : 'no'} |`,
      `| loadModel alone (parse + validate) | ${fmt(median(engineOnly), 1)} | | |`,
      `| first /predict on the cold model (load included), once | ${fmt(coldMs, 1)} | | |`,
      `| upload + validation (POST /models/{name}/versions), once | ${fmt(bigUploadMs, 1)} | | |`,
      '',
      `Runs (req/s): ${results.map((r) => `${r.name}: ${r.allRps.join(', ')}`).join('; ')}.`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    for (const close of closers) await close().catch(() => undefined);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`benchmark failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
