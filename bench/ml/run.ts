/**
 * ML Server benchmark (a plain script, not a test):
 *   ./node_modules/.bin/node bench/ml/run.ts
 *
 * Starts real PostgreSQL, Redis and MinIO (tests/harness), the ML Server as its own process from its
 * production entry point (services/ml-server/main.ts: access logs at info level, 10 % prediction
 * sampling), and two baselines, each in its own process: a raw node:http and a Koa hello world. The
 * load generator (bench/lib/load.ts) runs in this process. Every scenario gets a warm-up run, then
 * BENCH_RUNS measured runs (default 5) of BENCH_DURATION_MS (default 3000); the table shows medians.
 *
 * Scenarios: /predict, one row, uncached (every request has new inputs) and cached (the same inputs),
 * on a synthetic 100-tree depth-6 GBDT over 20 features; a 1,000-row batch (sequential requests);
 * loading a ~10 MB artifact: the first /predict on each of several fresh versions of it (fetch from
 * MinIO + SHA-256 + parse + validate + predict), and the engine's loadModel alone on the same bytes.
 */
import { randomUUID } from 'node:crypto';
import { cpus, loadavg, totalmem } from 'node:os';
import { signAccessToken, tokenSettingsFromConfig } from '../../services/kit/auth/tokens.ts';
import { loadModel } from '../../services/ml-server/inference/index.ts';
import { loadMlServerConfig } from '../../services/ml-server/config.ts';
import { startDependencies } from '../lib/dependencies.ts';
import { startBaseline } from '../lib/baselines.ts';
import { median, runLoad, type LoadOptions, type LoadResult } from '../lib/load.ts';
import { startService, type ServiceProcess } from '../lib/service.ts';
import { gbdtOfSize, syntheticGbdt } from './gbdt.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 3000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const FEATURES = Array.from({ length: 20 }, (_, i) => `f${i}`);
const BIG_VERSIONS = RUNS;

const fmt = (x: number, digits = 0) => x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

interface Measured {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  /** Server CPU per request, µs (NaN for baselines, whose process is not watched). */
  cpuUs: number;
  matchedShare: number;
  allRps: number[];
}

async function measure(name: string, options: LoadOptions, servers: ServiceProcess[] = []): Promise<Measured> {
  await runLoad({ ...options, durationMs: Math.min(1000, options.durationMs) }); // warm-up
  const runs: LoadResult[] = [];
  const cpu = () => (servers.length ? servers.reduce((sum, s) => sum + s.cpuSeconds(), 0) : NaN);
  const cpu0 = cpu();
  for (let i = 0; i < RUNS; i++) {
    const r = await runLoad(options);
    if (r.errors) throw new Error(`${name}: unexpected answers ${JSON.stringify(r.statuses)}`);
    runs.push(r);
  }
  const cpu1 = cpu();
  const total = runs.reduce((n, r) => n + r.requests, 0);
  // CPU ticks include the warm-up gaps between runs, which are idle; the count is of measured requests only.
  const result: Measured = {
    name,
    rps: median(runs.map((r) => r.rps)),
    p50: median(runs.map((r) => r.p50Ms)),
    p99: median(runs.map((r) => r.p99Ms)),
    cpuUs: ((cpu1 - cpu0) * 1e6) / total,
    matchedShare: median(runs.map((r) => r.matches / r.requests)),
    allRps: runs.map((r) => Math.round(r.rps)),
  };
  process.stderr.write(`  ${name}: ${fmt(result.rps)} req/s (runs ${result.allRps.join(', ')}), p50 ${fmt(result.p50, 2)} ms\n`);
  return result;
}

function randomRows(i: number, rows: number): string {
  const out = [];
  for (let r = 0; r < rows; r++) {
    const row: Record<string, number> = {};
    for (const f of FEATURES) row[f] = Math.random() * 100;
    out.push(row);
  }
  out[0]!.f0 = (i % 100_000) / 1000; // the counter too, so two requests never share inputs even by chance
  return JSON.stringify(rows === 1 ? out[0] : out);
}

