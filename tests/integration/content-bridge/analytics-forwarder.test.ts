/**
 * The outbound analytics stream against real PostgreSQL, with a local HTTP server playing the
 * analytics module: it fails, hangs and recovers; the bridge restarts mid-stream; two bridges share
 * one database. Nothing committed may be lost, and no batch may be in flight twice at once.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { waitUntil } from '../../harness/index.ts';
import { connectSql } from '../support/drivers.ts';
import { startTestBridge, type TestBridge } from '../support/content-bridge.ts';
import { client, signUp } from '../support/http.ts';

type Mode = 'ok' | 'fail' | 'hang';

interface Delivery {
  ids: string[];
  status: number | 'hung';
  token: string | undefined;
  body: any;
}

/** The analytics module: POST /events/batch, answering per `mode` after `delayMs`. */
async function fakeAnalyticsModule() {
  const state = {
    mode: 'ok' as Mode,
    delayMs: 0,
    attempts: [] as Delivery[],
    /** Ids the module acknowledged with a 2xx, with how often. */
    acked: new Map<string, number>(),
    inFlight: new Set<string>(),
    /** Ids that arrived while an earlier request carrying them was still unanswered. */
    overlaps: [] as string[],
    wrongPaths: 0,
  };
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/events/batch') {
        state.wrongPaths++;
        res.writeHead(404).end();
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString());
      const ids: string[] = body.events.map((e: { event_id: string }) => e.event_id);
      for (const id of ids) {
        if (state.inFlight.has(id)) state.overlaps.push(id);
        state.inFlight.add(id);
      }
      const mode = state.mode;
      const delivery: Delivery = { ids, status: 'hung', token: req.headers['x-service-token'] as string | undefined, body };
      state.attempts.push(delivery);
      const release = () => ids.forEach((id) => state.inFlight.delete(id));
      if (mode === 'hang') {
        req.socket.once('close', release); // the client gives up; never answered
        return;
      }
      setTimeout(() => {
        delivery.status = mode === 'ok' ? 202 : 500;
        if (mode === 'ok') for (const id of ids) state.acked.set(id, (state.acked.get(id) ?? 0) + 1);
        release();
        res.writeHead(delivery.status, { 'content-type': 'application/json' }).end('{}');
      }, state.delayMs);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    state,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

type Module = Awaited<ReturnType<typeof fakeAnalyticsModule>>;

const env = (module: Module, extra: Record<string, string> = {}) => ({
  HMA_ANALYTICS_API_URL: `${module.url}/`,
  HMA_ANALYTICS_BATCH_SIZE: '10',
  HMA_ANALYTICS_FLUSH_INTERVAL: '0.05',
  HMA_ANALYTICS_REQUEST_TIMEOUT: '0.5',
  HMA_ANALYTICS_MAX_BACKOFF: '0.3',
  HMA_ANALYTICS_SERVICE_TOKEN: 'svc-token-for-tests',
  ...extra,
});

function events(userId: string, n: number) {
  return Array.from({ length: n }, (_, i) => ({
    event_id: randomUUID(),
    event_type: i % 3 === 0 ? 'progress_update' : 'content_view',
    user_id: userId,
    session_id: 's1',
    timestamp: new Date(Date.UTC(2025, 4, 1, 12, 0, i)).toISOString(),
    context: { course_id: 'fwd-course', content_id: `fwd-content-${i % 4}`, device_type: 'mobile' },
    data: { time_spent_seconds: i, ...(i % 3 === 0 ? { progress_percentage: 50 } : {}) },
  }));
}

async function adminToken(tb: TestBridge): Promise<string> {
  const res = await client(tb.url).post('/auth/login', { username: 'admin', password: tb.adminCredentials.password });
  return res.body.access_token;
}

