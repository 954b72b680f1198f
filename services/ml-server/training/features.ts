/**
 * Learner features for the completion-risk model, per (user, course). Learning events name users,
 * courses and content items by text ids (content.learning_events has no foreign keys); they are
 * matched to the Content Bridge's courses and items by the text form of their UUIDs. The same aggregates come from
 * three places and go through the same `completionFeatures`, so training and serving agree:
 * - training and insights read the Content Bridge's tables (content.learning_events and
 *   content.user_progress) with `aggregateSql`;
 * - POST /api/ml/events/batch keeps running aggregates in ml.user_features (see insights/events.ts),
 *   which insights prefer when a row exists.
 */
import type { Queryable } from '../../kit/deps/database.ts';

export const COMPLETION_FEATURES = [
  'active_days',
  'events_per_active_day',
  'minutes_per_active_day',
  'avg_score',
  'days_inactive',
  'touched_ratio',
] as const;
export type CompletionFeature = (typeof COMPLETION_FEATURES)[number];

export interface Aggregates {
  userId: string;
  courseId: string;
  eventCount: number;
  activeDays: number;
  timeSpentSeconds: number;
  scoreSum: number;
  scoreCount: number;
  lastEventAt: Date | null;
  /** Distinct content items of the course the learner has touched (events or progress). */
  contentsTouched: number;
  /** Content items completed (progress rows with completed_at). */
  completed: number;
  /** Published content items in the course. */
  courseItems: number;
}

/** The model's input row; `null` marks a value that does not exist yet (the model's default applies). */
export function completionFeatures(a: Aggregates, asOf: Date): Record<CompletionFeature, number | null> {
  const days = a.activeDays;
  return {
    active_days: days,
    events_per_active_day: days > 0 ? a.eventCount / days : 0,
    minutes_per_active_day: days > 0 ? a.timeSpentSeconds / 60 / days : 0,
    avg_score: a.scoreCount > 0 ? a.scoreSum / a.scoreCount : null,
    days_inactive: a.lastEventAt ? Math.max(0, (asOf.getTime() - a.lastEventAt.getTime()) / 86_400_000) : null,
    touched_ratio: a.courseItems > 0 ? Math.min(1, a.contentsTouched / a.courseItems) : 0,
  };
}

/** Course completed: every published item of the course completed. */
export const isCompleted = (a: Aggregates) => a.courseItems > 0 && a.completed >= a.courseItems;

const NUMBER = (path: string) =>
  `CASE WHEN jsonb_typeof(e.event_data -> '${path}') = 'number' THEN (e.event_data ->> '${path}')::float8 END`;

/**
 * Aggregates per (user, course) from the Content Bridge's tables; events in [from, to) when given,
 * completions before `to`. Optionally for one user only.
 */
