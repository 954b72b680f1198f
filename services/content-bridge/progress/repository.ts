/** SQL for learning progress. Every query is parameterised. */
import type { Queryable } from '../../kit/deps/database.ts';

export interface ProgressRow {
  user_id: string;
  content_id: string;
  course_id: string | null;
  progress_percentage: string; // numeric arrives as a string
  time_spent_minutes: number;
  last_accessed: Date;
  completed_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface ProgressItemRow extends ProgressRow {
  title: string;
  content_type: string;
}

export interface CourseRollupRow {
  course_id: string;
  title: string;
  total_items: number;
  completed_items: number;
  started_items: number;
  time_spent_minutes: number;
}

const COLUMNS =
  'user_id, content_id, course_id, progress_percentage, time_spent_minutes, last_accessed, completed_at, created_at, updated_at';

export function progressRepository(db: Queryable) {
  return {
    async find(userId: string, contentId: string): Promise<ProgressRow | undefined> {
      const { rows } = await db.query<ProgressRow>(`SELECT ${COLUMNS} FROM content.user_progress WHERE user_id = $1 AND content_id = $2`, [
        userId,
        contentId,
      ]);
      return rows[0];
    },

    /** Prerequisites of `contentId` (published ones) that `userId` has not completed. */
    async missingPrerequisites(userId: string, contentId: string): Promise<Array<{ content_id: string; title: string }>> {
      const { rows } = await db.query<{ content_id: string; title: string }>(
        `SELECT pre.id::text AS content_id, pre.title
           FROM content.content_items ci
           CROSS JOIN LATERAL jsonb_array_elements_text(ci.prerequisites) WITH ORDINALITY AS p(id, ord)
           JOIN content.content_items pre ON pre.id = p.id::uuid AND pre.status = 'published'
          WHERE ci.id = $2
            AND NOT EXISTS (SELECT 1 FROM content.user_progress up
                             WHERE up.user_id = $1 AND up.content_id = pre.id AND up.completed_at IS NOT NULL)
          ORDER BY p.ord`,
        [userId, contentId],
      );
      return rows;
    },

    /**
     * One upsert: progress and time spent never decrease (GREATEST), `completed_at` is set the first
     * time progress reaches 100 and never cleared.
     */
    async record(userId: string, contentId: string, courseId: string | null, progress: number, timeSpent: number): Promise<ProgressRow> {
      const { rows } = await db.query<ProgressRow>(
        `INSERT INTO content.user_progress AS up (user_id, content_id, course_id, progress_percentage, time_spent_minutes, last_accessed, completed_at)
         VALUES ($1, $2, $3, $4, $5, now(), CASE WHEN $4::numeric >= 100 THEN now() END)
         ON CONFLICT (user_id, content_id) DO UPDATE SET
           course_id = EXCLUDED.course_id,
           progress_percentage = GREATEST(up.progress_percentage, EXCLUDED.progress_percentage),
           time_spent_minutes = GREATEST(up.time_spent_minutes, EXCLUDED.time_spent_minutes),
           completed_at = coalesce(up.completed_at, EXCLUDED.completed_at),
           last_accessed = now(),
           updated_at = now()
         RETURNING ${COLUMNS}`,
        [userId, contentId, courseId, progress, timeSpent],
      );
      return rows[0]!;
    },

    async items(userId: string): Promise<ProgressItemRow[]> {
      const { rows } = await db.query<ProgressItemRow>(
        `SELECT ${COLUMNS.split(', ')
          .map((c) => (c === 'course_id' ? 'ci.course_id' : `up.${c}`))
          .join(', ')}, ci.title, ci.content_type
           FROM content.user_progress up JOIN content.content_items ci ON ci.id = up.content_id
          WHERE up.user_id = $1
          ORDER BY up.last_accessed DESC, up.content_id`,
        [userId],
      );
      return rows;
    },

    /** Per course the user has progress in (by the items' current course): completed / total published items, time spent. */
    async rollup(userId: string): Promise<CourseRollupRow[]> {
      const { rows } = await db.query<CourseRollupRow>(
        `SELECT c.id AS course_id, c.title,
                (SELECT count(*)::int FROM content.content_items t WHERE t.course_id = c.id AND t.status = 'published') AS total_items,
                (count(*) FILTER (WHERE up.completed_at IS NOT NULL))::int AS completed_items,
                count(*)::int AS started_items,
                coalesce(sum(up.time_spent_minutes), 0)::int AS time_spent_minutes
           FROM content.user_progress up
           JOIN content.content_items ci ON ci.id = up.content_id AND ci.status = 'published'
           JOIN content.courses c ON c.id = ci.course_id
          WHERE up.user_id = $1
          GROUP BY c.id, c.title
          ORDER BY c.title, c.id`,
        [userId],
      );
      return rows;
    },
  };
}
