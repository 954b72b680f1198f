/**
 * Content Bridge benchmark, with raw node:http and koa hello-world baselines measured in the same run.
 * Two driver sets, the same scenarios, side by side:
 * - real: PostgreSQL, Redis and MinIO from the test harness;
 * - embedded: `HMA_EMBEDDED=true` and no URLs, i.e. PGlite, the in-process cache and the filesystem
 *   store in the bridge's own process (what `npm start` runs).
 * The bridge runs as its own process (services/content-bridge/main.ts), the load generator in this one
 * (the machine has 2 cores: one each).
 *   ./node_modules/.bin/node bench/content-bridge/run.ts [--runs 3] [--seconds 5] [--modes real,embedded]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createPgliteDatabase } from '../../services/kit/deps/embedded/pglite.ts';
import { loadMigrations, migrate } from '../../services/kit/deps/migrations.ts';
import { MIGRATIONS_DIR } from '../../services/content-bridge/paths.ts';
import { startBaseline } from '../lib/baselines.ts';
import { startDependencies } from '../lib/dependencies.ts';
import { seedContent } from '../lib/seed.ts';
import { median, runLoad, type LoadResult } from '../lib/load.ts';
import { startService, type ServiceProcess } from '../lib/service.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '5' },
    modes: { type: 'string', default: 'real,embedded' },
  },
});
const RUNS = Number(values.runs);
const DURATION = Number(values.seconds) * 1000;
type Mode = 'real' | 'embedded';
const MODES = values.modes.split(',').map((m) => m.trim()) as Mode[];
if (!MODES.length || MODES.some((m) => m !== 'real' && m !== 'embedded')) throw new Error('--modes takes real, embedded or both');

async function json(url: string, init: RequestInit = {}) {
  const res = await fetch(url, { ...init, headers: { 'content-type': 'application/json', ...init.headers } });
  return { status: res.status, body: (await res.json()) as any };
}

/** The bridge from its own entry point, with production defaults (access logs at info). */
const startBridge = (env: Record<string, string>) => startService('content-bridge', env);

type Row = { scenario: string; results: Partial<Record<Mode | 'baseline', LoadResult[]>> };

interface Target {
  bridge: ServiceProcess;
  ids: string[];
  password: string;
  close(): Promise<void>;
}

/** The bridge on real PostgreSQL, Redis and MinIO, with 100 content items. */
async function realTarget(): Promise<Target> {
  const deps = await startDependencies(['bench_bridge']);
  try {
    const password = `bench-${randomBytes(8).toString('hex')}`;
    const bridge = await startBridge({
      ...deps.serviceEnv('bench_bridge', 'bench-bridge'),
      DATABASE_POOL_SIZE: '20',
      JWT_SECRET: randomBytes(32).toString('hex'),
      ADMIN_EMAIL: 'bench@huntmaster.test',
      ADMIN_PASSWORD: password,
      RATE_LIMIT_SCALE: '1000000', // the login scenario measures argon2id, not the limiter
    });
    deps.onClose(() => bridge.stop());
    const db = new pg.Client({ connectionString: deps.postgresUrl('bench_bridge') });
    await db.connect();
    const ids = await seedContent(db, 100);
    await db.end();
    return { bridge, ids, password, close: deps.close };
  } catch (err) {
    await deps.close();
    throw err;
  }
}

/**
 * The bridge on the embedded drivers: the same main.ts with HMA_EMBEDDED=true and no URLs. PGlite is
 * single-process, so the content is seeded (same SQL) before the bridge opens the data directory.
 */