export async function readAggregates(
  db: Queryable,
  opts: { from?: Date | undefined; to?: Date | undefined; userId?: string | undefined },
): Promise<Aggregates[]> {
  // Conditions are added only when used, so PostgreSQL infers each parameter's type from its column
  // (and can use the indexes); ids are compared and returned as text, whatever their column type.
  const params: unknown[] = [];
  const param = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  const evWhere = ['e.course_id IS NOT NULL'];
  const prWhere = ['p.course_id IS NOT NULL'];
  if (opts.from) evWhere.push(`e.occurred_at >= ${param(opts.from)}`);
  let completedBefore = '';
  if (opts.to) {
    const to = param(opts.to);
    evWhere.push(`e.occurred_at < ${to}`);
    prWhere.push(`p.created_at < ${to}`);
    completedBefore = ` AND p.completed_at < ${to}`;
  }
  if (opts.userId) {
    // Two parameters: learning_events ids are text, user_progress ids uuid.
    evWhere.push(`e.user_id = ${param(opts.userId)}`);
    prWhere.push(`p.user_id = ${param(opts.userId)}`);
  }
  const { rows } = await db.query<{
    user_id: string;
    course_id: string;
    event_count: number;
    active_days: number;
    time_spent_seconds: number;
    score_sum: number;
    score_count: number;
    last_event_at: Date | null;
    contents_touched: number;
    completed: number;
    course_items: number;
  }>(
    `WITH items AS (
       SELECT course_id::text AS course_id, count(*)::int AS n FROM content.content_items
        WHERE course_id IS NOT NULL AND status = 'published' GROUP BY course_id
     ),
     ev AS (
       SELECT e.user_id::text AS user_id, e.course_id::text AS course_id, count(*)::int AS event_count,
              count(DISTINCT (e.occurred_at AT TIME ZONE 'UTC')::date)::int AS active_days,
              coalesce(sum(${NUMBER('time_spent_seconds')}), 0)::float8 AS time_spent_seconds,
              coalesce(sum(${NUMBER('score')}), 0)::float8 AS score_sum,
              count(${NUMBER('score')})::int AS score_count,
              max(e.occurred_at) AS last_event_at,
              array_remove(array_agg(DISTINCT e.content_id::text), NULL) AS contents
         FROM content.learning_events e
        WHERE ${evWhere.join(' AND ')}
        GROUP BY e.user_id, e.course_id
     ),
     pr AS (
       SELECT p.user_id::text AS user_id, p.course_id::text AS course_id, array_agg(p.content_id::text) AS contents,
              count(*) FILTER (WHERE p.completed_at IS NOT NULL${completedBefore})::int AS completed
         FROM content.user_progress p
        WHERE ${prWhere.join(' AND ')}
        GROUP BY p.user_id, p.course_id
     )
     SELECT coalesce(ev.user_id, pr.user_id) AS user_id, coalesce(ev.course_id, pr.course_id) AS course_id,
            coalesce(ev.event_count, 0) AS event_count, coalesce(ev.active_days, 0) AS active_days,
            coalesce(ev.time_spent_seconds, 0) AS time_spent_seconds, coalesce(ev.score_sum, 0) AS score_sum,
            coalesce(ev.score_count, 0) AS score_count, ev.last_event_at,
            (SELECT count(DISTINCT c)::int FROM unnest(coalesce(ev.contents, '{}') || coalesce(pr.contents, '{}')) AS c) AS contents_touched,
            coalesce(pr.completed, 0) AS completed, items.n AS course_items
       FROM ev FULL JOIN pr ON ev.user_id = pr.user_id AND ev.course_id = pr.course_id
       JOIN items ON items.course_id = coalesce(ev.course_id, pr.course_id)
      ORDER BY 1, 2`,
    params,
  );
  return rows.map((r) => ({
    userId: r.user_id,
    courseId: r.course_id,
    eventCount: r.event_count,
    activeDays: r.active_days,
    timeSpentSeconds: Number(r.time_spent_seconds),
    scoreSum: Number(r.score_sum),
    scoreCount: r.score_count,
    lastEventAt: r.last_event_at ? new Date(r.last_event_at) : null,
    contentsTouched: r.contents_touched,
    completed: r.completed,
    courseItems: r.course_items,
  }));
}

/** Mean, population std and count of each feature over the rows (missing values skipped): the drift reference. */
export function featureStats(rows: ReadonlyArray<Record<string, number | null>>, names: readonly string[]) {
  const features: Record<string, { mean: number; std: number; count: number }> = {};
  for (const name of names) {
    let n = 0;
    let sum = 0;
    let sumSq = 0;
    for (const row of rows) {
      const v = row[name];
      if (v === null || v === undefined || !Number.isFinite(v)) continue;
      n++;
      sum += v;
      sumSq += v * v;
    }
    const mean = n ? sum / n : 0;
    features[name] = { mean, std: n ? Math.sqrt(Math.max(0, sumSq / n - mean * mean)) : 0, count: n };
  }
  return { features, rows: rows.length };
}
