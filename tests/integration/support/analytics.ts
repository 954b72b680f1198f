/**
 * The per-user daily summaries two ways: as the service keeps them (the analytics_daily_summaries view over
 * the per-item rows) and aggregated directly from the stored events. Equal whenever the incremental
 * aggregates are right.
 */
import type { Queryable } from '../../../services/kit/deps/database.ts';

export async function summariesAsKept(db: Queryable, userLike: string) {
  const { rows } = await db.query(
    `SELECT user_id, course_id, summary_date::text AS d, events, content_views, total_time_seconds::float8 AS t,
            total_time_minutes, content_items_accessed, progress_made::float8 AS p, assessments_completed, average_score::float8 AS avg,
            first_event_at, last_event_at
       FROM content.analytics_daily_summaries WHERE user_id LIKE $1 ORDER BY 1, 2 NULLS FIRST, 3`,
    [userLike],
  );
  return roundNumbers(rows);
}

export async function summariesFromEvents(db: Queryable, userLike: string) {
  const { rows } = await db.query(
    `SELECT user_id, course_id, (occurred_at AT TIME ZONE 'UTC')::date::text AS d, count(*)::int AS events,
            (count(*) FILTER (WHERE event_type = 'content_view'))::int AS content_views,
            coalesce(sum((event_data ->> 'time_spent_seconds')::numeric), 0)::float8 AS t,
            floor(coalesce(sum((event_data ->> 'time_spent_seconds')::numeric), 0) / 60)::int AS total_time_minutes,
            count(DISTINCT content_id)::int AS content_items_accessed,
            max((event_data ->> 'progress_percentage')::numeric)::float8 AS p,
            (count(*) FILTER (WHERE event_type = 'assessment_complete'))::int AS assessments_completed,
            avg((event_data ->> 'score')::numeric)::float8 AS avg,
            min(occurred_at) AS first_event_at, max(occurred_at) AS last_event_at
       FROM content.learning_events WHERE user_id LIKE $1 GROUP BY 1, 2, 3 ORDER BY 1, 2 NULLS FIRST, 3`,
    [userLike],
  );
  return roundNumbers(rows);
}

/** Sums of numerics as float8 differ in the last bits by summation order. */
export function roundNumbers(rows: Array<Record<string, unknown>>) {
  return rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'number' ? Math.round(v * 1e6) / 1e6 : v])));
}
