/**
 * Migration 0031 adds analytics_daily_summaries, a view over the per-item daily rows,
 * rebuilt from the stored events. On a database that has events from before it, the summaries and
 * the content report must come out exactly as a direct aggregate over those events, and the event
 * statement must carry on from the rebuilt rows. The previous release's statement must keep working
 * (its pods run during the rollout). On both drivers: embedded installs upgrade too.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INSERT_EVENTS_SQL, toRow } from '../../../services/content-bridge/analytics/insert-statement.ts';
import { eventHash, normaliseEvent } from '../../../services/content-bridge/analytics/model.ts';
import { buildReport } from '../../../services/content-bridge/analytics/queries.ts';
import { MIGRATIONS_DIR } from '../../../services/content-bridge/paths.ts';
import type { Database } from '../../../services/kit/deps/database.ts';
import { loadMigrations, migrate } from '../../../services/kit/deps/migrations.ts';
import { summariesAsKept, summariesFromEvents } from '../support/analytics.ts';
import { createTestDatabase, defaultEndpoints } from '../support/content-bridge.ts';
import { openTestDatabase } from '../support/drivers.ts';

const TYPES = ['content_view', 'progress_update', 'assessment_complete', 'login', 'logout'] as const;

/** Events of every type, with and without a course and an item, over three days and three users. */
function events(n: number, prefix: string, users = 'mig-user') {
  return Array.from({ length: n }, (_, i) => ({
    event_id: `${prefix}-${i}`,
    event_type: TYPES[i % TYPES.length]!,
    user_id: `${users}-${i % 3}`,
    timestamp: new Date(Date.UTC(2026, 0, 10 + (Math.floor(i / 3) % 3), i % 24, i % 60)).toISOString(),
    context: { ...(i % 4 ? { course_id: `mig-course-${i % 2}` } : {}), ...(i % 5 ? { content_id: `mig-item-${i % 4}` } : {}) },
    data: {
      time_spent_seconds: (i * 37) % 600,
      ...(i % 3 === 0 ? { progress_percentage: (i * 7) % 100 } : {}),
      ...(TYPES[i % TYPES.length] === 'assessment_complete' ? { score: (i * 13) % 100 } : {}),
    },
  }));
}

/** The events as rows of the event statement's parameter. */
const statementRows = (inputs: ReturnType<typeof events>) =>
  JSON.stringify(
    inputs.map((input) => {
      const event = normaliseEvent(input);
      return toRow({ event, hash: eventHash(event), source: 'api', submittedBy: randomUUID() });
    }),
  );

const contentFromEvents = (db: Database) =>
  db.query(
    `SELECT content_id, course_id, count(*)::int AS events, (count(*) FILTER (WHERE event_type = 'content_view'))::int AS views
       FROM content.learning_events WHERE content_id IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2 NULLS FIRST`,
  );

describe('migration 0031: summaries from the per-item rows', () => {
  let db: Database;
  beforeAll(async () => {
    db = openTestDatabase(await createTestDatabase(defaultEndpoints().postgresUrl));
    const all = loadMigrations(MIGRATIONS_DIR);
    expect(all.some((m) => m.version === 31)).toBe(true);
    await migrate(
      db,
      'content-bridge',
      all.filter((m) => m.version < 31),
    );
    // Events stored before the upgrade: the migration rebuilds the per-item rows from them (the events are the truth).
    await db.query(
      `INSERT INTO content.learning_events (event_id, event_type, user_id, course_id, content_id, event_data, occurred_at, body_hash)
       SELECT event_id, event_type, user_id, course_id, content_id, event_data, occurred_at, repeat('0', 64)
         FROM jsonb_to_recordset($1::jsonb) AS r(event_id text, event_type text, user_id text, course_id text, content_id text,
                                                  event_data jsonb, occurred_at timestamptz)`,
      [JSON.stringify(events(120, 'before').map((e) => ({ ...e, ...e.context, event_data: e.data, occurred_at: e.timestamp })))],
    );
    await migrate(db, 'content-bridge', all);
  });
  afterAll(async () => {
    await db?.close();
  });

  it('rebuilds the summaries and the per-item rows from the stored events', async () => {
    const kept = await summariesAsKept(db, 'mig-user-%');
    expect(kept.length).toBeGreaterThan(10);
    expect(kept.some((r) => r.course_id === null)).toBe(true);
    expect(kept).toEqual(await summariesFromEvents(db, 'mig-user-%'));

    const report = await buildReport(db, 'content_engagement', {});
    const direct = await contentFromEvents(db);
    expect(report.rows.map((r) => [r.content_id, r.course_id, r.events, r.views])).toEqual(
      direct.rows.map((r) => [r.content_id, r.course_id, r.events, r.views]),
    );
  });

  it('folds new events into the rebuilt rows', async () => {
    const { rows: result } = await db.query<{ inserted: number }>(INSERT_EVENTS_SQL, [statementRows(events(60, 'after'))]);
    expect(result[0]!.inserted).toBe(60);
    expect(await summariesAsKept(db, 'mig-user-%')).toEqual(await summariesFromEvents(db, 'mig-user-%'));
  });

  it("keeps accepting the previous release's statement, for its pods during a rollout", async () => {
    const previous = readFileSync(new URL('../../fixtures/previous-release/insert-events.sql', import.meta.url), 'utf8');
    const { rows: result } = await db.query<{ inserted: number }>(previous, [statementRows(events(30, 'previous', 'old-user'))]);
    expect(result[0]!.inserted).toBe(30);
    const stored = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM content.learning_events WHERE user_id LIKE 'old-user-%'");
    expect(stored.rows[0]!.n).toBe(30);
    const legacy = await db.query<{ n: number }>(
      "SELECT sum(events)::int AS n FROM content.analytics_summaries WHERE user_id LIKE 'old-user-%'",
    );
    expect(legacy.rows[0]!.n).toBe(30);
  });
});