async function main() {
  const load0 = loadavg();
  process.stderr.write(`starting PostgreSQL, Redis and MinIO (load average ${load0.map((x) => x.toFixed(2)).join(' ')})\n`);
  const deps = await startDependencies(['bench_ml']);
  try {
    const env = {
      ...deps.serviceEnv('bench_ml', 'bench-ml'),
      JWT_SECRET: randomUUID() + randomUUID(),
    };
    const server = await startService('ml-server', env);
    deps.onClose(() => server.stop());
    const [raw, koa] = await Promise.all([startBaseline('node:http'), startBaseline('koa')]);
    deps.onClose(() => raw.stop());
    deps.onClose(() => koa.stop());

    const config = loadMlServerConfig(env);
    const token = signAccessToken(tokenSettingsFromConfig(config), { userId: randomUUID(), username: 'bench', roles: ['admin'] }).token;
    const auth = { authorization: `Bearer ${token}` };
    const base = server.url;

    const created = new Set<string>();
    const register = async (name: string, artifact: string) => {
      if (!created.has(name)) {
        const res = await fetch(`${base}/models`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json' },
          body: JSON.stringify({ name, task: 'classification', format: 'xgboost' }),
        });
        if (res.status !== 201) throw new Error(`create ${name}: ${res.status} ${await res.text()}`);
        created.add(name);
      }
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
    const uploads: number[] = [];
    for (let v = 0; v < BIG_VERSIONS; v++) uploads.push(await register('gbdt10mb', big.artifact));
    process.stderr.write(
      `models: gbdt100 (${fmt(gbdt.length / 1024)} KiB), gbdt10mb × ${BIG_VERSIONS} versions (${big.trees} trees, ${(big.artifact.length / 1024 / 1024).toFixed(1)} MiB)\n`,
    );

    const common = { concurrency: CONCURRENCY, durationMs: DURATION_MS };
    const rawR = await measure('node:http hello world', { ...common, url: raw.url });
    const koaR = await measure('koa hello world', { ...common, url: koa.url });
    const fixedRow = Object.fromEntries(FEATURES.map((f, i) => [f, i * 4.5]));
    const predict = { ...common, url: `${base}/predict`, method: 'POST', headers: auth, countMatches: /"cached":true/ };
    const uncached = await measure(
      '/predict 1 row, uncached',
      { ...predict, body: (i) => `{"model":"gbdt100","inputs":${randomRows(i, 1)}}` },
      [server],
    );
    const cachedBody = JSON.stringify({ model: 'gbdt100', inputs: fixedRow });
    const cached = await measure('/predict 1 row, cached', { ...predict, body: cachedBody }, [server]);
    // Two replicas on the two cores, the connections spread over them as a Service spreads them.
    const second = await startService('ml-server', env);
    deps.onClose(() => second.stop());
    const raw2 = await startBaseline('node:http');
    deps.onClose(() => raw2.stop());
    const rawTwo = await measure('node:http hello world, 2 processes', { ...common, url: [raw.url, raw2.url] });
    const replicas = [server, second];
    const uncached2 = await measure(
      '/predict 1 row, uncached, 2 replicas',
      { ...predict, url: replicas.map((r) => `${r.url}/predict`), body: (i) => `{"model":"gbdt100","inputs":${randomRows(i, 1)}}` },
      replicas,
    );
    const cached2 = await measure(
      '/predict 1 row, cached, 2 replicas',
      { ...predict, url: replicas.map((r) => `${r.url}/predict`), body: cachedBody },
      replicas,
    );
    await second.stop();
    for (const r of [uncached, uncached2]) if (r.matchedShare > 0) throw new Error(`${r.name}: hit the cache`);
    for (const r of [cached, cached2]) if (r.matchedShare < 0.99) throw new Error(`${r.name}: missed the cache (${r.matchedShare})`);
    const batch = await measure(
      '/predict 1,000 rows, uncached (sequential)',
      {
        ...predict,
        body: (i) => `{"model":"gbdt100","inputs":${randomRows(i, 1000)}}`,
        concurrency: 1,
        durationMs: 10_000,
        maxRequests: 60,
      },
      [server],
    );

    // Loading the ~10 MB artifact through the server's own path: the first /predict on each version.
    const coldPredicts: number[] = [];
    for (let v = 1; v <= BIG_VERSIONS; v++) {
      const t0 = performance.now();
      const res = await fetch(`${base}/predict`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gbdt10mb', version: v, inputs: fixedRow }),
      });
      await res.text();
      if (res.status !== 200) throw new Error(`cold predict on gbdt10mb v${v}: ${res.status}`);
      coldPredicts.push(performance.now() - t0);
    }
    const bytes = Buffer.from(big.artifact);
    const engineOnly: number[] = [];
    for (let i = 0; i < RUNS + 1; i++) {
      const t0 = performance.now();
      loadModel(bytes);
      if (i > 0) engineOnly.push(performance.now() - t0); // the first one warms the JIT
    }

    const ratio = (x: number, y: number) => `${(x / y).toFixed(2)}×`;
    const load1 = loadavg();
    const lines = [
      `### ML Server benchmark, ${new Date().toISOString().slice(0, 10)}`,
      '',
      `${cpus().length} × ${cpus()[0]?.model.trim() ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; load average ${load0.map((x) => x.toFixed(2)).join(' ')} before, ${load1.map((x) => x.toFixed(2)).join(' ')} after.`,
      `Medians of ${RUNS} runs of ${DURATION_MS / 1000} s each after a warm-up; ${CONCURRENCY} keep-alive connections from this process; the ML Server and each baseline in its own process; PostgreSQL, Redis and MinIO on the same machine.`,
      `Model: synthetic XGBoost binary:logistic, 100 trees of depth 6 (127 nodes each), 20 features.`,
      '',
      '| scenario | req/s | p50 ms | p99 ms | server CPU µs/req | vs node:http | vs koa | target | met |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |',
      ...[rawR, koaR, uncached, cached, rawTwo, uncached2, cached2].map((r) => {
        const target = r === uncached || r === uncached2 ? 3000 : r === cached || r === cached2 ? 8000 : undefined;
        const cpu = Number.isNaN(r.cpuUs) ? '' : fmt(r.cpuUs);
        return `| ${r.name} | ${fmt(r.rps)} | ${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} | ${cpu} | ${ratio(r.rps, rawR.rps)} | ${ratio(r.rps, koaR.rps)} | ${target ? `≥ ${fmt(target)} req/s` : ''} | ${target ? (r.rps >= target ? 'yes' : 'no') : ''} |`;
      }),
      `| ${batch.name} | ${fmt(batch.rps, 1)} | ${fmt(batch.p50, 2)} | ${fmt(batch.p99, 2)} | ${fmt(batch.cpuUs)} | | | p50 < 50 ms | ${batch.p50 < 50 ? 'yes' : 'no'} |`,
      '',
      '| load of the ~10 MB artifact | median ms | target | met |',
      '| --- | ---: | --- | --- |',
      `| first /predict on a fresh version (fetch from MinIO + SHA-256 + parse + validate + predict; ${big.trees} trees, ${(big.artifact.length / 1024 / 1024).toFixed(1)} MiB), ${BIG_VERSIONS} versions | ${fmt(median(coldPredicts), 1)} | < 1000 ms | ${median(coldPredicts) < 1000 ? 'yes' : 'no'} |`,
      `| loadModel alone (parse + validate) | ${fmt(median(engineOnly), 1)} | | |`,
      `| upload + validation (POST /models/{name}/versions) | ${fmt(median(uploads), 1)} | | |`,
      '',
      `Runs (req/s): ${[rawR, koaR, uncached, cached, rawTwo, uncached2, cached2].map((r) => `${r.name}: ${r.allRps.join(', ')}`).join('; ')}.`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await deps.close();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`benchmark failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
