/**
 * The APIs' hot path (issue 14 §3), as ratios to a node:http hello world measured in the same run,
 * on two load generators: the project's own (bench/lib/load.ts) and `wrk` (bench/lib/wrk.ts).
 *   ./node_modules/.bin/node bench/hot-path/run.ts
 *
 * Real PostgreSQL, Redis and MinIO from the test harness; the Content Bridge and the ML Server each in
 * their own process, started as the images start them; the baseline in its own process. Each round
 * measures every route once on each generator, each time right after the baseline on the same
 * generator with the same connections, so that a slow spell of the shared machine touches both: the
 * ratio reported is the median of those paired ratios; rates and latencies are medians over rounds.
 *
 * Routes: a cached, authenticated GET /api/content/{id} (100 items); single learning events (each
 * student sends its own, one mix of types and content items on both generators); a cached one-row /predict (synthetic 100-tree GBDT); 1000-event batches from
 * 4 clients (the project's generator only: the target is events/s and batch p99, not a ratio).
 * For the event routes it also prints the bridge's group commits during the runs (requests and
 * milliseconds per commit, from its /metrics) and the CPU of PostgreSQL's processes per request.
 * Knobs: BENCH_ROUNDS (5), BENCH_SECONDS (3), BENCH_CONNECTIONS (32), BENCH_SINGLE_CLIENTS (100),
 * BENCH_ONLY (a regular expression: only the scenarios it matches, besides the baselines; with
 * BENCH_PROFILE=<dir> from bench/lib/service.ts, a CPU profile of just those); for the services
 * (bench/lib/service.ts): BENCH_LOG_LEVEL (info), BENCH_PERF_MAP=1 (for `perf record -p <pid>`),
 * BENCH_NODE_FLAGS.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { cpus, loadavg, totalmem } from 'node:os';
import pg from 'pg';
import { signAccessToken, tokenSettingsFromConfig } from '../../services/kit/auth/tokens.ts';
import { loadMlServerConfig } from '../../services/ml-server/config.ts';
import { startDependencies } from '../lib/dependencies.ts';
import { startBaseline } from '../lib/baselines.ts';
import { median, runLoad, type LoadOptions } from '../lib/load.ts';
import { registerStudents, seedContent } from '../lib/seed.ts';
import { processCpuSeconds, startService, type ServiceProcess } from '../lib/service.ts';
import { ensureWrk, runWrk, type WrkOptions } from '../lib/wrk.ts';
import { syntheticGbdt } from '../ml/gbdt.ts';
import { eventBatch, eventTail, singleEvent } from '../events/traffic.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const SINGLE_CLIENTS = Number(process.env.BENCH_SINGLE_CLIENTS ?? 100);
/** wrk's single events: each student's event in this many variants (every type, each content item), as load.ts varies them. */
const SINGLE_EVENT_VARIANTS = 20;
const BATCH_CLIENTS = 4;
const ONLY = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY) : undefined;
const STUDENTS = 20;
const FEATURES = Array.from({ length: 20 }, (_, i) => `f${i}`);

const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<any> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const parsed = await res.json();
  if (!res.ok) throw new Error(`${url}: ${res.status} ${JSON.stringify(parsed)}`);
  return parsed;
}

type Generator = 'load' | 'wrk';

/** One scenario, described once for both generators. */
interface Scenario {
  name: string;
  /** The baseline it is compared with (same connection count). */
  baseline?: string;
  /** Events per request (ratios and targets count events). */
  events: number;
  servers: ServiceProcess[];
  load?: (prefix: string) => Omit<LoadOptions, 'durationMs'>;
  wrk?: (prefix: string) => Omit<WrkOptions, 'durationMs'>;
  target?: string;
  met?: (perSecond: number, p99: number, ratio: number) => boolean;
}

/** The bridge's group-commit histograms (services/content-bridge/analytics/metrics.ts), summed so far. */
interface CommitTotals {
  commits: number;
  requests: number;
  seconds: number;
}