async function post(tb: TestBridge, token: string, batch: unknown[]): Promise<string[]> {
  const res = await client(tb.url).post('/api/analytics/events', batch, token);
  if (res.status !== 200) throw new Error(`post events: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.accepted;
}

async function unsynced(tb: TestBridge): Promise<number> {
  const { rows } = await tb.deps.db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM content.learning_events WHERE NOT synced_to_analytics',
  );
  return rows[0]!.n;
}

const allAcked = (module: Module, ids: string[]) => ids.every((id) => module.state.acked.has(id));

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close().catch(() => undefined);
});
afterAll(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close().catch(() => undefined);
});

describe('analytics forwarder', () => {
  it('streams committed events in batches to /events/batch with the service token, then marks them synced', async () => {
    const module = await fakeAnalyticsModule();
    open.push(module);
    const tb = await startTestBridge({ env: env(module) });
    open.push(tb);
    const token = await adminToken(tb);
    const sent = events('fwd-user', 23);
    const ids = await post(tb, token, sent);
    const forwarder = tb.bridge.analytics.forwarder!;
    // The rows are marked synced in the batch's transaction; the forwarder counts the batch just after.
    await waitUntil(
      'all events delivered',
      async () => allAcked(module, ids) && (await unsynced(tb)) === 0 && forwarder.stats.eventsSent === 23,
      { timeoutMs: 20_000 },
    );
    expect(module.state.wrongPaths).toBe(0);
    expect(module.state.attempts.every((a) => a.token === 'svc-token-for-tests')).toBe(true);
    expect(module.state.attempts.every((a) => a.ids.length <= 10)).toBe(true);
    const first = module.state.attempts.flatMap((a) => a.body.events).find((e: { event_id: string }) => e.event_id === sent[0]!.event_id);
    expect(first).toEqual({ ...sent[0], timestamp: '2025-05-01T12:00:00.000Z' });
    expect(module.state.attempts[0]!.body).toMatchObject({ batch_id: expect.any(String), source: 'hma-content-bridge' });
  });

  it('keeps events unsynced while the module fails or hangs, backs off, and delivers everything after it recovers', async () => {
    const module = await fakeAnalyticsModule();
    open.push(module);
    module.state.mode = 'fail';
    const tb = await startTestBridge({ env: env(module) });
    open.push(tb);
    const token = await adminToken(tb);
    const forwarder = tb.bridge.analytics.forwarder!;
    const ids = await post(tb, token, events('fwd-user', 25));

    await waitUntil('several failed attempts', async () => forwarder.stats.failures >= 3, { timeoutMs: 20_000 });
    expect(await unsynced(tb)).toBe(25);
    expect(module.state.acked.size).toBe(0);
    expect(forwarder.stats.lastError).toContain('500');

    module.state.mode = 'hang';
    const failuresBefore = forwarder.stats.failures;
    await waitUntil(
      'a timed-out attempt',
      async () => forwarder.stats.failures > failuresBefore && module.state.attempts.some((a) => a.status === 'hung'),
      {
        timeoutMs: 20_000,
      },
    );
    expect(await unsynced(tb)).toBe(25);

    module.state.mode = 'ok';
    const more = await post(tb, token, events('fwd-user', 7));
    await waitUntil(
      'recovered',
      async () => allAcked(module, [...ids, ...more]) && (await unsynced(tb)) === 0 && forwarder.stats.eventsSent === 32,
      { timeoutMs: 30_000 },
    );
    expect(forwarder.stats.consecutiveFailures).toBe(0);
    // What the dashboard and HuntMasterAnalyticsForwardingFailing read.
    const metrics = await (await fetch(`${tb.url}/metrics`)).text();
    const counter = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN);
    expect(counter('hma_analytics_forwarded_events_total')).toBe(32);
    expect(counter('hma_analytics_forward_failures_total')).toBe(forwarder.stats.failures);
    expect(forwarder.stats.failures).toBeGreaterThanOrEqual(4);
    // Once acknowledged, never sent again.
    expect([...module.state.acked.values()].every((n) => n === 1)).toBe(true);
  });

  it('resumes after a restart on the same database without losing anything', async () => {
    const module = await fakeAnalyticsModule();
    open.push(module);
    module.state.delayMs = 40;
    const first = await startTestBridge({ env: env(module) });
    open.push(first);
    const token = await adminToken(first);
    const ids = await post(first, token, events('fwd-user', 120));
    await waitUntil('some delivered', async () => module.state.acked.size >= 20, { timeoutMs: 20_000 });
    // Stop mid-stream while the module stops answering: the in-flight batch is abandoned (rolled back).
    module.state.mode = 'hang';
    await first.close();
    module.state.mode = 'ok';
    const delivered = module.state.acked.size;
    expect(delivered).toBeLessThan(120);
    const sql = await connectSql(first.databaseUrl);
    const left = await sql.query('SELECT count(*)::int AS n FROM content.learning_events WHERE NOT synced_to_analytics');
    await sql.end();
    expect(left.rows[0].n).toBe(120 - delivered);

    const second = await startTestBridge({ env: env(module), databaseUrl: first.databaseUrl });
    open.push(second);
    const api = client(second.url);
    const student = await signUp(api, { username: 'restart_student' });
    const later = events(student.userId, 5);
    const res = await api.post('/api/analytics/events', later, student.token);
    expect(res.status).toBe(200);
    const all = [...ids, ...res.body.accepted];
    await waitUntil('everything delivered after restart', async () => allAcked(module, all) && (await unsynced(second)) === 0, {
      timeoutMs: 30_000,
    });
    const { rows } = await second.deps.db.query<{ event_id: string }>('SELECT event_id FROM content.learning_events');
    expect(rows.map((r) => r.event_id).every((id) => module.state.acked.has(id))).toBe(true);
    expect(rows).toHaveLength(125);
  });

  it('lets two bridges on one database share the stream without sending any event twice at once', async () => {
    const module = await fakeAnalyticsModule();
    open.push(module);
    module.state.delayMs = 25;
    // A generous timeout: this test wants no failed attempt, so that every event is sent exactly once.
    const settings = { HMA_ANALYTICS_FLUSH_INTERVAL: '0.02', HMA_ANALYTICS_REQUEST_TIMEOUT: '10' };
    const one = await startTestBridge({ env: env(module, settings) });
    open.push(one);
    const two = await startTestBridge({ env: env(module, settings), databaseUrl: one.databaseUrl });
    open.push(two);
    const token = await adminToken(one);
    const ids = (await Promise.all([0, 1, 2].map(() => post(one, token, events('fwd-user', 100))))).flat();
    await waitUntil('all delivered', async () => allAcked(module, ids) && (await unsynced(one)) === 0, { timeoutMs: 30_000 });
    expect(module.state.overlaps).toEqual([]);
    expect(module.state.attempts.every((a) => a.status === 202)).toBe(true);
    // Without failures, at-least-once is exactly once.
    expect([...module.state.acked.values()].every((n) => n === 1)).toBe(true);
    const sentByEach = [one, two].map((tb) => tb.bridge.analytics.forwarder!.stats.eventsSent);
    expect(sentByEach[0]! + sentByEach[1]!).toBe(300);
  });
});
