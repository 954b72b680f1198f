/**
 * Learning events pushed by other modules (POST /api/ml/events/batch), in the shape the Content
 * Bridge's `POST /api/analytics/events` takes, folded into
 * ml.user_features in one statement per batch: events already seen (by event_id) are skipped, the
 * rest are aggregated per (user, course) and added to the running totals (counts and sums add up;
 * active days, touched and completed items are set unions). Events without a course
 * (`context.course_id`) are not featurised. An item counts as completed on a `progress_update` with
 * `data.progress_percentage` 100.
 */
import { z } from 'zod';
import type { Queryable } from '../../kit/deps/database.ts';

export const MAX_EVENTS = 1000;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Ids as the Content Bridge stores them: UUIDs lower-case, other ids as sent. */
const normaliseId = (id: string) => (UUID.test(id) ? id.toLowerCase() : id);
const externalId = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\x21-\x7e]+$/, 'must be 1-255 printable ASCII characters without spaces');

export const learningEvent = z.object({
  event_id: externalId.optional(),
  event_type: z.string().min(1).max(32),
  user_id: externalId,
  session_id: externalId.nullish(),
  timestamp: z.iso.datetime({ offset: true }),
  context: z.object({ course_id: externalId.nullish(), content_id: externalId.nullish() }).loose().nullish(),
  data: z
    .object({
      progress_percentage: z.number().min(0).max(100).nullish(),
      time_spent_seconds: z.number().min(0).max(10_000_000).nullish(),
      score: z.number().min(-1_000_000).max(1_000_000).nullish(),
    })
    .loose()
    .nullish(),
});

export type LearningEventInput = z.infer<typeof learningEvent>;

export const eventsBody = z.union([
  z.array(learningEvent).min(1).max(MAX_EVENTS),
  z.strictObject({ events: z.array(learningEvent).min(1).max(MAX_EVENTS) }),
]);

export async function applyEvents(db: Queryable, events: LearningEventInput[]) {
  const rows = events.map((e) => ({
    event_id: e.event_id ? normaliseId(e.event_id) : null,
    user_id: normaliseId(e.user_id),
    course_id: e.context?.course_id ? normaliseId(e.context.course_id) : null,
    content_id: e.context?.content_id ? normaliseId(e.context.content_id) : null,
    occurred_at: new Date(e.timestamp).toISOString(),
    time_spent_seconds: e.data?.time_spent_seconds ?? 0,
    score: e.data?.score ?? null,
    completed: (e.event_type === 'progress_update' || e.event_type === 'content_completed') && (e.data?.progress_percentage ?? 0) >= 100,
  }));
  const { rows: result } = await db.query<{ accepted: number; duplicates: number; skipped: number; features_updated: number }>(
    `WITH input AS (
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS e(event_id text, user_id text, course_id text, content_id text,
              occurred_at timestamptz, time_spent_seconds float8, score float8, completed boolean)
     ),
     distinct_ids AS (SELECT DISTINCT event_id FROM input WHERE event_id IS NOT NULL),
     fresh AS (
       INSERT INTO ml.processed_events (event_id) SELECT event_id FROM distinct_ids ON CONFLICT DO NOTHING RETURNING event_id
     ),
     accepted AS (
       SELECT i.* FROM input i WHERE i.event_id IS NULL
       UNION ALL
       SELECT DISTINCT ON (i.event_id) i.* FROM input i JOIN fresh f ON f.event_id = i.event_id
     ),
     agg AS (
       SELECT user_id, course_id, count(*) AS n,
              array_agg(DISTINCT (occurred_at AT TIME ZONE 'UTC')::date) AS days,
              coalesce(array_agg(DISTINCT content_id) FILTER (WHERE content_id IS NOT NULL), '{}') AS contents,
              coalesce(array_agg(DISTINCT content_id) FILTER (WHERE content_id IS NOT NULL AND completed), '{}') AS done,
              sum(time_spent_seconds) AS seconds, coalesce(sum(score), 0) AS score_sum, count(score) AS score_count,
              min(occurred_at) AS first_at, max(occurred_at) AS last_at
         FROM accepted WHERE course_id IS NOT NULL GROUP BY user_id, course_id
     ),
     upserted AS (
       INSERT INTO ml.user_features AS uf (user_id, course_id, event_count, active_days, content_ids, completed_content_ids,
              time_spent_seconds, score_sum, score_count, first_event_at, last_event_at)
       SELECT user_id, course_id, n, days, contents, done, seconds, score_sum, score_count, first_at, last_at FROM agg
       ON CONFLICT (user_id, course_id) DO UPDATE SET
         event_count = uf.event_count + EXCLUDED.event_count,
         active_days = ARRAY(SELECT DISTINCT d FROM unnest(uf.active_days || EXCLUDED.active_days) AS d ORDER BY d),
         content_ids = ARRAY(SELECT DISTINCT c FROM unnest(uf.content_ids || EXCLUDED.content_ids) AS c ORDER BY c),
         completed_content_ids = ARRAY(SELECT DISTINCT c FROM unnest(uf.completed_content_ids || EXCLUDED.completed_content_ids) AS c ORDER BY c),
         time_spent_seconds = uf.time_spent_seconds + EXCLUDED.time_spent_seconds,
         score_sum = uf.score_sum + EXCLUDED.score_sum,
         score_count = uf.score_count + EXCLUDED.score_count,
         first_event_at = least(uf.first_event_at, EXCLUDED.first_event_at),
         last_event_at = greatest(uf.last_event_at, EXCLUDED.last_event_at),
         updated_at = now()
       RETURNING 1
     )
     SELECT (SELECT count(*) FROM accepted)::int AS accepted,
            ((SELECT count(*) FROM input) - (SELECT count(*) FROM accepted))::int AS duplicates,
            (SELECT count(*) FROM accepted WHERE course_id IS NULL)::int AS skipped,
            (SELECT count(*) FROM upserted)::int AS features_updated`,
    [JSON.stringify(rows)],
  );
  return result[0]!;
}
