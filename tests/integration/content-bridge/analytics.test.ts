/**
 * Learning analytics against real PostgreSQL and Redis: ingestion (validation, idempotency,
 * all-or-nothing, authorization), xAPI statements, the incremental aggregates, reports and CSV,
 * and the group-commit writer under concurrency.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bodyHash } from '../../../services/kit/canonical.ts';
import type { PreparedEvent } from '../../../services/content-bridge/analytics/model.ts';
import { roundNumbers, summariesAsKept, summariesFromEvents } from '../support/analytics.ts';
import { startTestBridge, type TestBridge } from '../support/content-bridge.ts';
import { client, signUp, type Client } from '../support/http.ts';

let tb: TestBridge;
let api: Client;
let admin: string;
let instructor: { token: string; userId: string };
let alice: { token: string; userId: string; email: string };
let bob: { token: string; userId: string };

beforeAll(async () => {
  tb = await startTestBridge();
  api = client(tb.url);
  const login = await api.post('/auth/login', { username: 'admin', password: tb.adminCredentials.password });
  admin = login.body.access_token;
  instructor = await signUp(api, { username: 'ana_instructor', adminToken: admin, roles: ['instructor'] });
  alice = await signUp(api, { username: 'alice_student' });
  bob = await signUp(api, { username: 'bob_student' });
});
afterAll(() => tb?.close());

const db = () => tb.bridge.context.deps.db;
const XAPI = { 'X-Experience-API-Version': '1.0.3' };

function ev(userId: string, overrides: Record<string, unknown> = {}) {
  return {
    event_id: randomUUID(),
    event_type: 'content_view',
    user_id: userId,
    session_id: 'sess-1',
    timestamp: '2025-03-01T10:00:00Z',
    context: { course_id: 'course-a', content_id: 'content-1', device_type: 'desktop', browser: 'Firefox', ip_address: '203.0.113.9' },
    data: { time_spent_seconds: 30 },
    ...overrides,
  };
}

async function countEvents(ids: string[]): Promise<number> {
  const { rows } = await db().query<{ n: number }>('SELECT count(*)::int AS n FROM content.learning_events WHERE event_id = ANY($1)', [
    ids,
  ]);
  return rows[0]!.n;
}

describe('POST /api/analytics/events', () => {
  it('stores one event and answers with its id once committed', async () => {
    const event = ev(alice.userId);
    const res = await api.post('/api/analytics/events', event, alice.token);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ accepted: [event.event_id] });
    const { rows } = await db().query<Record<string, any>>('SELECT * FROM content.learning_events WHERE event_id = $1', [event.event_id]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      event_type: 'content_view',
      user_id: alice.userId,
      course_id: 'course-a',
      content_id: 'content-1',
      session_id: 'sess-1',
      source: 'api',
      submitted_by: alice.userId,
      synced_to_analytics: false,
      event_data: { time_spent_seconds: 30 },
      context_data: { device_type: 'desktop', browser: 'Firefox', ip_address: '203.0.113.9' },
    });
    expect(rows[0]!.body_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[0]!.processed_at).not.toBeNull();
    expect((rows[0]!.occurred_at as Date).toISOString()).toBe('2025-03-01T10:00:00.000Z');
  });

  it('generates a UUID event_id when missing and keeps batch order', async () => {
    const batch = [
      ev(alice.userId, { event_id: undefined }),
      ev(alice.userId),
      ev(alice.userId, { event_id: undefined, event_type: 'login' }),
    ];
    const res = await api.post('/api/analytics/events', batch, alice.token);
    expect(res.status).toBe(200);
    expect(res.body.accepted).toHaveLength(3);
    expect(res.body.accepted[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(res.body.accepted[1]).toBe(batch[1]!.event_id);
    expect(await countEvents(res.body.accepted)).toBe(3);
  });

  it('rejects a batch with invalid items as a whole, locating every problem', async () => {
    const batch = [
      ev(alice.userId),
      ev(alice.userId, { timestamp: 'yesterday' }),
      ev(alice.userId),
      ev(alice.userId, { event_type: 'page_view' }),
      ev(alice.userId, { context: { device_type: 'fridge' }, data: { progress_percentage: 140 }, extra: 1 }),
    ];
    const res = await api.post('/api/analytics/events', batch, alice.token);
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    const locations = res.body.errors.map((e: { location: string }) => e.location);
    expect(locations).toEqual(
      expect.arrayContaining([
        'body[1].timestamp',
        'body[3].event_type',
        'body[4].context.device_type',
        'body[4].data.progress_percentage',
        'body[4]',
      ]),
    );
    expect(locations.some((l: string) => l.startsWith('body[0]') || l.startsWith('body[2]'))).toBe(false);
    expect(await countEvents(batch.map((e) => e.event_id))).toBe(0);
  });

  it('locates problems of a single event under body', async () => {
    const res = await api.post('/api/analytics/events', ev(alice.userId, { event_type: 'nope', user_id: '' }), alice.token);
    expect(res.status).toBe(422);
    expect(res.body.errors.map((e: { location: string }) => e.location).sort()).toEqual(['body.event_type', 'body.user_id']);
  });

  it('refuses future timestamps, empty and over-long batches and oversized bodies', async () => {
    const future = await api.post(
      '/api/analytics/events',
      ev(alice.userId, { timestamp: new Date(Date.now() + 3 * 86_400_000).toISOString() }),
      alice.token,
    );
    expect(future.status).toBe(422);
    expect((await api.post('/api/analytics/events', [], alice.token)).status).toBe(422);
    expect((await api.post('/api/analytics/events', undefined, alice.token)).status).toBe(422);
    const tooMany = Array.from({ length: 1001 }, () => ev(alice.userId, { context: undefined, data: undefined, session_id: undefined }));
    const res = await api.post('/api/analytics/events', tooMany, alice.token);
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([{ location: 'body', message: expect.stringContaining('at most 1000') }]);
    expect(await countEvents(tooMany.map((e) => e.event_id))).toBe(0);
    const huge = Array.from({ length: 1000 }, () => ev(alice.userId, { data: { custom_fields: { blob: 'x'.repeat(6000) } } }));
    expect((await api.post('/api/analytics/events', huge, alice.token)).status).toBe(413);
  });

  it('accepts a full batch of 1000 events in one request', async () => {
    const batch = Array.from({ length: 1000 }, (_, i) =>
      ev(instructor.userId, { context: { course_id: 'bulk', content_id: `bulk-${i % 7}` } }),
    );
    const res = await api.post('/api/analytics/events', batch, instructor.token);
    expect(res.status).toBe(200);
    expect(res.body.accepted).toEqual(batch.map((e) => e.event_id));
    expect(await countEvents(res.body.accepted)).toBe(1000);
  });
});

describe('idempotency', () => {
  it('treats a replay with the same body as a no-op, even with an equivalent timestamp spelling', async () => {
    const event = ev(alice.userId, { event_type: 'assessment_complete', data: { score: 91 } });
    expect((await api.post('/api/analytics/events', event, alice.token)).status).toBe(200);
    const before = await db().query<{ events: number }>(
      "SELECT events FROM content.analytics_daily_summaries WHERE user_id = $1 AND course_id = 'course-a' AND summary_date = '2025-03-01'",
      [alice.userId],
    );
    const again = await api.post('/api/analytics/events', { ...event, timestamp: '2025-03-01T11:00:00+01:00' }, alice.token);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ accepted: [event.event_id] });
    expect(await countEvents([event.event_id])).toBe(1);
    const after = await db().query<{ events: number }>(
      "SELECT events FROM content.analytics_daily_summaries WHERE user_id = $1 AND course_id = 'course-a' AND summary_date = '2025-03-01'",
      [alice.userId],
    );
    expect(after.rows[0]!.events).toBe(before.rows[0]!.events);
  });

  it('answers 409 to the same id with a different body and rejects the whole batch', async () => {
    const stored = ev(alice.userId);
    expect((await api.post('/api/analytics/events', stored, alice.token)).status).toBe(200);
    const fresh = ev(alice.userId);
    const res = await api.post('/api/analytics/events', [fresh, { ...stored, data: { time_spent_seconds: 31 } }], alice.token);
    expect(res.status).toBe(409);
    expect(res.body.conflicting_ids).toEqual([stored.event_id]);
    expect(await countEvents([fresh.event_id])).toBe(0);
    const { rows } = await db().query<{ event_data: unknown }>('SELECT event_data FROM content.learning_events WHERE event_id = $1', [
      stored.event_id,
    ]);
    expect(rows[0]!.event_data).toEqual({ time_spent_seconds: 30 });
  });

  it('collapses a repeated id inside one batch when bodies match and refuses it when they differ', async () => {
    const a = ev(alice.userId);
    const same = await api.post('/api/analytics/events', [a, ev(alice.userId), a], alice.token);
    expect(same.status).toBe(200);
    expect(same.body.accepted).toHaveLength(3);
    expect(await countEvents([a.event_id])).toBe(1);
    const b = ev(alice.userId);
    const differ = await api.post('/api/analytics/events', [b, { ...b, session_id: 'other' }], alice.token);
    expect(differ.status).toBe(422);
    expect(differ.body.errors).toEqual([{ location: 'body[1].event_id', message: expect.stringContaining('body[0]') }]);
    expect(await countEvents([b.event_id])).toBe(0);
  });

  it('lets exactly one of many concurrent different bodies for one new id win', async () => {
    const id = randomUUID();
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        api.post('/api/analytics/events', ev(alice.userId, { event_id: id, data: { time_spent_seconds: i } }), alice.token),
      ),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409)).toHaveLength(11);
    expect(await countEvents([id])).toBe(1);
  });

  it('stores concurrent replays of one event once and counts it once', async () => {
    const event = ev(bob.userId, {
      context: { course_id: 'replay-course', content_id: 'replay-content' },
      data: { time_spent_seconds: 10 },
    });
    const results = await Promise.all(Array.from({ length: 15 }, () => api.post('/api/analytics/events', event, bob.token)));
    expect(results.map((r) => r.status)).toEqual(Array(15).fill(200));
    expect(await countEvents([event.event_id])).toBe(1);
    const { rows } = await db().query<{ events: number; total: number }>(
      "SELECT events, total_time_seconds::float8 AS total FROM content.analytics_daily_summaries WHERE user_id = $1 AND course_id = 'replay-course'",
      [bob.userId],
    );
    expect(rows).toEqual([{ events: 1, total: 10 }]);
  });
});

describe('authorization', () => {
  it('requires a signed-in caller', async () => {
    expect((await api.post('/api/analytics/events', ev(alice.userId))).status).toBe(401);
    expect((await api.post('/api/xapi/statements', {}, undefined, XAPI)).status).toBe(401);
    expect((await api.get(`/api/analytics/user/${alice.userId}`)).status).toBe(401);
  });

  it("refuses a student's events for another user, storing nothing", async () => {
    const own = ev(alice.userId);
    const foreign = ev(bob.userId);
    const res = await api.post('/api/analytics/events', [own, foreign], alice.token);
    expect(res.status).toBe(403);
    expect(res.body.detail).toContain('body[1]');
    expect(await countEvents([own.event_id, foreign.event_id])).toBe(0);
  });

  it('lets instructors and admins record events for any user id, including ones from other modules', async () => {
    const res = await api.post('/api/analytics/events', [ev(bob.userId), ev('analytics-user-42')], instructor.token);
    expect(res.status).toBe(200);
    expect((await api.post('/api/analytics/events', ev('ext:user/7'), admin)).status).toBe(200);
  });

  it('limits analytics reads by role', async () => {
    expect((await api.get(`/api/analytics/user/${alice.userId}`, alice.token)).status).toBe(200);
    expect((await api.get(`/api/analytics/user/${bob.userId}`, alice.token)).status).toBe(403);
    expect((await api.get(`/api/analytics/user/${alice.userId}`, instructor.token)).status).toBe(200);
    expect((await api.get(`/api/analytics/user/${alice.userId}`, admin)).status).toBe(200);
    expect((await api.get('/api/analytics/content/content-1', alice.token)).status).toBe(403);
    expect((await api.get('/api/analytics/content/content-1', instructor.token)).status).toBe(200);
    expect((await api.post('/api/analytics/reports', { type: 'user_activity' }, alice.token)).status).toBe(403);
    expect((await api.post('/api/analytics/reports', { type: 'user_activity' }, instructor.token)).status).toBe(200);
  });
});

describe('POST /api/xapi/statements', () => {
  const statement = (actor: Record<string, unknown>, overrides: Record<string, unknown> = {}) => ({
    id: randomUUID(),
    actor,
    verb: { id: 'http://adlnet.gov/expapi/verbs/passed', display: { 'en-US': 'passed' } },
    object: { objectType: 'Activity', id: 'https://huntmaster.academy/api/content/xapi-quiz-1' },
    result: { score: { scaled: 0.85 }, success: true, duration: 'PT2M30S' },
    context: { registration: randomUUID(), contextActivities: { parent: [{ id: 'https://huntmaster.academy/api/courses/xapi-course' }] } },
    timestamp: '2025-03-02T09:00:00Z',
    ...overrides,
  });

  it('requires X-Experience-API-Version 1.0.x', async () => {
    const body = statement({ account: { homePage: 'https://huntmaster.academy', name: alice.userId } });
    const missing = await api.post('/api/xapi/statements', body, alice.token);
    expect(missing.status).toBe(400);
    expect(missing.headers.get('x-experience-api-version')).toBe('1.0.3');
    const wrong = await api.post('/api/xapi/statements', body, alice.token, { 'X-Experience-API-Version': '2.0.0' });
    expect(wrong.status).toBe(400);
    expect(await countEvents([body.id])).toBe(0);
  });

  it('stores statements as events through the same path and answers with their ids', async () => {
    const st = statement({ account: { homePage: 'https://huntmaster.academy', name: alice.userId } });
    const res = await api.post('/api/xapi/statements', [st], alice.token, XAPI);
    expect(res.status).toBe(200);
    expect(res.body).toEqual([st.id]);
    expect(res.headers.get('x-experience-api-version')).toBe('1.0.3');
    const { rows } = await db().query<Record<string, any>>('SELECT * FROM content.learning_events WHERE event_id = $1', [st.id]);
    expect(rows[0]).toMatchObject({
      event_type: 'assessment_complete',
      user_id: alice.userId,
      course_id: 'xapi-course',
      content_id: 'xapi-quiz-1',
      session_id: st.context.registration,
      source: 'xapi',
      event_data: {
        score: 85,
        time_spent_seconds: 150,
        custom_fields: { xapi_verb: 'http://adlnet.gov/expapi/verbs/passed', xapi_object: st.object.id, xapi_success: true },
      },
    });
  });

  it('is idempotent on the statement id: replay is a no-op (even without a timestamp), a different body a 409', async () => {
    const st = statement({ account: { homePage: 'https://huntmaster.academy', name: alice.userId } }, { timestamp: undefined });
    expect((await api.post('/api/xapi/statements', st, alice.token, XAPI)).status).toBe(200);
    const replay = await api.post('/api/xapi/statements', st, alice.token, XAPI);
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual([st.id]);
    expect(await countEvents([st.id])).toBe(1);
    const changed = await api.post(
      '/api/xapi/statements',
      { ...st, verb: { id: 'http://adlnet.gov/expapi/verbs/failed' } },
      alice.token,
      XAPI,
    );
    expect(changed.status).toBe(409);
    const asEvent = await api.post('/api/analytics/events', ev(alice.userId, { event_id: st.id }), alice.token);
    expect(asEvent.status).toBe(409);
  });

  it('maps an mbox actor to the platform user with that email and verbs to event types', async () => {
    const st = statement(
      { mbox: `mailto:${alice.email.toUpperCase()}` },
      { verb: { id: 'http://adlnet.gov/expapi/verbs/experienced' }, result: undefined },
    );
    const res = await api.post('/api/xapi/statements', st, alice.token, XAPI);
    expect(res.status).toBe(200);
    const { rows } = await db().query<{ user_id: string; event_type: string }>(
      'SELECT user_id, event_type FROM content.learning_events WHERE event_id = $1',
      [st.id],
    );
    expect(rows[0]).toEqual({ user_id: alice.userId, event_type: 'content_view' });
  });

  it('refuses unknown verbs and actors, and students writing for others, storing nothing', async () => {
    const good = statement({ account: { homePage: 'https://huntmaster.academy', name: alice.userId } });
    const badVerb = statement(
      { account: { homePage: 'https://x', name: alice.userId } },
      { verb: { id: 'http://example.com/verbs/juggled' } },
    );
    const unknownMail = statement({ mbox: 'mailto:nobody@nowhere.test' });
    const res = await api.post('/api/xapi/statements', [good, badVerb, unknownMail], alice.token, XAPI);
    expect(res.status).toBe(422);
    expect(res.body.errors.map((e: { location: string }) => e.location)).toEqual(['body[1].verb.id', 'body[2].actor.mbox']);
    const noActor = await api.post('/api/xapi/statements', { ...good, actor: { name: 'x' } }, alice.token, XAPI);
    expect(noActor.status).toBe(422);
    const foreign = await api.post(
      '/api/xapi/statements',
      statement({ account: { homePage: 'https://x', name: bob.userId } }),
      alice.token,
      XAPI,
    );
    expect(foreign.status).toBe(403);
    expect(await countEvents([good.id, badVerb.id])).toBe(0);
  });
});

/** A small deterministic PRNG, so a failure is reproducible. */
function prng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('aggregates', () => {
  const TYPES = ['content_view', 'progress_update', 'assessment_complete', 'login', 'logout'] as const;

  function randomEvents(n: number, rand: () => number) {
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
    return Array.from({ length: n }, () => {
      const type = pick(TYPES);
      const course = pick(['agg-course-1', 'agg-course-2', null]);
      const content = pick(['agg-content-1', 'agg-content-2', 'agg-content-3', null]);
      const data: Record<string, number> = {};
      if (rand() < 0.7) data.time_spent_seconds = Math.floor(rand() * 600);
      if (type === 'progress_update' || rand() < 0.2) data.progress_percentage = Math.round(rand() * 10000) / 100;
      if (type === 'assessment_complete') data.score = Math.round(rand() * 1000) / 10;
      return {
        event_id: randomUUID(),
        event_type: type,
        user_id: pick(['agg-user-1', 'agg-user-2', 'agg-user-3']),
        timestamp: new Date(Date.UTC(2025, 1, 27 + Math.floor(rand() * 4), Math.floor(rand() * 24), Math.floor(rand() * 60))).toISOString(),
        context: { ...(course ? { course_id: course } : {}), ...(content ? { content_id: content } : {}) },
        data,
      };
    });
  }

  it('keeps summaries equal to a direct aggregate over the events, counting replays once', async () => {
    const events = randomEvents(600, prng(42));
    // Concurrent batches and singles, then replays of a third of them.
    const chunks = [events.slice(0, 250), events.slice(250, 400), ...events.slice(400, 450).map((e) => [e]), events.slice(450)];
    const results = await Promise.all(chunks.map((c) => api.post('/api/analytics/events', c, admin)));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect((await api.post('/api/analytics/events', events.slice(0, 200), admin)).status).toBe(200);

    const incremental = await summariesAsKept(db(), 'agg-user-%');
    expect(incremental.length).toBeGreaterThan(10);
    expect(incremental).toEqual(await summariesFromEvents(db(), 'agg-user-%'));

    const contentIncremental = await db().query(
      `SELECT content_id, events, views, unique_users, time_seconds::float8 AS t, progress_count, progress_sum::float8 AS ps,
              assessments_completed, score_count, score_sum::float8 AS ss
         FROM content.analytics_content_stats WHERE content_id LIKE 'agg-content-%' ORDER BY 1`,
    );
    const contentDirect = await db().query(
      `SELECT content_id, count(*)::int AS events, (count(*) FILTER (WHERE event_type = 'content_view'))::int AS views,
              count(DISTINCT user_id)::int AS unique_users, coalesce(sum((event_data ->> 'time_spent_seconds')::numeric), 0)::float8 AS t,
              count(event_data ->> 'progress_percentage')::int AS progress_count,
              coalesce(sum((event_data ->> 'progress_percentage')::numeric), 0)::float8 AS ps,
              (count(*) FILTER (WHERE event_type = 'assessment_complete'))::int AS assessments_completed,
              count(event_data ->> 'score')::int AS score_count, coalesce(sum((event_data ->> 'score')::numeric), 0)::float8 AS ss
         FROM content.learning_events WHERE content_id LIKE 'agg-content-%' GROUP BY 1 ORDER BY 1`,
    );
    expect(roundNumbers(contentIncremental.rows)).toEqual(roundNumbers(contentDirect.rows));
  });

  it('serves per-day, per-course summaries and totals for a user', async () => {
    const res = await api.get('/api/analytics/user/agg-user-1?from=2025-02-27&to=2025-03-02', instructor.token);
    expect(res.status).toBe(200);
    const { rows } = await db().query<{ events: number; t: number; items: number; a: number; avg: number | null; days: number }>(
      `SELECT count(*)::int AS events, coalesce(sum((event_data ->> 'time_spent_seconds')::numeric), 0)::float8 AS t,
              count(DISTINCT content_id)::int AS items, (count(*) FILTER (WHERE event_type = 'assessment_complete'))::int AS a,
              round(avg((event_data ->> 'score')::numeric), 2)::float8 AS avg,
              count(DISTINCT (occurred_at AT TIME ZONE 'UTC')::date)::int AS days
         FROM content.learning_events WHERE user_id = 'agg-user-1'`,
    );
    const direct = rows[0]!;
    expect(res.body.totals).toEqual({
      active_days: direct.days,
      events: direct.events,
      content_views: expect.any(Number),
      total_time_seconds: direct.t,
      total_time_minutes: Math.floor(direct.t / 60),
      content_items_accessed: direct.items,
      assessments_completed: direct.a,
      average_score: direct.avg,
    });
    expect(res.body.days.reduce((s: number, d: { events: number }) => s + d.events, 0)).toBe(direct.events);
    expect(res.body.courses.map((c: { course_id: string | null }) => c.course_id)).toEqual([null, 'agg-course-1', 'agg-course-2']);
    const narrowed = await api.get('/api/analytics/user/agg-user-1?from=2025-02-27&to=2025-03-02&course_id=agg-course-2', instructor.token);
    expect(narrowed.body.courses.map((c: { course_id: string | null }) => c.course_id)).toEqual(['agg-course-2']);
    const bad = await api.get('/api/analytics/user/agg-user-1?from=2025-03-02&to=2025-02-27', instructor.token);
    expect(bad.status).toBe(422);
  });

  it("serves a user's per-course totals and the course summary report exactly as the events add up", async () => {
    const time = "coalesce(sum((event_data ->> 'time_spent_seconds')::numeric), 0)";
    const day = "(occurred_at AT TIME ZONE 'UTC')::date";
    const shared = `count(DISTINCT ${day})::int AS active_days, count(*)::int AS events,
              (count(*) FILTER (WHERE event_type = 'content_view'))::int AS content_views,
              count(DISTINCT content_id)::int AS content_items_accessed,
              (count(*) FILTER (WHERE event_type = 'assessment_complete'))::int AS assessments_completed,
              round(avg((event_data ->> 'score')::numeric), 2)::float8 AS average_score`;
    const res = await api.get('/api/analytics/user/agg-user-1?from=2025-02-27&to=2025-03-02', instructor.token);
    const perCourse = await db().query(
      `SELECT course_id, ${shared}, ${time}::float8 AS total_time_seconds, floor(${time}::float8 / 60)::int AS total_time_minutes,
              max((event_data ->> 'progress_percentage')::numeric)::float8 AS progress_made
         FROM content.learning_events WHERE user_id = 'agg-user-1' GROUP BY course_id ORDER BY course_id NULLS FIRST`,
    );
    expect(perCourse.rows.length).toBe(3);
    expect(roundNumbers(res.body.courses)).toEqual(roundNumbers(perCourse.rows));

    const report = await api.post(
      '/api/analytics/reports',
      { type: 'course_summary', filters: { from: '2025-02-27', to: '2025-03-02' } },
      admin,
    );
    const courses = await db().query(
      `SELECT course_id, count(DISTINCT user_id)::int AS learners, ${shared}, floor(${time} / 60)::int AS total_time_minutes
         FROM content.learning_events
        WHERE course_id LIKE 'agg-course-%' AND ${day} BETWEEN '2025-02-27' AND '2025-03-02'
        GROUP BY course_id ORDER BY course_id`,
    );
    const reported = report.body.rows.filter((r: { course_id: string | null }) => r.course_id?.startsWith('agg-course-'));
    expect(roundNumbers(reported)).toEqual(roundNumbers(courses.rows));
  });

  it('serves per-content engagement', async () => {
    const res = await api.get('/api/analytics/content/agg-content-2', instructor.token);
    expect(res.status).toBe(200);
    const { rows } = await db().query<Record<string, number>>(
      `SELECT (count(*) FILTER (WHERE event_type = 'content_view'))::int AS views, count(DISTINCT user_id)::int AS users,
              round(avg((event_data ->> 'progress_percentage')::numeric), 2)::float8 AS progress,
              round(coalesce(sum((event_data ->> 'time_spent_seconds')::numeric), 0) / count(DISTINCT user_id), 2)::float8 AS time
         FROM content.learning_events WHERE content_id = 'agg-content-2'`,
    );
    expect(res.body).toMatchObject({
      content_id: 'agg-content-2',
      views: rows[0]!.views,
      unique_users: rows[0]!.users,
      average_progress: rows[0]!.progress,
      average_time_seconds: rows[0]!.time,
    });
    const none = await api.get('/api/analytics/content/never-seen', instructor.token);
    expect(none.body).toMatchObject({ views: 0, unique_users: 0, average_progress: null });
  });
});