async function embeddedTarget(): Promise<Target> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hma-bench-embedded-'));
  const db = createPgliteDatabase({ dataDir: join(dataDir, 'postgres') });
  await migrate(db, 'content-bridge', loadMigrations(MIGRATIONS_DIR));
  const ids = await seedContent(db, 100);
  await db.close();
  const password = `bench-${randomBytes(8).toString('hex')}`;
  const bridge = await startBridge({
    HMA_EMBEDDED: 'true',
    HMA_DATA_DIR: dataDir,
    JWT_SECRET: randomBytes(32).toString('hex'),
    ADMIN_EMAIL: 'bench@huntmaster.test',
    ADMIN_PASSWORD: password,
    RATE_LIMIT_SCALE: '1000000',
  });
  return {
    bridge,
    ids,
    password,
    close: async () => {
      await bridge.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function main() {
  const nodeBaseline = await startBaseline('node:http');
  const koaBaseline = await startBaseline('koa');
  const rows: Row[] = [];
  const bursts: Partial<Record<Mode, number[]>> = {};
  const row = (scenario: string) => {
    let r = rows.find((x) => x.scenario === scenario);
    if (!r) rows.push((r = { scenario, results: {} }));
    return r;
  };
  const measure = async (scenario: string, column: Mode | 'baseline', run: () => Promise<LoadResult>) => {
    const results: LoadResult[] = [];
    for (let i = 0; i < RUNS; i++) results.push(await run());
    row(scenario).results[column] = results;
  };
  try {
    await measure('baseline: node:http hello world', 'baseline', () =>
      runLoad({ url: nodeBaseline.url, concurrency: 32, durationMs: DURATION }),
    );
    await measure('baseline: koa hello world', 'baseline', () => runLoad({ url: koaBaseline.url, concurrency: 32, durationMs: DURATION }));
    for (const mode of MODES) {
      const target = mode === 'real' ? await realTarget() : await embeddedTarget();
      try {
        bursts[mode] = await scenarios(mode, target, measure);
      } finally {
        await target.close();
      }
    }
    print(rows, bursts);
  } finally {
    nodeBaseline.stop();
    koaBaseline.stop();
  }
}

async function scenarios(
  mode: Mode,
  target: Target,
  measure: (scenario: string, column: Mode, run: () => Promise<LoadResult>) => Promise<void>,
): Promise<number[]> {
  const { bridge, ids, password } = target;
  const login = await json(`${bridge.url}/auth/login`, {
    method: 'POST',
    body: JSON.stringify({ email: 'bench@huntmaster.test', password }),
  });
  const token = login.body.access_token as string;
  const auth = { authorization: `Bearer ${token}` };
  for (const id of ids) await fetch(`${bridge.url}/api/content/${id}`, { headers: auth }); // warm the cache

  await measure('GET /api/content/{id} (cached, authenticated)', mode, () =>
    runLoad({
      url: `${bridge.url}/`,
      path: (i) => `/api/content/${ids[i % ids.length]}`,
      headers: auth,
      concurrency: 32,
      durationMs: DURATION,
    }),
  );
  await measure('POST /auth/token', mode, () =>
    runLoad({
      url: `${bridge.url}/auth/token`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token }),
      concurrency: 32,
      durationMs: DURATION,
    }),
  );
  await measure('GET /api/content/search?q=tracking (full text, uncached)', mode, () =>
    runLoad({
      url: `${bridge.url}/`,
      path: (i) => `/api/content/search?q=tracking&limit=${1 + (i % 20)}`,
      headers: auth,
      concurrency: 32,
      durationMs: DURATION,
    }),
  );
  await measure('POST /auth/login (argon2id, CPU-bound)', mode, () =>
    runLoad({
      url: `${bridge.url}/auth/login`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'bench@huntmaster.test', password }),
      concurrency: 4,
      durationMs: DURATION,
    }),
  );

  // 100 concurrent content requests, one per item: wall time until all completed.
  const bursts: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    const statuses = await Promise.all(ids.map((id) => fetch(`${bridge.url}/api/content/${id}`, { headers: auth }).then((r) => r.status)));
    bursts.push(performance.now() - started);
    if (statuses.some((s) => s !== 200)) throw new Error(`burst failed: ${statuses.filter((s) => s !== 200).length} non-200`);
  }

  return bursts;
}

function print(rows: Row[], bursts: Partial<Record<Mode, number[]>>) {
  const base = median(rows[0]!.results.baseline!.map((r) => r.rps));
  console.log(
    `\nMachine: ${cpus().length} × ${cpus()[0]?.model.trim()}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
  );
  console.log(
    `Date: ${new Date().toISOString().slice(0, 10)}; ${RUNS} runs of ${DURATION / 1000} s each; medians; "x" = ratio to node:http.\n`,
  );
  const columns: Array<Mode | 'baseline'> = ['baseline', ...MODES];
  const title: Record<Mode | 'baseline', string> = {
    baseline: 'baseline',
    real: 'real (PostgreSQL, Redis, MinIO)',
    embedded: 'embedded (PGlite, in-process, files)',
  };
  const modeCols = MODES.map((m) => `${title[m]}: req/s (x) p50/p99 ms`);
  console.log(`| Scenario | ${['baseline req/s', ...modeCols].join(' | ')} | errors |`);
  console.log(`| --- | ${columns.map(() => '---').join(' | ')} | --- |`);
  for (const r of rows) {
    const cells = columns.map((c) => {
      const results = r.results[c];
      if (!results) return '';
      const rps = median(results.map((x) => x.rps));
      if (c === 'baseline') return rps.toFixed(0);
      return `${rps.toFixed(0)} (${(rps / base).toFixed(2)}) ${median(results.map((x) => x.p50Ms)).toFixed(1)}/${median(results.map((x) => x.p99Ms)).toFixed(1)}`;
    });
    const errors = Object.values(r.results)
      .flat()
      .reduce((n, x) => n + (x?.errors ?? 0), 0);
    console.log(`| ${r.scenario} | ${cells.join(' | ')} | ${errors} |`);
  }
  const burstCells = MODES.map((m) =>
    bursts[m] ? `${median(bursts[m]).toFixed(0)} ms (runs: ${bursts[m].map((b) => b.toFixed(0)).join(', ')})` : '',
  );
  console.log(`| 100 concurrent GET /api/content/{id}, wall time until all completed | | ${burstCells.join(' | ')} | |`);
}

await main();
process.exit(0);
