/**
 * Sends learning events to the Content Bridge continuously and records every event id it acknowledged, so
 * a fault injected meanwhile can be judged afterwards: every acknowledged id must be in PostgreSQL
 * (`content.learning_events.event_id`). Plain Node 24 (node: built-ins and global fetch), no npm packages
 * and no imports from the repository, so it runs as is in a pod of `node:24-slim`:
 *
 *   kubectl exec -i client -- env CONTENT_BRIDGE_URL=… ACCESS_TOKEN=… DURATION_SECONDS=120 \
 *     node --input-type=module - < tests/node/support/event-sender.mjs
 *
 * Environment:
 *   CONTENT_BRIDGE_URL  e.g. http://huntmaster-content-bridge.academy.svc.cluster.local:8090 (required)
 *   ACCESS_TOKEN        a bearer token; or LOGIN_EMAIL / LOGIN_USERNAME + LOGIN_PASSWORD (ADMIN_EMAIL /
 *                       ADMIN_USERNAME + ADMIN_PASSWORD are read too): the sender logs in and refreshes the
 *                       token before it expires, so it can run longer than one access-token lifetime
 *   TOKEN_RENEW_BEFORE_SECONDS  with credentials: renew the token this long before it expires (default 60;
 *                       at most 90 % of its lifetime)
 *   DURATION_SECONDS    stop after this long; without it, runs until SIGTERM/SIGINT or until STOP_FILE exists
 *   STOP_FILE           default /tmp/stop (a file already there at start is ignored until it changes)
 *   RATE                requests per second, default 20 (open loop: a slow answer does not slow the sending)
 *   BATCH_SIZE          events per request, default 10
 *   REQUEST_TIMEOUT_MS  default 10000; a request without an answer by then counts as failed (`timeout`)
 *   MAX_IN_FLIGHT       default 200; a tick with that many requests unanswered sends nothing (`skipped`)
 *   EVENT_USER_ID       the events' user_id; default the token's subject (a student may send only their own)
 *   RUN_ID              the id prefix, default `es-<random>`; ids are `<RUN_ID>-<n>`, n = 1, 2, 3, …
 *   ACK_FORMAT          `ranges` (default: acknowledged ids as inclusive [first, last] ranges of n) or `ids`
 *
 * A fatal configuration or login problem prints `{"error": …}` and exits 2.
 *
 * Nothing is retried: a request that fails (non-2xx, a network error, a timeout, or a 2xx whose `accepted`
 * is not exactly the ids sent) counts as failed and its ids are NOT acknowledged. Progress goes to stderr
 * every 5 s; at the end ONE JSON line goes to stdout:
 *
 *   {run_id, id_prefix, acknowledged: {format: "ranges", ranges: [[1, 5000], …]} | {format: "ids", ids: […]},
 *    acknowledged_count, sent, ok (requests answered 2xx with exactly their ids), failed, skipped, failuresByReason: {"http_503": 3, "network_ECONNRESET": 1, …},
 *    failureSamples, firstFailureAtMs, lastFailureAtMs, maxGapMs, maxGapAtMs, longestGaps: [{atMs, ms}],
 *    latencyMs: {p50, p95, p99, max}, eventsPerSecond, durationMs, check_sql}
 *
 * `*AtMs` are offsets from the start; a gap is a time without any successful answer (from the start to the
 * first one, between answers, and from the last one to the end). `check_sql` (ranges format) counts the
 * acknowledged ids missing from content.learning_events: it must be 0.
 */
import { existsSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';

const log = (message) => process.stderr.write(`[event-sender ${new Date().toISOString()}] ${message}\n`);

function fail(message) {
  log(`FAILED: ${message}`);
  process.stdout.write(`${JSON.stringify({ error: message })}\n`);
  process.exit(2);
}

function numberEnv(name, fallback, { min = 0, integer = false } = {}) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n)))
    fail(`${name}=${raw} is not a ${integer ? 'whole ' : ''}number ≥ ${min}`);
  return n;
}