describe('reports', () => {
  it('builds user_activity, content_engagement and course_summary as JSON', async () => {
    const filters = { from: '2025-02-27', to: '2025-03-02', user_id: 'agg-user-2' };
    const activity = await api.post('/api/analytics/reports', { type: 'user_activity', filters }, instructor.token);
    expect(activity.status).toBe(200);
    expect(activity.body.rows.length).toBeGreaterThan(0);
    expect(activity.body.rows.every((r: { user_id: string }) => r.user_id === 'agg-user-2')).toBe(true);
    expect(activity.body.columns).toContain('total_time_minutes');
    const engagement = await api.post(
      '/api/analytics/reports',
      { type: 'content_engagement', filters: { course_id: 'agg-course-1' } },
      admin,
    );
    expect(engagement.body.rows.map((r: { content_id: string }) => r.content_id)).toEqual([
      'agg-content-1',
      'agg-content-2',
      'agg-content-3',
    ]);
    const courses = await api.post(
      '/api/analytics/reports',
      { type: 'course_summary', filters: { from: '2025-02-27', to: '2025-03-02' } },
      admin,
    );
    const c1 = courses.body.rows.find((r: { course_id: string }) => r.course_id === 'agg-course-1');
    const { rows } = await db().query<{ learners: number; events: number }>(
      "SELECT count(DISTINCT user_id)::int AS learners, count(*)::int AS events FROM content.learning_events WHERE course_id = 'agg-course-1'",
    );
    expect(c1).toMatchObject({ learners: rows[0]!.learners, events: rows[0]!.events });
    const invalid = await api.post('/api/analytics/reports', { type: 'everything' }, admin);
    expect(invalid.status).toBe(422);
  });

  it('writes CSV with quoting and neutralises formula cells', async () => {
    const nasty = [
      ev('=HYPERLINK("http://evil")', {
        context: { course_id: 'csv,"course"', content_id: '@SUM(A1)' },
        timestamp: '2025-04-01T00:00:00Z',
      }),
      ev('+cmd|calc', { context: { course_id: '-2+3', content_id: 'plain' }, timestamp: '2025-04-01T00:00:00Z', data: { score: -5 } }),
    ];
    expect((await api.post('/api/analytics/events', nasty, admin)).status).toBe(200);
    const res = await api.post(
      '/api/analytics/reports',
      { type: 'user_activity', filters: { from: '2025-04-01', to: '2025-04-01' }, format: 'csv' },
      admin,
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="user_activity-\d{4}-\d{2}-\d{2}\.csv"$/);
    const lines = (res.body as string).trimEnd().split('\r\n');
    expect(lines[0]).toBe(
      'date,user_id,course_id,events,content_views,total_time_minutes,total_time_seconds,content_items_accessed,progress_made,assessments_completed,average_score',
    );
    expect(lines).toContain(`2025-04-01,'+cmd|calc,'-2+3,1,1,0,0,1,,0,-5`);
    expect(lines).toContain(`2025-04-01,"'=HYPERLINK(""http://evil"")","csv,""course""",1,1,0,30,1,,0,`);
  });
});

