/**
 * PGlite against the real PostgreSQL: both services' migrations and a sample of the services' SQL
 * (generated tsvector + GIN with websearch_to_tsquery, JSONB operators, ON CONFLICT, multi-row inserts
 * from unnest and jsonb_to_recordset, CTEs, make_interval, FOR UPDATE SKIP LOCKED, UNIQUE NULLS NOT
 * DISTINCT, plpgsql with a custom SQLSTATE) must give the same rows, in the same JavaScript types, on
 * both drivers. Runs in the `integration` project only: it needs the real server.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgDatabase, readOnlyTransaction, type Database } from '../../services/kit/deps/database.ts';
import { createPgliteDatabase } from '../../services/kit/deps/embedded/pglite.ts';
import { loadMigrations, migrate } from '../../services/kit/deps/migrations.ts';
import { MIGRATIONS_DIR as BRIDGE } from '../../services/content-bridge/paths.ts';
import { MIGRATIONS_DIR as ML } from '../../services/ml-server/paths.ts';
import { createTestDatabase, defaultEndpoints } from './support/content-bridge.ts';

const USER = '00000000-0000-4000-8000-000000000001';

const SCRIPT: Array<[string, unknown[]?]> = [
  [`INSERT INTO users.users (id, username, email, roles) VALUES ('${USER}', 'Ada', 'ada@example.com', '["student","admin"]')`],
  [
    `INSERT INTO content.content_items (title, description, content_type, metadata)
     SELECT t.title, t.description, 'document', t.metadata
       FROM jsonb_to_recordset($1::jsonb) AS t(title text, description text, metadata jsonb)`,
    [
      JSON.stringify([
        { title: 'Firearm safety basics', description: 'Treat every firearm as loaded', metadata: { tags: ['safety', 'firearms'] } },
        { title: 'Tracking deer', description: 'Reading sign in the snow', metadata: { tags: ['tracking'] } },
        { title: 'Tree stand safety', description: 'Harness and haul line', metadata: { tags: ['safety'] } },
      ]),
    ],
  ],
  [
    `INSERT INTO content.learning_events (event_id, event_type, user_id, occurred_at, body_hash, event_data)
     SELECT e, 'content_view', $1, $2::timestamptz + make_interval(mins => n::int), repeat('a', 64), jsonb_build_object('n', n)
       FROM unnest($3::text[]) WITH ORDINALITY AS u(e, n)
     ON CONFLICT (event_id) DO NOTHING`,
    [USER, '2026-03-01T10:00:00Z', ['e1', 'e2', 'e3']],
  ],
  [
    `INSERT INTO content.analytics_user_content_daily AS d (user_id, course_id, summary_date, content_id, events, time_seconds, score_sum, score_count)
     VALUES ($1, NULL, '2026-03-01', NULL, 1, 12.5, 80, 1)
     ON CONFLICT ON CONSTRAINT analytics_user_content_daily_key
     DO UPDATE SET events = d.events + 1, time_seconds = d.time_seconds + 12.5, score_sum = d.score_sum + EXCLUDED.score_sum,
                   score_count = d.score_count + 1`,
    [USER],
  ],
  [
    `INSERT INTO content.analytics_user_content_daily AS d (user_id, course_id, summary_date, content_id, events, time_seconds, score_sum, score_count)
     VALUES ($1, NULL, '2026-03-01', NULL, 1, 12.5, 90, 1)
     ON CONFLICT ON CONSTRAINT analytics_user_content_daily_key
     DO UPDATE SET events = d.events + 1, time_seconds = d.time_seconds + 12.5, score_sum = d.score_sum + EXCLUDED.score_sum,
                   score_count = d.score_count + 1`,
    [USER],
  ],
];

const CHECKS: Array<[string, string, unknown[]?]> = [
  [
    'types',
    `SELECT 9007199254740993::int8 AS big, 1.50::numeric(5,2) AS num, 42 AS i, 0.25::float8 AS f, '2026-01-02T03:04:05.678Z'::timestamptz AS ts,
            '2026-01-02'::date AS d, '{"a":[1,2]}'::jsonb AS j, ARRAY['x','y'] AS arr, ARRAY['2026-01-01'::date] AS dates,
            make_interval(days => 1, secs => 90) AS iv, NULL::text AS nothing, true AS yes`,
  ],
  [
    'full-text search',
    `SELECT title, ts_rank(search_vector, q) > 0 AS ranked FROM content.content_items, websearch_to_tsquery('english', $1) q
      WHERE search_vector @@ q ORDER BY title`,
    ['safety -tree'],
  ],
  ['jsonb operators', `SELECT title FROM content.content_items WHERE metadata -> 'tags' ? 'safety' ORDER BY title`],
  ['jsonb containment', `SELECT count(*) AS n FROM users.users WHERE roles @> '["admin"]'`],
  [
    'CTE and aggregates',
    `WITH ev AS (SELECT user_id, count(*)::int AS n, max(occurred_at) AS last, sum((event_data ->> 'n')::int) AS total
                  FROM content.learning_events GROUP BY user_id)
     SELECT n, last, total FROM ev`,
  ],
  [
    'NULLS NOT DISTINCT upsert and the summaries view',
    `SELECT events, total_time_seconds, total_time_minutes, average_score, content_items_accessed, summary_date FROM content.analytics_daily_summaries`,
  ],
  ['skip locked', `SELECT event_id FROM content.learning_events ORDER BY id LIMIT 2 FOR UPDATE SKIP LOCKED`],
  ['migrations', `SELECT service, version, name, checksum FROM public.schema_migrations ORDER BY service, version`],
];

describe('PGlite parity with PostgreSQL', () => {
  let real: Database;
  let lite: Database;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hma-parity-'));
    real = createPgDatabase(await createTestDatabase(defaultEndpoints().postgresUrl), { poolSize: 2 });
    lite = createPgliteDatabase({ dataDir: join(dir, 'pg') });
    for (const db of [real, lite]) {
      await migrate(db, 'content-bridge', loadMigrations(BRIDGE));
      await migrate(db, 'ml-server', loadMigrations(ML));
      for (const [sql, params] of SCRIPT) await db.query(sql, params);
    }
  });
  afterAll(async () => {
    await real?.close();
    await lite?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const [name, sql, params] of CHECKS) {
    it(`gives the same rows and types: ${name}`, async () => {
      const [a, b] = await Promise.all([real.query(sql, params), lite.query(sql, params)]);
      expect(a.rows.length).toBeGreaterThan(0);
      expect(b.rowCount).toBe(a.rowCount);
      expect(b.rows).toEqual(a.rows);
    });
  }

  it('raises the same error codes (constraint, custom SQLSTATE from plpgsql, syntax)', async () => {
    const code = async (db: Database, sql: string, params?: unknown[]) =>
      db.query(sql, params).then(
        () => 'no error',
        (err: { code?: string; constraint?: string }) => `${err.code} ${err.constraint ?? ''}`.trim(),
      );
    for (const [sql, params] of [
      [`INSERT INTO users.users (username, email) VALUES ('ADA', 'other@example.com')`],
      [`SELECT content.analytics_reject_conflicts($1::text[])`, [['x']]],
      [`SELEC 1`],
    ] as Array<[string, unknown[]?]>) {
      expect(await code(lite, sql, params)).toBe(await code(real, sql, params));
    }
    expect(await code(lite, `SELECT content.analytics_reject_conflicts($1::text[])`, [['x']])).toBe('HMA01');
  });

  it('refuses a write inside readOnlyTransaction (25006) and answers reads there', async () => {
    for (const db of [real, lite]) {
      const users = await readOnlyTransaction(db, (tx) => tx.query<{ n: number }>('SELECT count(*)::int AS n FROM users.users'));
      expect(users.rows[0]!.n).toBe(1);
      const refused = await readOnlyTransaction(db, (tx) =>
        tx.query(`UPDATE users.users SET username = 'Grace' WHERE id = $1`, [USER]),
      ).then(
        () => 'written',
        (err: { code?: string }) => err.code,
      );
      expect(refused).toBe('25006');
      expect((await db.query<{ username: string }>('SELECT username FROM users.users WHERE id = $1', [USER])).rows[0]!.username).toBe(
        'Ada',
      );
    }
  });
});