const base = (process.env.CONTENT_BRIDGE_URL ?? '').replace(/\/+$/, '');
if (!base) fail('CONTENT_BRIDGE_URL is required');
const durationSeconds = numberEnv('DURATION_SECONDS', undefined, { min: 0 });
const stopFile = process.env.STOP_FILE || '/tmp/stop';
const rate = numberEnv('RATE', 20, { min: 0.01 });
const batchSize = numberEnv('BATCH_SIZE', 10, { min: 1, integer: true });
if (batchSize > 1000) fail('BATCH_SIZE is at most 1000 (the API takes 1-1000 events per request)');
const requestTimeoutMs = numberEnv('REQUEST_TIMEOUT_MS', 10_000, { min: 1 });
const maxInFlight = numberEnv('MAX_IN_FLIGHT', 200, { min: 1, integer: true });
const ackFormat = process.env.ACK_FORMAT || 'ranges';
if (ackFormat !== 'ranges' && ackFormat !== 'ids') fail(`ACK_FORMAT=${ackFormat}: use ranges or ids`);
const runId = process.env.RUN_ID || `es-${randomBytes(5).toString('hex')}`;
if (!/^[\x21-\x7e]{1,200}$/.test(runId)) fail('RUN_ID must be 1-200 printable ASCII characters without spaces');
const idPrefix = `${runId}-`;

// ---------------------------------------------------------------------------------------------
// The token: given, or obtained with credentials and refreshed before it expires

/** The claims of a JWT (not verified: the server does that); {} when it is not one. */
function claims(token) {
  try {
    return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
  } catch {
    return {};
  }
}

const auth = {
  token: process.env.ACCESS_TOKEN || '',
  refreshToken: '',
  exp: 0,
  iat: undefined,
  renewing: undefined,
  renewals: 0,
  renewalFailures: 0,
};
const renewBeforeSeconds = numberEnv('TOKEN_RENEW_BEFORE_SECONDS', 60, { min: 1 });
const login = {
  email: process.env.LOGIN_EMAIL || (process.env.LOGIN_USERNAME ? undefined : process.env.ADMIN_EMAIL) || undefined,
  username: process.env.LOGIN_USERNAME || process.env.ADMIN_USERNAME || undefined,
  password: process.env.LOGIN_PASSWORD || process.env.ADMIN_PASSWORD || undefined,
};
const canLogIn = Boolean(login.password && (login.email || login.username));