describe('group commit', () => {
  it('commits 200 concurrent single-event requests exactly once each, in fewer transactions', async () => {
    const { writer } = tb.bridge.analytics;
    const before = { ...writer.stats };
    const events = Array.from({ length: 200 }, () => ev(bob.userId, { context: { course_id: 'gc-course', content_id: 'gc-content' } }));
    const results = await Promise.all(events.map((e) => api.post('/api/analytics/events', e, bob.token)));
    expect(results.map((r) => r.status)).toEqual(Array(200).fill(200));
    expect(results.map((r) => r.body.accepted[0])).toEqual(events.map((e) => e.event_id));
    expect(await countEvents(events.map((e) => e.event_id))).toBe(200);
    const { rows } = await db().query<{ events: number }>(
      "SELECT events FROM content.analytics_daily_summaries WHERE user_id = $1 AND course_id = 'gc-course'",
      [bob.userId],
    );
    expect(rows[0]!.events).toBe(200);
    const flushes = writer.stats.flushes - before.flushes;
    expect(writer.stats.requests - before.requests).toBe(200);
    expect(flushes).toBeGreaterThan(0);
    expect(flushes).toBeLessThan(200);
    expect(writer.stats.maxGroupRequests).toBeGreaterThan(1);
  });

  it('reports ingestion on /metrics: events written, requests per commit, commit time, queue', async () => {
    const scrape = async () => {
      const text = (await api.get('/metrics')).body as string;
      const value = (pattern: string) => Number(new RegExp(`^${pattern} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
      return {
        inserted: value('hma_analytics_events_written_total\\{result="inserted"[^}]*\\}'),
        duplicates: value('hma_analytics_events_written_total\\{result="duplicate"[^}]*\\}'),
        commitRequests: value('hma_analytics_commit_requests_sum(?:\\{[^}]*\\})?'),
        commits: value('hma_analytics_commit_duration_seconds_count(?:\\{[^}]*\\})?'),
        queued: value('hma_analytics_queued_events(?:\\{[^}]*\\})?'),
      };
    };
    const before = await scrape();
    const events = Array.from({ length: 30 }, () => ev(bob.userId));
    const results = await Promise.all(events.map((e) => api.post('/api/analytics/events', e, bob.token)));
    expect(results.map((r) => r.status)).toEqual(Array(30).fill(200));
    expect((await api.post('/api/analytics/events', events[0], bob.token)).status).toBe(200); // a replay
    const after = await scrape();
    expect(after.inserted - before.inserted).toBe(30);
    expect(after.duplicates - before.duplicates).toBe(1);
    expect(after.commitRequests - before.commitRequests).toBe(31);
    expect(after.commits - before.commits).toBeGreaterThan(0);
    expect(after.queued).toBe(0);
  });

  it("rejects only the conflicting request of a group; the group's other requests commit", async () => {
    const { writer } = tb.bridge.analytics;
    const stored = ev(bob.userId);
    expect((await api.post('/api/analytics/events', stored, bob.token)).status).toBe(200);
    const prepare = (e: ReturnType<typeof ev>): PreparedEvent => {
      const event = {
        event_id: e.event_id,
        event_type: e.event_type as 'content_view',
        user_id: e.user_id,
        timestamp: new Date(e.timestamp).toISOString(),
        context: {},
        data: e.data as Record<string, number>,
      };
      return { event, hash: bodyHash(event), source: 'api', submittedBy: null };
    };
    const first = ev(bob.userId);
    const shared = ev(bob.userId);
    const requests = [
      [prepare(first), prepare(shared)],
      [prepare(ev(bob.userId)), prepare({ ...stored, data: { time_spent_seconds: 99 } })], // conflicts with a stored event
      [prepare(ev(bob.userId))],
      [prepare({ ...shared, data: { time_spent_seconds: 1 } })], // conflicts with request 0 in the same group
      [prepare(shared)], // a replay of request 0's event in the same group
    ];
    const flushesBefore = writer.stats.flushes;
    const outcomes = await Promise.all(
      requests.map((r) =>
        writer.submit(
          r,
          r.map((p) => p.event.event_id),
        ),
      ),
    );
    expect(writer.stats.flushes - flushesBefore).toBe(1);
    expect(outcomes.map((o) => o.status)).toEqual(['ok', 'conflict', 'ok', 'conflict', 'ok']);
    expect(outcomes[1]).toEqual({ status: 'conflict', conflicting: [stored.event_id] });
    expect(await countEvents(requests[0]!.map((p) => p.event.event_id))).toBe(2);
    expect(await countEvents([requests[1]![0]!.event.event_id])).toBe(0);
    expect(await countEvents([requests[2]![0]!.event.event_id])).toBe(1);
    const { rows } = await db().query<{ event_data: unknown }>('SELECT event_data FROM content.learning_events WHERE event_id = $1', [
      shared.event_id,
    ]);
    expect(rows[0]!.event_data).toEqual(shared.data);
  });
});
