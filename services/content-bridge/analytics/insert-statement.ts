/**
 * The one statement that stores learning events: the insert with its conflict check and the
 * aggregates folded in for exactly the rows it inserted. The event writer runs it per group; the
 * assessments module runs it inside its own transaction for an `assessment_complete` event.
 */
import type { PreparedEvent } from './model.ts';

/** The name INSERT_EVENTS_SQL is prepared under: planning it costs more than running it for a small group, so once per connection. */
export const INSERT_EVENTS_STATEMENT = 'content_insert_events';

/**
 * One statement: insert the new events, then fold exactly those (RETURNING) into the aggregates.
 * Every upsert feeds rows in key order, so concurrent writers lock rows in the same order. The
 * per-user daily summaries are a view over the per-item rows (migration 0031), so one upsert keeps
 * both. The last part compares rows not inserted with the stored rows (the statement's snapshot
 * does not include its own inserts) and aborts on any difference.
 */
export const INSERT_EVENTS_SQL = `
WITH input AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(
    event_id text, event_type text, user_id text, course_id text, content_id text, session_id text,
    event_data jsonb, context_data jsonb, occurred_at timestamptz, body_hash text, source text, submitted_by uuid)
),
ins AS (
  INSERT INTO content.learning_events
    (event_id, event_type, user_id, course_id, content_id, session_id, event_data, context_data, occurred_at, body_hash, source,
     submitted_by, processed_at)
  SELECT event_id, event_type, user_id, course_id, content_id, session_id, event_data, context_data, occurred_at, body_hash, source,
         submitted_by, now()
  FROM input ORDER BY event_id
  ON CONFLICT (event_id) DO NOTHING
  RETURNING event_id, event_type, user_id, course_id, content_id, occurred_at, event_data
),
facts AS (
  SELECT user_id, course_id, content_id, occurred_at, (occurred_at AT TIME ZONE 'UTC')::date AS day,
         (event_type = 'content_view')::int AS is_view,
         (event_type = 'assessment_complete')::int AS is_assessment,
         (event_data ->> 'time_spent_seconds')::numeric AS t,
         (event_data ->> 'progress_percentage')::numeric AS p,
         (event_data ->> 'score')::numeric AS s
  FROM ins
),
ucd AS (
  INSERT INTO content.analytics_user_content_daily AS d
    (user_id, course_id, summary_date, content_id, events, views, time_seconds, progress_sum, progress_count, progress_max,
     assessments_completed, score_sum, score_count, first_event_at, last_event_at)
  SELECT user_id, course_id, day, content_id, count(*), sum(is_view), coalesce(sum(t), 0), coalesce(sum(p), 0), count(p), max(p),
         sum(is_assessment), coalesce(sum(s), 0), count(s), min(occurred_at), max(occurred_at)
  FROM facts
  GROUP BY user_id, course_id, day, content_id
  ORDER BY user_id, course_id, day, content_id
  ON CONFLICT (user_id, course_id, summary_date, content_id) DO UPDATE SET
    events = d.events + EXCLUDED.events,
    views = d.views + EXCLUDED.views,
    time_seconds = d.time_seconds + EXCLUDED.time_seconds,
    progress_sum = d.progress_sum + EXCLUDED.progress_sum,
    progress_count = d.progress_count + EXCLUDED.progress_count,
    progress_max = GREATEST(d.progress_max, EXCLUDED.progress_max),
    assessments_completed = d.assessments_completed + EXCLUDED.assessments_completed,
    score_sum = d.score_sum + EXCLUDED.score_sum,
    score_count = d.score_count + EXCLUDED.score_count,
    first_event_at = LEAST(d.first_event_at, EXCLUDED.first_event_at),
    last_event_at = GREATEST(d.last_event_at, EXCLUDED.last_event_at)
  RETURNING 1
),
cu AS (
  INSERT INTO content.analytics_content_users (content_id, user_id)
  SELECT DISTINCT content_id, user_id FROM facts WHERE content_id IS NOT NULL ORDER BY content_id, user_id
  ON CONFLICT DO NOTHING
  RETURNING content_id
),
cs AS (
  INSERT INTO content.analytics_content_stats AS c
    (content_id, course_id, events, views, unique_users, time_seconds, progress_sum, progress_count, assessments_completed,
     score_sum, score_count, first_event_at, last_event_at)
  SELECT g.content_id, g.course_id, g.events, g.views, coalesce(nu.n, 0), g.t, g.p, g.pc, g.assessments, g.s, g.sc, g.first_at, g.last_at
  FROM (
    SELECT content_id, (array_agg(course_id ORDER BY occurred_at DESC) FILTER (WHERE course_id IS NOT NULL))[1] AS course_id,
           count(*) AS events, sum(is_view) AS views, coalesce(sum(t), 0) AS t, coalesce(sum(p), 0) AS p, count(p) AS pc,
           sum(is_assessment) AS assessments, coalesce(sum(s), 0) AS s, count(s) AS sc, min(occurred_at) AS first_at,
           max(occurred_at) AS last_at
    FROM facts WHERE content_id IS NOT NULL GROUP BY content_id
  ) g
  LEFT JOIN (SELECT content_id, count(*) AS n FROM cu GROUP BY content_id) nu ON nu.content_id = g.content_id
  ORDER BY g.content_id
  ON CONFLICT (content_id) DO UPDATE SET
    course_id = coalesce(EXCLUDED.course_id, c.course_id),
    events = c.events + EXCLUDED.events,
    views = c.views + EXCLUDED.views,
    unique_users = c.unique_users + EXCLUDED.unique_users,
    time_seconds = c.time_seconds + EXCLUDED.time_seconds,
    progress_sum = c.progress_sum + EXCLUDED.progress_sum,
    progress_count = c.progress_count + EXCLUDED.progress_count,
    assessments_completed = c.assessments_completed + EXCLUDED.assessments_completed,
    score_sum = c.score_sum + EXCLUDED.score_sum,
    score_count = c.score_count + EXCLUDED.score_count,
    first_event_at = LEAST(c.first_event_at, EXCLUDED.first_event_at),
    last_event_at = GREATEST(c.last_event_at, EXCLUDED.last_event_at),
    updated_at = now()
  RETURNING 1
),
skipped AS (
  SELECT i.event_id, i.body_hash = e.body_hash AS same
  FROM input i LEFT JOIN content.learning_events e ON e.event_id = i.event_id
  WHERE NOT EXISTS (SELECT 1 FROM ins WHERE ins.event_id = i.event_id)
)
SELECT (SELECT count(*) FROM ins)::int AS inserted,
       (SELECT count(*) FROM skipped WHERE same)::int AS duplicates,
       (SELECT content.analytics_reject_conflicts(array_agg(event_id)) FROM skipped WHERE same IS NOT TRUE) AS rejected`;

/** One event as a row of the statement's jsonb parameter (device fields stay in context_data). */
export function toRow(p: PreparedEvent) {
  const { course_id, content_id, ...device } = p.event.context;
  return {
    event_id: p.event.event_id,
    event_type: p.event.event_type,
    user_id: p.event.user_id,
    course_id: course_id ?? null,
    content_id: content_id ?? null,
    session_id: p.event.session_id ?? null,
    event_data: p.event.data,
    context_data: device,
    occurred_at: p.event.timestamp,
    body_hash: p.hash,
    source: p.source,
    submitted_by: p.submittedBy,
  };
}
