/**
 * SQL for insights and recommendations: the Content Bridge's tables, read in READ ONLY transactions
 * of the read pool, and the online features in ml.user_features (the primary pool).
 */
import { readOnlyTransaction, type Database } from '../../kit/deps/database.ts';
import { readAggregates, type Aggregates } from '../training/features.ts';

export interface OnlineFeaturesRow {
  course_id: string;
  event_count: number;
  active_days: number;
  contents: number;
  completed: number;
  time_spent_seconds: number;
  score_sum: number;
  score_count: number;
  last_event_at: Date | null;
}

export interface TopicRow {
  tag: string;
  items: number;
  score: number;
  scored: number;
}

export interface PaceRow {
  completed: number;
  minutes: number;
  first_at: Date | null;
  recent_completed: number;
  recent_minutes: number;
}

export interface CandidateRow {
  content_id: string;
  course_id: string;
  course_title: string;
  title: string;
  content_type: string;
  sequence_number: number | null;
  tags: unknown;
  prerequisites: string[];
}

export function insightsRepository({ db, readDb }: { db: Database; readDb: Database }) {
  return {
    /** Per-course aggregates derived from the learner's events and progress. */
    contentAggregates: (userId: string): Promise<Aggregates[]> => readOnlyTransaction(readDb, (tx) => readAggregates(tx, { userId })),

    async onlineFeatures(userId: string): Promise<OnlineFeaturesRow[]> {
      const { rows } = await db.query<OnlineFeaturesRow>(
        `SELECT course_id::text AS course_id, event_count::float8 AS event_count, cardinality(active_days) AS active_days,
                cardinality(content_ids) AS contents, cardinality(completed_content_ids) AS completed,
                time_spent_seconds, score_sum, score_count, last_event_at
           FROM ml.user_features WHERE user_id = $1`,
        [userId],
      );
      return rows;
    },

    /** Published items per course, for the given course ids. */
    async publishedItemCounts(courseIds: string[]): Promise<Map<string, number>> {
      const { rows } = await readOnlyTransaction(readDb, (tx) =>
        tx.query<{ course_id: string; n: number }>(
          `SELECT course_id::text AS course_id, count(*)::int AS n FROM content.content_items
            WHERE status = 'published' AND course_id::text = ANY($1::text[]) GROUP BY course_id`,
          [courseIds],
        ),
      );
      return new Map(rows.map((r) => [r.course_id, r.n]));
    },

    /** Per tag of the items the learner touched: the mean of each item's score, or else its progress. */
    async topicScores(userId: string): Promise<TopicRow[]> {
      const { rows } = await readOnlyTransaction(readDb, (tx) =>
        tx.query<TopicRow>(
          `WITH scores AS (
             SELECT e.content_id::text AS content_id, avg((e.event_data ->> 'score')::float8) AS score
               FROM content.learning_events e
              WHERE e.user_id = $1 AND e.content_id IS NOT NULL AND jsonb_typeof(e.event_data -> 'score') = 'number'
              GROUP BY e.content_id
           ),
           prog AS (
             SELECT p.content_id::text AS content_id, p.progress_percentage::float8 AS progress
               FROM content.user_progress p WHERE p.user_id = $2
           )
           SELECT t.tag, count(*)::int AS items, avg(coalesce(s.score, pr.progress))::float8 AS score, count(s.score)::int AS scored
             FROM content.content_items ci
             CROSS JOIN LATERAL jsonb_array_elements_text(
               CASE WHEN jsonb_typeof(ci.metadata -> 'tags') = 'array' THEN ci.metadata -> 'tags' ELSE '[]'::jsonb END) AS t(tag)
             LEFT JOIN scores s ON s.content_id = ci.id::text
             LEFT JOIN prog pr ON pr.content_id = ci.id::text
            WHERE s.content_id IS NOT NULL OR pr.content_id IS NOT NULL
            GROUP BY t.tag
            ORDER BY t.tag`,
          [userId, userId],
        ),
      );
      return rows;
    },

    async pace(userId: string, now: Date): Promise<PaceRow> {
      const { rows } = await readOnlyTransaction(readDb, (tx) =>
        tx.query<PaceRow>(
          `SELECT count(*) FILTER (WHERE completed_at IS NOT NULL)::int AS completed,
                  coalesce(sum(time_spent_minutes), 0)::float8 AS minutes,
                  min(created_at) AS first_at,
                  count(*) FILTER (WHERE completed_at >= $2::timestamptz - interval '28 days')::int AS recent_completed,
                  coalesce(sum(time_spent_minutes) FILTER (WHERE last_accessed >= $2::timestamptz - interval '28 days'), 0)::float8 AS recent_minutes
             FROM content.user_progress WHERE user_id = $1`,
          [userId, now],
        ),
      );
      return rows[0]!;
    },

    async courseTitles(courseIds: string[]): Promise<Map<string, string>> {
      const { rows } = await readOnlyTransaction(readDb, (tx) =>
        tx.query<{ id: string; title: string }>('SELECT id::text AS id, title FROM content.courses WHERE id::text = ANY($1::text[])', [
          courseIds,
        ]),
      );
      return new Map(rows.map((r) => [r.id, r.title]));
    },

    /** Published, not completed items of the learner's courses whose prerequisites are all completed. */
    async recommendationCandidates(userId: string): Promise<CandidateRow[]> {
      const { rows } = await readOnlyTransaction(readDb, (tx) =>
        tx.query<CandidateRow>(
          `WITH my_courses AS (
             SELECT course_id::text AS course_id FROM content.user_progress WHERE user_id = $1 AND course_id IS NOT NULL
             UNION
             SELECT course_id::text FROM content.learning_events WHERE user_id = $2 AND course_id IS NOT NULL
           ),
           done AS (SELECT content_id::text AS content_id FROM content.user_progress WHERE user_id = $1 AND completed_at IS NOT NULL)
           SELECT ci.id::text AS content_id, ci.course_id::text AS course_id, c.title AS course_title, ci.title, ci.content_type,
                  ci.sequence_number, ci.metadata -> 'tags' AS tags, ci.prerequisites
             FROM content.content_items ci JOIN content.courses c ON c.id = ci.course_id
            WHERE ci.status = 'published'
              AND ci.course_id::text IN (SELECT course_id FROM my_courses)
              AND ci.id::text NOT IN (SELECT content_id FROM done)
              AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements_text(ci.prerequisites) AS p(id) WHERE p.id NOT IN (SELECT content_id FROM done))
            ORDER BY c.title, ci.course_id, ci.sequence_number NULLS LAST, ci.created_at, ci.id`,
          [userId, userId],
        ),
      );
      return rows;
    },
  };
}

export type InsightsRepository = ReturnType<typeof insightsRepository>;