async function postJson(path, body, token) {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(requestTimeoutMs),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`POST ${path}: ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

function takeTokens(pair) {
  auth.token = pair.access_token;
  auth.refreshToken = pair.refresh_token ?? '';
  auth.exp = claims(pair.access_token).exp ?? 0;
  auth.iat = claims(pair.access_token).iat;
}

async function logIn() {
  const who = login.email ? { email: login.email } : { username: login.username };
  takeTokens(await postJson('/auth/login', { ...who, password: login.password }));
}

/**
 * Renews the token in the background (refresh token, else a new login) when it has less than
 * TOKEN_RENEW_BEFORE_SECONDS left (at most 90 % of its lifetime, so a short-lived token is not renewed in a loop).
 */
function renewIfDue() {
  if (!canLogIn || auth.renewing || !auth.exp) return;
  const lifetimeMs = (auth.exp - (auth.iat ?? 0)) * 1000;
  const marginMs = Math.min(renewBeforeSeconds * 1000, auth.iat ? lifetimeMs * 0.9 : Infinity);
  if (auth.exp * 1000 - Date.now() > marginMs) return;
  auth.renewing = (async () => {
    try {
      if (auth.refreshToken) {
        try {
          takeTokens(await postJson('/auth/refresh', { refresh_token: auth.refreshToken }));
        } catch (err) {
          log(`token refresh failed (${err.message}); logging in again`);
          await logIn();
        }
      } else await logIn();
      auth.renewals++;
    } catch (err) {
      auth.renewalFailures++;
      log(`token renewal failed: ${err.message}`);
      await sleep(2000); // the next tick tries again after this
    } finally {
      auth.renewing = undefined;
    }
  })();
}

if (!auth.token) {
  if (!canLogIn)
    fail('give ACCESS_TOKEN, or LOGIN_EMAIL/LOGIN_USERNAME (or ADMIN_EMAIL/ADMIN_USERNAME) and LOGIN_PASSWORD (or ADMIN_PASSWORD)');
  try {
    await logIn();
  } catch (err) {
    fail(`cannot log in: ${err.message}`);
  }
} else auth.exp = claims(auth.token).exp ?? 0;

const userId = process.env.EVENT_USER_ID || claims(auth.token).sub;
if (!userId) fail('EVENT_USER_ID is required when the token names no subject');
if (!canLogIn && auth.exp && durationSeconds !== undefined && auth.exp * 1000 < Date.now() + durationSeconds * 1000) {
  log(
    `warning: ACCESS_TOKEN expires in ${Math.round(auth.exp - Date.now() / 1000)} s, before the run ends; requests after that fail with 401`,
  );
}

// ---------------------------------------------------------------------------------------------
// Sending

const startedAt = Date.now();
const at = () => Date.now() - startedAt;
const stats = {
  sent: 0,
  ok: 0,
  failed: 0,
  skipped: 0,
  failuresByReason: {},
  failureSamples: {},
  firstFailureAtMs: null,
  lastFailureAtMs: null,
};
const acknowledged = []; // [first, last] per acknowledged request, in completion order
const latencies = [];
const gaps = []; // {atMs, ms}: times without a successful answer
let lastSuccessAt = 0; // offset of the last successful answer (the start counts as one)
let seq = 0;
let inFlight = 0;
const pending = new Set();

function recordGap(now) {
  const ms = now - lastSuccessAt;
  if (ms > 0) gaps.push({ atMs: lastSuccessAt, ms });
  if (gaps.length > 1000) {
    gaps.sort((a, b) => b.ms - a.ms);
    gaps.length = 100;
  }
}

function recordFailure(reason, detail) {
  stats.failed++;
  stats.failuresByReason[reason] = (stats.failuresByReason[reason] ?? 0) + 1;
  stats.failureSamples[reason] ??= String(detail).slice(0, 300);
  stats.firstFailureAtMs ??= at();
  stats.lastFailureAtMs = at();
}

function makeBatch(first) {
  const timestamp = new Date().toISOString();
  const events = [];
  for (let i = 0; i < batchSize; i++) {
    events.push({
      event_id: `${idPrefix}${first + i}`,
      event_type: 'content_view',
      user_id: userId,
      session_id: runId,
      timestamp,
      data: { time_spent_seconds: 1 + ((first + i) % 30) },
    });
  }
  return events;
}

async function sendOne() {
  const first = seq + 1;
  seq += batchSize;
  const last = seq;
  const events = makeBatch(first);
  stats.sent++;
  inFlight++;
  const t0 = performance.now();
  try {
    let res;
    try {
      res = await fetch(`${base}/api/analytics/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${auth.token}` },
        body: JSON.stringify(events),
        signal: AbortSignal.timeout(requestTimeoutMs),
      });
    } catch (err) {
      if (err.name === 'TimeoutError') return recordFailure('timeout', `no answer in ${requestTimeoutMs} ms`);
      const code = err.cause?.code ?? err.cause?.name ?? err.name;
      return recordFailure(`network_${code}`, err.cause?.message ?? err.message);
    }
    let text;
    try {
      text = await res.text();
    } catch (err) {
      return recordFailure(err.name === 'TimeoutError' ? 'timeout' : `body_${err.cause?.code ?? err.name}`, err.message);
    }
    if (res.status < 200 || res.status > 299) {
      let detail = text;
      try {
        const problem = JSON.parse(text);
        detail = `${problem.title ?? ''}: ${problem.detail ?? text}`;
      } catch {
        // not JSON: the text itself
      }
      return recordFailure(`http_${res.status}`, detail);
    }
    let accepted;
    try {
      accepted = JSON.parse(text).accepted;
    } catch {
      return recordFailure('bad_ack', `a ${res.status} whose body is not JSON: ${text.slice(0, 200)}`);
    }
    if (!Array.isArray(accepted) || accepted.length !== events.length || accepted.some((id, i) => id !== events[i].event_id)) {
      return recordFailure('bad_ack', `accepted is not the ids sent: ${JSON.stringify(accepted)?.slice(0, 200)}`);
    }
    stats.ok++;
    acknowledged.push([first, last]);
    latencies.push(performance.now() - t0);
    const now = at();
    recordGap(now);
    lastSuccessAt = now;
  } finally {
    inFlight--;
  }
}

// Stopping: the duration, SIGTERM/SIGINT, or the stop file (one there before the start is ignored until it changes).
let stopReason;
const stopFileAtStart = existsSync(stopFile) ? statSync(stopFile).mtimeMs : undefined;
if (stopFileAtStart !== undefined) log(`${stopFile} exists already: ignored until it is touched again`);
for (const signal of ['SIGTERM', 'SIGINT']) process.once(signal, () => (stopReason ??= signal));
function stopFileSeen() {
  try {
    const mtime = statSync(stopFile).mtimeMs;
    return stopFileAtStart === undefined || mtime !== stopFileAtStart;
  } catch {
    return false;
  }
}

log(
  `sending ${rate} requests/s of ${batchSize} events to ${base} as user ${userId}, ids ${idPrefix}1…; ` +
    (durationSeconds !== undefined ? `for ${durationSeconds} s` : `until SIGTERM or ${stopFile}`),
);
const intervalMs = 1000 / rate;
let tick = 0;
let lastReport = 0;
for (;;) {
  if (durationSeconds !== undefined && at() >= durationSeconds * 1000) stopReason ??= 'duration';
  if (tick % Math.max(1, Math.round(rate / 4)) === 0 && stopFileSeen()) stopReason ??= 'stop file';
  if (stopReason) break;
  renewIfDue();
  if (inFlight >= maxInFlight) stats.skipped++;
  else {
    const p = sendOne().catch((err) => recordFailure('client_error', err?.stack ?? err));
    pending.add(p);
    void p.finally(() => pending.delete(p));
  }
  if (at() - lastReport >= 5000) {
    lastReport = at();
    log(`t=${(lastReport / 1000).toFixed(0)} s sent ${stats.sent} ok ${stats.ok} failed ${stats.failed} in flight ${inFlight}`);
  }
  tick++;
  // Open loop on a fixed schedule: tick n is due at n × interval, whatever the answers take.
  const wait = tick * intervalMs - at();
  if (wait > 0) await sleep(wait);
  else if (wait < -1000) tick = Math.floor(at() / intervalMs); // stalled for over a second: no burst to catch up
}
log(`stopping (${stopReason}); waiting for ${pending.size} request(s) in flight`);
await Promise.allSettled([...pending]);
const durationMs = at();
recordGap(durationMs);

// ---------------------------------------------------------------------------------------------
// The report

function mergedRanges() {
  const sorted = [...acknowledged].sort((a, b) => a[0] - b[0]);
  const out = [];
  for (const [a, b] of sorted) {
    const last = out.at(-1);
    if (last && a === last[1] + 1) last[1] = b;
    else out.push([a, b]);
  }
  return out;
}

const ranges = mergedRanges();
const acknowledgedCount = ranges.reduce((n, [a, b]) => n + b - a + 1, 0);
const quantile = (sorted, q) => (sorted.length ? Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]) : null);
const sortedLatencies = latencies.sort((a, b) => a - b);
gaps.sort((a, b) => b.ms - a.ms);
const longest = gaps[0] ?? { atMs: 0, ms: durationMs };
const escaped = idPrefix.replaceAll("'", "''");
const checkSql = ranges.length
  ? `SELECT count(*) AS missing FROM (VALUES ${ranges.map(([a, b]) => `(${a},${b})`).join(',')}) AS r(a, b), generate_series(r.a, r.b) AS s(n) ` +
    `WHERE NOT EXISTS (SELECT 1 FROM content.learning_events e WHERE e.event_id = '${escaped}' || s.n)`
  : 'SELECT 0 AS missing';

const report = {
  run_id: runId,
  id_prefix: idPrefix,
  user_id: userId,
  stop_reason: stopReason,
  acknowledged:
    ackFormat === 'ids'
      ? { format: 'ids', ids: ranges.flatMap(([a, b]) => Array.from({ length: b - a + 1 }, (_, i) => `${idPrefix}${a + i}`)) }
      : { format: 'ranges', ranges },
  acknowledged_count: acknowledgedCount,
  sent: stats.sent,
  ok: stats.ok,
  failed: stats.failed,
  skipped: stats.skipped,
  failuresByReason: stats.failuresByReason,
  failureSamples: stats.failureSamples,
  firstFailureAtMs: stats.firstFailureAtMs,
  lastFailureAtMs: stats.lastFailureAtMs,
  maxGapMs: Math.round(longest.ms),
  maxGapAtMs: Math.round(longest.atMs),
  longestGaps: gaps.slice(0, 5).map((g) => ({ atMs: Math.round(g.atMs), ms: Math.round(g.ms) })),
  latencyMs: {
    p50: quantile(sortedLatencies, 0.5),
    p95: quantile(sortedLatencies, 0.95),
    p99: quantile(sortedLatencies, 0.99),
    max: quantile(sortedLatencies, 1),
  },
  rate,
  batchSize,
  eventsPerSecond: Math.round((acknowledgedCount / Math.max(1, durationMs)) * 1000 * 10) / 10,
  tokenRenewals: auth.renewals,
  tokenRenewalFailures: auth.renewalFailures,
  durationMs,
  check_sql: checkSql,
};
process.stdout.write(`${JSON.stringify(report)}\n`);
log(
  `done: sent ${stats.sent}, ok ${stats.ok}, failed ${stats.failed}, acknowledged ${acknowledgedCount} events, max gap ${report.maxGapMs} ms`,
);
