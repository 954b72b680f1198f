/**
 * Reads of the incrementally maintained aggregates. Nothing here scans learning_events. Per-user
 * days come from analytics_daily_summaries (a view summing the per-day user/content rows by user,
 * course and day); totals over a range, with their distinct content counts, straight from the
 * per-day user/content rows (those with a NULL content_id hold the events without an item);
 * per-content figures from analytics_content_stats.
 */
import type { Queryable } from '../../kit/deps/database.ts';
import type { Cell } from './csv.ts';

export interface DateRange {
  from: string;
  to: string;
}

const r2 = (expr: string) => `round((${expr})::numeric, 2)::float8`;

const DAY_COLUMNS = `
  course_id, summary_date::text AS date, events, content_views,
  total_time_seconds::float8 AS total_time_seconds, total_time_minutes, content_items_accessed,
  progress_made::float8 AS progress_made, assessments_completed, ${r2('average_score')} AS average_score`;

export interface DaySummary {
  course_id: string | null;
  date: string;
  events: number;
  content_views: number;
  total_time_seconds: number;
  total_time_minutes: number;
  content_items_accessed: number;
  progress_made: number | null;
  assessments_completed: number;
  average_score: number | null;
}

export async function userAnalytics(db: Queryable, userId: string, range: DateRange, courseId?: string) {
  const params: unknown[] = [userId, range.from, range.to];
  let courseFilter = '';
  if (courseId !== undefined) {
    params.push(courseId);
    courseFilter = 'AND course_id = $4';
  }
  const [days, courses, distinct] = await Promise.all([
    db.query<DaySummary>(
      `SELECT ${DAY_COLUMNS} FROM content.analytics_daily_summaries
        WHERE user_id = $1 AND summary_date BETWEEN $2::date AND $3::date ${courseFilter}
        ORDER BY summary_date, course_id NULLS FIRST`,
      params,
    ),
    db.query<Omit<DaySummary, 'date'> & { active_days: number }>(
      `SELECT course_id, count(DISTINCT summary_date)::int AS active_days, sum(events)::int AS events, sum(views)::int AS content_views,
              sum(time_seconds)::float8 AS total_time_seconds, floor(sum(time_seconds)::float8 / 60)::int AS total_time_minutes,
              count(DISTINCT content_id)::int AS content_items_accessed, max(progress_max)::float8 AS progress_made,
              sum(assessments_completed)::int AS assessments_completed,
              CASE WHEN sum(score_count) > 0 THEN ${r2('sum(score_sum) / sum(score_count)')} END AS average_score
         FROM content.analytics_user_content_daily
        WHERE user_id = $1 AND summary_date BETWEEN $2::date AND $3::date ${courseFilter}
        GROUP BY course_id
        ORDER BY course_id NULLS FIRST`,
      params,
    ),
    db.query<{ items: number; average_score: number | null }>(
      `SELECT count(DISTINCT content_id)::int AS items,
              CASE WHEN sum(score_count) > 0 THEN ${r2('sum(score_sum) / sum(score_count)')} END AS average_score
         FROM content.analytics_user_content_daily
        WHERE user_id = $1 AND summary_date BETWEEN $2::date AND $3::date ${courseFilter}`,
      params,
    ),
  ]);
  const totalSeconds = courses.rows.reduce((sum, c) => sum + c.total_time_seconds, 0);
  const agg = distinct.rows[0];
  return {
    user_id: userId,
    from: range.from,
    to: range.to,
    days: days.rows,
    courses: courses.rows,
    totals: {
      active_days: new Set(days.rows.map((d) => d.date)).size,
      events: courses.rows.reduce((sum, c) => sum + c.events, 0),
      content_views: courses.rows.reduce((sum, c) => sum + c.content_views, 0),
      total_time_seconds: totalSeconds,
      total_time_minutes: Math.floor(totalSeconds / 60),
      content_items_accessed: agg?.items ?? 0,
      assessments_completed: courses.rows.reduce((sum, c) => sum + c.assessments_completed, 0),
      average_score: agg?.average_score ?? null,
    },
  };
}

export async function contentAnalytics(db: Queryable, contentId: string) {
  const { rows } = await db.query<Record<string, unknown>>(
    `SELECT content_id, course_id, events, views, unique_users, time_seconds::float8 AS total_time_seconds,
            CASE WHEN progress_count > 0 THEN ${r2('progress_sum / progress_count')} END AS average_progress,
            CASE WHEN unique_users > 0 THEN ${r2('time_seconds / unique_users')} END AS average_time_seconds,
            assessments_completed,
            CASE WHEN score_count > 0 THEN ${r2('score_sum / score_count')} END AS average_score,
            first_event_at, last_event_at
       FROM content.analytics_content_stats WHERE content_id = $1`,
    [contentId],
  );
  return (
    rows[0] ?? {
      content_id: contentId,
      course_id: null,
      events: 0,
      views: 0,
      unique_users: 0,
      total_time_seconds: 0,
      average_progress: null,
      average_time_seconds: null,
      assessments_completed: 0,
      average_score: null,
      first_event_at: null,
      last_event_at: null,
    }
  );
}

