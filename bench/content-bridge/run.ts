/**
 * Content Bridge benchmark, with raw node:http and koa hello-world baselines measured in the same run.
 * Real PostgreSQL, Redis and MinIO from the test harness; the bridge runs as its own process, the load
 * generator in this one (the machine has 2 cores: one each).
 *   ./node_modules/.bin/node bench/content-bridge/run.ts [--runs 3] [--seconds 5]
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { freePort, startMinio, startPostgres, startRedis, waitUntil } from '../../tests/harness/index.ts';
import { REPO_ROOT } from '../../tests/harness/paths.ts';
import { startBaseline } from '../lib/baselines.ts';
import { median, runLoad, type LoadResult } from '../lib/load.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' }, seconds: { type: 'string', default: '5' } } });
const RUNS = Number(values.runs);
const DURATION = Number(values.seconds) * 1000;

async function json(url: string, init: RequestInit = {}) {
  const res = await fetch(url, { ...init, headers: { 'content-type': 'application/json', ...init.headers } });
  return { status: res.status, body: (await res.json()) as any };
}

async function startBridge(env: Record<string, string>) {
  const port = await freePort();
  const child = spawn(`${REPO_ROOT}/node_modules/.bin/node`, ['services/content-bridge/main.ts'], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitUntil('bridge ready', async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200, { timeoutMs: 60_000 });
  return { url, stop: () => child.kill('SIGTERM') };
}

/** Publishes `n` content items directly in the database (the upload path is not what is measured here). */
async function seedContent(databaseUrl: string, n: number): Promise<string[]> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO content.content_items (title, content_type, file_path, mime_type, size_bytes, sha256, metadata)
     SELECT 'Tracking lesson ' || g, 'document', 'content/documents/pdf/bench-' || g || '.pdf', 'application/pdf', 1024,
            repeat('a', 64), jsonb_build_object('tags', jsonb_build_array('tracking'), 'difficulty_level', 'beginner')
       FROM generate_series(1, $1) g RETURNING id`,
    [n],
  );
  await db.end();
  return rows.map((r) => r.id);
}

type Row = { scenario: string; results: LoadResult[]; baseline?: number };

async function main() {
  const [postgres, redis, minio] = await Promise.all([startPostgres(), startRedis(), startMinio()]);
  const databaseUrl = postgres.url;
  const password = `bench-${randomBytes(8).toString('hex')}`;
  const bridge = await startBridge({
    DATABASE_URL: databaseUrl,
    DATABASE_POOL_SIZE: '20',
    REDIS_URL: redis.url,
    S3_ENDPOINT: minio.endpoint,
    S3_ACCESS_KEY: minio.accessKey,
    S3_SECRET_KEY: minio.secretKey,
    JWT_SECRET: randomBytes(32).toString('hex'),
    ADMIN_EMAIL: 'bench@huntmaster.test',
    ADMIN_PASSWORD: password,
    RATE_LIMIT_SCALE: '1000000', // the login scenario measures argon2id, not the limiter
  });
  const nodeBaseline = await startBaseline('node:http');
  const koaBaseline = await startBaseline('koa');
  const rows: Row[] = [];
  try {
    const login = await json(`${bridge.url}/auth/login`, {
      method: 'POST',
      body: JSON.stringify({ email: 'bench@huntmaster.test', password }),
    });
    const token = login.body.access_token as string;
    const auth = { authorization: `Bearer ${token}` };
    const ids = await seedContent(databaseUrl, 100);
    for (const id of ids) await fetch(`${bridge.url}/api/content/${id}`, { headers: auth }); // warm the cache

    const measure = async (scenario: string, run: () => Promise<LoadResult>) => {
      const results: LoadResult[] = [];
      for (let i = 0; i < RUNS; i++) results.push(await run());
      rows.push({ scenario, results });
    };
    await measure('baseline: node:http hello world', () => runLoad({ url: nodeBaseline.url, concurrency: 32, durationMs: DURATION }));
    await measure('baseline: koa hello world', () => runLoad({ url: koaBaseline.url, concurrency: 32, durationMs: DURATION }));
    await measure('GET /api/content/{id} (cached, authenticated)', () =>
      runLoad({
        url: `${bridge.url}/`,
        path: (i) => `/api/content/${ids[i % ids.length]}`,
        headers: auth,
        concurrency: 32,
        durationMs: DURATION,
      }),
    );
    await measure('POST /auth/token', () =>
      runLoad({
        url: `${bridge.url}/auth/token`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token }),
        concurrency: 32,
        durationMs: DURATION,
      }),
    );
    await measure('POST /auth/login (argon2id, CPU-bound)', () =>
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
      const statuses = await Promise.all(
        ids.map((id) => fetch(`${bridge.url}/api/content/${id}`, { headers: auth }).then((r) => r.status)),
      );
      bursts.push(performance.now() - started);
      if (statuses.some((s) => s !== 200)) throw new Error(`burst failed: ${statuses.filter((s) => s !== 200).length} non-200`);
    }

    const base = median(rows[0]!.results.map((r) => r.rps));
    console.log(
      `\nMachine: ${cpus().length} × ${cpus()[0]?.model.trim()}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
    );
    console.log(`Date: ${new Date().toISOString().slice(0, 10)}; ${RUNS} runs of ${DURATION / 1000} s each; medians.\n`);
    console.log('| Scenario | req/s (median) | p50 ms | p99 ms | vs node:http | errors |');
    console.log('| --- | --- | --- | --- | --- | --- |');
    for (const row of rows) {
      const rps = median(row.results.map((r) => r.rps));
      console.log(
        `| ${row.scenario} | ${rps.toFixed(0)} | ${median(row.results.map((r) => r.p50Ms)).toFixed(2)} | ${median(row.results.map((r) => r.p99Ms)).toFixed(2)} | ${(rps / base).toFixed(2)} | ${row.results.reduce((n, r) => n + r.errors, 0)} |`,
      );
    }
    console.log(
      `| 100 concurrent GET /api/content/{id}, all completed | wall time ${median(bursts).toFixed(0)} ms (runs: ${bursts.map((b) => b.toFixed(0)).join(', ')}) | | | | |`,
    );
  } finally {
    bridge.stop();
    nodeBaseline.stop();
    koaBaseline.stop();
    await Promise.allSettled([postgres.close(), redis.close(), minio.close()]);
  }
}

await main();
process.exit(0);