async function commitTotals(service: ServiceProcess): Promise<CommitTotals> {
  const text = await (await fetch(`${service.url}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return {
    commits: value('hma_analytics_commit_requests_count'),
    requests: value('hma_analytics_commit_requests_sum'),
    seconds: value('hma_analytics_commit_duration_seconds_sum'),
  };
}

function perCommit(before: CommitTotals, after: CommitTotals): { requests: number; ms: number } | undefined {
  const commits = after.commits - before.commits;
  if (!(commits > 0)) return undefined; // also when the bridge exported none (NaN)
  return { requests: (after.requests - before.requests) / commits, ms: ((after.seconds - before.seconds) * 1000) / commits };
}

/**
 * CPU seconds used so far by the PostgreSQL processes alive now (backends, WAL writer, checkpointer…),
 * by pid: the event routes' other half of the work, beside the bridge's own CPU.
 */
async function databaseCpu(db: pg.Client): Promise<Map<number, number>> {
  const { rows } = await db.query<{ pid: number }>('SELECT pid FROM pg_stat_activity');
  const cpu = new Map<number, number>();
  for (const { pid } of rows) {
    try {
      cpu.set(pid, processCpuSeconds(pid));
    } catch {
      // exited between the query and the read
    }
  }
  return cpu;
}

/** CPU seconds between two samples; a process that started in between counts from zero. */
const cpuBetween = (before: Map<number, number>, after: Map<number, number>) =>
  [...after].reduce((sum, [pid, seconds]) => sum + seconds - (before.get(pid) ?? 0), 0);

interface Sample {
  perSecond: number;
  p50: number;
  p99: number;
  /** CPU per request of the process that answered, in its own code and in the kernel. */
  userUs: number;
  systemUs: number;
  /** Event routes: requests per group commit and milliseconds per commit (send to result) during the run. */
  commit?: { requests: number; ms: number };
  /** Event routes: CPU of every PostgreSQL process per request. */
  databaseUs?: number;
}

async function main() {
  ensureWrk();
  const load0 = loadavg();
  log(`${cpus().length} CPUs, load average ${load0.map((l) => l.toFixed(2)).join(' ')}`);
  const deps = await startDependencies(['bench_bridge', 'bench_ml']);
  try {
    const jwtSecret = { JWT_SECRET: randomBytes(32).toString('hex') };
    const adminPassword = `Adm1n-${randomBytes(9).toString('base64url')}`;
    const bridge = await startService('content-bridge', {
      ...deps.serviceEnv('bench_bridge', 'bench-bridge'),
      ...jwtSecret,
      DATABASE_POOL_SIZE: '20',
      ADMIN_EMAIL: 'admin@huntmaster.bench',
      ADMIN_PASSWORD: adminPassword,
      RATE_LIMIT_SCALE: '1000000', // registering the bench's students is not what is measured
    });
    deps.onClose(() => bridge.stop());
    const mlEnv = { ...deps.serviceEnv('bench_ml', 'bench-ml'), ...jwtSecret };
    const ml = await startService('ml-server', mlEnv);
    deps.onClose(() => ml.stop());
    const baseline = await startBaseline('node:http');
    deps.onClose(() => baseline.stop());

    // Content: 100 published items, read once each so they are cached.
    const db = new pg.Client({ connectionString: deps.postgresUrl('bench_bridge') });
    db.on('error', () => undefined); // PostgreSQL stops before this client when the bench fails
    await db.connect();
    deps.onClose(() => db.end());
    const ids = await seedContent(db, 100);
    const adminLogin = await post(`${bridge.url}/auth/login`, { email: 'admin@huntmaster.bench', password: adminPassword });
    const adminAuth = { authorization: `Bearer ${adminLogin.access_token as string}` };
    for (const id of ids) {
      const res = await fetch(`${bridge.url}/api/content/${id}`, { headers: adminAuth });
      if (res.status !== 200) throw new Error(`warming content ${id}: ${res.status}`);
      await res.arrayBuffer();
    }
    // Students, each sending its own events.
    const students = await registerStudents(bridge.url, STUDENTS);
    const student = (c: number) => students[c % students.length]!;
    // The ML Server: one model, one signed-in user (tokens from the same issuer as the bridge's).
    const mlToken = signAccessToken(tokenSettingsFromConfig(loadMlServerConfig(mlEnv)), {
      userId: randomUUID(),
      username: 'bench',
      roles: ['admin'],
    }).token;
    const mlAuth = { authorization: `Bearer ${mlToken}` };
    await post(`${ml.url}/models`, { name: 'gbdt100', task: 'classification', format: 'xgboost' }, mlAuth);
    const form = new FormData();
    const gbdt = JSON.stringify(syntheticGbdt({ trees: 100, depth: 6, features: FEATURES.length }));
    form.append('file', new Blob([gbdt], { type: 'application/json' }), 'model.json');
    const upload = await fetch(`${ml.url}/models/gbdt100/versions`, { method: 'POST', headers: mlAuth, body: form });
    if (upload.status !== 201) throw new Error(`model upload: ${upload.status} ${await upload.text()}`);
    const predictBody = JSON.stringify({ model: 'gbdt100', inputs: Object.fromEntries(FEATURES.map((f, i) => [f, i * 4.5])) });

    const helloBody = singleEvent('hello', 0, 0, 'nobody');
    const contentPaths = ids.map((id) => `/api/content/${id}`);
    const eventsUrl = `${bridge.url}/api/analytics/events`;
    const ratioTarget = (min: number) => (_: number, __: number, ratio: number) => ratio >= min;
    const scenarios: Scenario[] = [
      {
        name: `node:http hello world (${CONNECTIONS} connections)`,
        events: 0,
        servers: [],
        load: () => ({ url: baseline.url, concurrency: CONNECTIONS }),
        wrk: () => ({ url: baseline.url, connections: CONNECTIONS }),
      },
      {
        name: `node:http hello world (POST, 1 event body, ${SINGLE_CLIENTS} connections)`,
        events: 0,
        servers: [],
        load: () => ({ url: baseline.url, method: 'POST', body: helloBody, concurrency: SINGLE_CLIENTS }),
        wrk: () => ({ url: baseline.url, method: 'POST', requests: [{ body: helloBody }], connections: SINGLE_CLIENTS }),
      },
      {
        name: 'GET /api/content/{id}, cached, authenticated',
        baseline: `node:http hello world (${CONNECTIONS} connections)`,
        events: 0,
        servers: [bridge],
        load: () => ({ url: `${bridge.url}/`, path: (i) => contentPaths[i % ids.length]!, headers: adminAuth, concurrency: CONNECTIONS }),
        wrk: () => ({
          url: `${bridge.url}/`,
          headers: adminAuth,
          requests: contentPaths.map((path) => ({ path })),
          connections: CONNECTIONS,
        }),
        target: '≥ 0.35×',
        met: ratioTarget(0.35),
      },
      {
        name: 'POST /api/analytics/events, single events',
        baseline: `node:http hello world (POST, 1 event body, ${SINGLE_CLIENTS} connections)`,
        events: 1,
        servers: [bridge],
        load: (prefix) => ({
          url: eventsUrl,
          method: 'POST',
          headers: (c) => ({ authorization: `Bearer ${student(c).token}` }),
          body: (i, c) => singleEvent(prefix, i, c, student(c).userId),
          concurrency: SINGLE_CLIENTS,
        }),
        // The body of request n: a unique event id, then one of student c's events, the same mix
        // load.ts sends (every event type, each of the 20 content items: singleEvent's tails, eventTail).
        wrk: (prefix) => ({
          url: eventsUrl,
          method: 'POST',
          requests: Array.from({ length: SINGLE_EVENT_VARIANTS }, (_, k) =>
            students.map((s, c) => ({ headers: { authorization: `Bearer ${s.token}` }, body: eventTail(k, c, s.userId) })),
          ).flat(),
          bodyLua: `'{"event_id":"${prefix}-' .. n .. q.body`,
          connections: SINGLE_CLIENTS,
        }),
        target: '≥ 0.25×',
        met: ratioTarget(0.25),
      },
      {
        name: 'POST /predict, one row, cached',
        baseline: `node:http hello world (${CONNECTIONS} connections)`,
        events: 0,
        servers: [ml],
        load: () => ({
          url: `${ml.url}/predict`,
          method: 'POST',
          headers: mlAuth,
          body: predictBody,
          concurrency: CONNECTIONS,
          countMatches: /"cached":true/,
        }),
        wrk: () => ({
          url: `${ml.url}/predict`,
          method: 'POST',
          headers: mlAuth,
          requests: [{ body: predictBody }],
          connections: CONNECTIONS,
        }),
        target: '≥ 0.25×',
        met: ratioTarget(0.25),
      },
      {
        name: `POST /api/analytics/events, 1000-event batches, ${BATCH_CLIENTS} clients`,
        events: 1000,
        servers: [bridge],
        load: (prefix) => ({
          url: eventsUrl,
          method: 'POST',
          headers: adminAuth,
          body: (i) => eventBatch(prefix, i, 1000),
          concurrency: BATCH_CLIENTS,
        }),
        target: '≥ 40,000 events/s, p99 < 200 ms',
        met: (perSecond, p99) => perSecond >= 40_000 && p99 < 200,
      },
    ];

    const samples = new Map<string, Sample[]>();
    let run = 0;
    let acknowledged = 0;
    const measure = async (s: Scenario, generator: Generator, durationMs: number, record: boolean) => {
      const prefix = `r${++run}`;
      // A baseline's CPU too: the yardstick per request, beside the routes'.
      const answering = s.servers.length ? s.servers : [baseline];
      const cpuNow = () =>
        answering
          .map((p) => p.cpuTimes())
          .reduce((n, t) => ({ user: n.user + t.user, system: n.system + t.system }), { user: 0, system: 0 });
      const commits0 = s.events ? await commitTotals(s.servers[0]!) : undefined;
      const database0 = s.events ? await databaseCpu(db) : undefined;
      const cpu0 = cpuNow();
      let result: { requests: number; errors: number; rps: number; p50Ms: number; p99Ms: number };
      if (generator === 'load') {
        const r = await runLoad({ ...s.load!(prefix), durationMs, warmupMs: 0 });
        if (s.events) acknowledged += (r.allStatuses['200'] ?? 0) * s.events;
        if (record && s.load!(prefix).countMatches && r.matches < r.requests)
          throw new Error(`${s.name}: ${r.requests - r.matches} answers not cached`);
        result = r;
      } else {
        result = await runWrk({ ...s.wrk!(prefix), durationMs });
        if (s.events) acknowledged += (result.requests - result.errors) * s.events;
      }
      const cpu1 = cpuNow();
      const commit = commits0 && perCommit(commits0, await commitTotals(s.servers[0]!));
      const databaseSeconds = database0 && cpuBetween(database0, await databaseCpu(db));
      if (result.errors) throw new Error(`${s.name} (${generator}): ${result.errors} errors`);
      const sample = {
        perSecond: result.rps * (s.events || 1),
        p50: result.p50Ms,
        p99: result.p99Ms,
        userUs: ((cpu1.user - cpu0.user) * 1e6) / result.requests,
        systemUs: ((cpu1.system - cpu0.system) * 1e6) / result.requests,
        ...(commit && { commit }),
        ...(databaseSeconds !== undefined && { databaseUs: (databaseSeconds * 1e6) / result.requests }),
      };
      if (!record) return sample;
      const key = `${s.name}|${generator}`;
      samples.set(key, [...(samples.get(key) ?? []), sample]);
      return sample;
    };
    const ratios = new Map<string, number[]>();
    const byName = new Map(scenarios.map((s) => [s.name, s]));

    const chosen = scenarios.filter((s) => !s.servers.length || !ONLY || ONLY.test(s.name));
    const plan = chosen.flatMap((s) =>
      (['load', 'wrk'] as const).filter((g) => (g === 'load' ? s.load : s.wrk)).map((g) => [s, g] as const),
    );
    for (const [s, g] of plan) await measure(s, g, 1000, false); // warm-up: JIT, pools, caches
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [s, g] of plan) {
        if (!s.servers.length) continue; // baselines are measured with the route they are compared with
        const base = s.baseline ? await measure(byName.get(s.baseline)!, g, SECONDS * 1000, true) : undefined;
        const measured = await measure(s, g, SECONDS * 1000, true);
        if (base) ratios.set(`${s.name}|${g}`, [...(ratios.get(`${s.name}|${g}`) ?? []), measured.perSecond / base.perSecond]);
      }
      log(`round ${round}/${ROUNDS} done, load average ${loadavg()[0]!.toFixed(2)}`);
    }

    const stored = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM content.learning_events')).rows[0]!.n;

    const load1 = loadavg();
    const summary = (key: string) => {
      const list = samples.get(key) ?? [];
      return {
        perSecond: median(list.map((x) => x.perSecond)),
        runs: list.map((x) => x.perSecond),
        p50: median(list.map((x) => x.p50)),
        p99: median(list.map((x) => x.p99)),
        userUs: median(list.map((x) => x.userUs)),
        systemUs: median(list.map((x) => x.systemUs)),
        commitRequests: median(list.flatMap((x) => (x.commit ? [x.commit.requests] : []))),
        commitMs: median(list.flatMap((x) => (x.commit ? [x.commit.ms] : []))),
        databaseUs: median(list.flatMap((x) => (x.databaseUs !== undefined ? [x.databaseUs] : []))),
      };
    };
    const lines = [
      `### APIs' hot path, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
      '',
      `${cpus().length} × ${cpus()[0]?.model.trim() ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; ` +
        `load average ${load0.map((x) => x.toFixed(2)).join(' ')} before, ${load1.map((x) => x.toFixed(2)).join(' ')} after. ` +
        `${ROUNDS} rounds × ${SECONDS} s per scenario and generator after a 1 s warm-up, medians; each route measured right after its baseline on the same generator, ratio = the median of those paired ratios (per round in brackets).`,
      '',
      '| scenario | generator | median /s | runs | p50 ms | p99 ms | server CPU µs/request: user + system | vs node:http | target | met |',
      '|---|---|---:|---|---:|---:|---:|---:|---|---|',
    ];
    for (const [s, g] of plan) {
      const r = summary(`${s.name}|${g}`);
      const paired = ratios.get(`${s.name}|${g}`) ?? [];
      const ratio = paired.length ? median(paired) : NaN;
      const unit = s.events ? 'events/s' : 'req/s';
      lines.push(
        `| ${s.name} | ${g === 'load' ? 'bench/lib/load.ts' : 'wrk'} | ${fmt(r.perSecond)} ${unit} | ${r.runs.map((x) => fmt(x)).join(' / ')} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ${fmt(r.userUs + r.systemUs)}: ${fmt(r.userUs)} + ${fmt(r.systemUs)} | ${Number.isNaN(ratio) ? '' : `${fmt(ratio, 2)}× (${paired.map((x) => fmt(x, 2)).join(' ')})`} | ${s.target ?? ''} | ${s.met ? (s.met(r.perSecond, r.p99, ratio) ? 'yes' : 'no') : ''} |`,
      );
    }
    lines.push('');
    for (const [s, g] of plan) {
      const r = summary(`${s.name}|${g}`);
      if (Number.isNaN(r.commitRequests)) continue;
      lines.push(
        `Group commits, ${s.name} (${g === 'load' ? 'bench/lib/load.ts' : 'wrk'}): ${fmt(r.commitRequests, 1)} requests and ${fmt(r.commitMs, 2)} ms per commit (send to result); PostgreSQL's CPU (all its processes) ${fmt(r.databaseUs)} µs per request; medians.`,
      );
    }
    lines.push(
      '',
      // wrk stops with requests in flight, which the bridge may still store: stored ≥ acknowledged.
      `Durability: ${fmt(acknowledged)} events acknowledged (warm-ups included), ${fmt(stored)} rows stored (${stored >= acknowledged ? 'every acknowledged event stored' : 'MISSING EVENTS'}).`,
    );
    process.stdout.write(`${lines.join('\n')}\n`);
    if (stored < acknowledged) process.exitCode = 1;
  } finally {
    await deps.close();
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? err}\n`);
  process.exitCode = 1;
});