export const REPORT_TYPES = ['user_activity', 'content_engagement', 'course_summary'] as const;
export type ReportType = (typeof REPORT_TYPES)[number];

export interface ReportFilters {
  from?: string | undefined;
  to?: string | undefined;
  course_id?: string | undefined;
  user_id?: string | undefined;
}

/** A report never returns more rows than this; `truncated` says when there were more. */
export const REPORT_ROW_LIMIT = 50_000;

export const REPORT_COLUMNS: Record<ReportType, readonly string[]> = {
  user_activity: [
    'date',
    'user_id',
    'course_id',
    'events',
    'content_views',
    'total_time_minutes',
    'total_time_seconds',
    'content_items_accessed',
    'progress_made',
    'assessments_completed',
    'average_score',
  ],
  content_engagement: [
    'content_id',
    'course_id',
    'views',
    'unique_users',
    'events',
    'total_time_seconds',
    'average_time_seconds',
    'average_progress',
    'assessments_completed',
    'average_score',
  ],
  course_summary: [
    'course_id',
    'learners',
    'active_days',
    'events',
    'content_views',
    'total_time_minutes',
    'content_items_accessed',
    'assessments_completed',
    'average_score',
  ],
};

function where(filters: ReportFilters, params: unknown[], ...fixed: string[]): string {
  const clauses = [...fixed];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    clauses.push(sql.replace('?', `$${params.length}`));
  };
  if (filters.from) add('summary_date >= ?::date', filters.from);
  if (filters.to) add('summary_date <= ?::date', filters.to);
  if (filters.course_id) add('course_id = ?', filters.course_id);
  if (filters.user_id) add('user_id = ?', filters.user_id);
  return clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
}

export async function buildReport(db: Queryable, type: ReportType, filters: ReportFilters) {
  const params: unknown[] = [];
  // Per-item rows with a NULL content_id hold the events without an item: not content engagement.
  const filter = where(filters, params, ...(type === 'content_engagement' ? ['content_id IS NOT NULL'] : []));
  const limit = REPORT_ROW_LIMIT + 1;
  let sql: string;
  switch (type) {
    case 'user_activity':
      sql = `SELECT summary_date::text AS date, user_id, ${DAY_COLUMNS.replace('summary_date::text AS date,', '')}
               FROM content.analytics_daily_summaries ${filter}
              ORDER BY summary_date, user_id, course_id NULLS FIRST LIMIT ${limit}`;
      break;
    case 'content_engagement':
      sql = `SELECT content_id, course_id, sum(views)::int AS views, count(DISTINCT user_id)::int AS unique_users,
                    sum(events)::int AS events, sum(time_seconds)::float8 AS total_time_seconds,
                    ${r2('sum(time_seconds) / count(DISTINCT user_id)')} AS average_time_seconds,
                    CASE WHEN sum(progress_count) > 0 THEN ${r2('sum(progress_sum) / sum(progress_count)')} END AS average_progress,
                    sum(assessments_completed)::int AS assessments_completed,
                    CASE WHEN sum(score_count) > 0 THEN ${r2('sum(score_sum) / sum(score_count)')} END AS average_score
               FROM content.analytics_user_content_daily ${filter}
              GROUP BY content_id, course_id
              ORDER BY content_id, course_id NULLS FIRST LIMIT ${limit}`;
      break;
    case 'course_summary':
      sql = `SELECT course_id, count(DISTINCT user_id)::int AS learners, count(DISTINCT summary_date)::int AS active_days,
                    sum(events)::int AS events, sum(views)::int AS content_views, floor(sum(time_seconds) / 60)::int AS total_time_minutes,
                    count(DISTINCT content_id)::int AS content_items_accessed, sum(assessments_completed)::int AS assessments_completed,
                    CASE WHEN sum(score_count) > 0 THEN ${r2('sum(score_sum) / sum(score_count)')} END AS average_score
               FROM content.analytics_user_content_daily ${filter}
              GROUP BY course_id
              ORDER BY course_id NULLS FIRST LIMIT ${limit}`;
      break;
  }
  const { rows } = await db.query<Record<string, Cell>>(sql, params);
  const truncated = rows.length > REPORT_ROW_LIMIT;
  return { columns: REPORT_COLUMNS[type], rows: truncated ? rows.slice(0, REPORT_ROW_LIMIT) : rows, truncated };
}
