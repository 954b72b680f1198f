/** SQL for courses and the ordered content items they hold. Every query is parameterised. */
import type { Queryable } from '../../kit/deps/database.ts';

export interface CourseRow {
  id: string;
  external_course_id: string | null;
  title: string;
  description: string;
  instructor_id: string | null;
  difficulty_level: string | null;
  estimated_hours: number | null;
  metadata: Record<string, unknown>;
  created_at: Date;
  updated_at: Date;
}

export interface CourseItemRow {
  id: string;
  title: string;
  content_type: string;
  sequence_number: number | null;
  prerequisites: string[];
  metadata: { duration_minutes?: number; difficulty_level?: string };
}

export interface CourseItemInput {
  content_id: string;
  sequence_number: number;
  prerequisites: string[];
}

export interface CourseFields {
  title?: string | undefined;
  description?: string | undefined;
  difficultyLevel?: string | null | undefined;
  estimatedHours?: number | null | undefined;
  metadata?: Record<string, unknown> | undefined;
}

const COLUMNS =
  'id, external_course_id, title, description, instructor_id, difficulty_level, estimated_hours, metadata, created_at, updated_at';

export function coursesRepository(db: Queryable) {
  return {
    async create(fields: CourseFields & { title: string }, instructorId: string, tx: Queryable = db): Promise<CourseRow> {
      const { rows } = await tx.query<CourseRow>(
        `INSERT INTO content.courses (title, description, instructor_id, difficulty_level, estimated_hours, metadata)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
        [
          fields.title,
          fields.description ?? '',
          instructorId,
          fields.difficultyLevel ?? null,
          fields.estimatedHours ?? null,
          JSON.stringify(fields.metadata ?? {}),
        ],
      );
      return rows[0]!;
    },

    async find(id: string, opts: { forUpdate?: boolean } = {}, tx: Queryable = db): Promise<CourseRow | undefined> {
      const { rows } = await tx.query<CourseRow>(
        `SELECT ${COLUMNS} FROM content.courses WHERE id = $1${opts.forUpdate ? ' FOR UPDATE' : ''}`,
        [id],
      );
      return rows[0];
    },

    async update(id: string, f: CourseFields, tx: Queryable = db): Promise<CourseRow | undefined> {
      const { rows } = await tx.query<CourseRow>(
        `UPDATE content.courses SET
           title = coalesce($2, title),
           description = coalesce($3, description),
           difficulty_level = CASE WHEN $4 THEN $5 ELSE difficulty_level END,
           estimated_hours = CASE WHEN $6 THEN $7::integer ELSE estimated_hours END,
           metadata = coalesce($8::jsonb, metadata),
           updated_at = now()
         WHERE id = $1 RETURNING ${COLUMNS}`,
        [
          id,
          f.title ?? null,
          f.description ?? null,
          f.difficultyLevel !== undefined,
          f.difficultyLevel ?? null,
          f.estimatedHours !== undefined,
          f.estimatedHours ?? null,
          f.metadata ? JSON.stringify(f.metadata) : null,
        ],
      );
      return rows[0];
    },

    /** Detaches the course's items, then deletes the course. Returns the detached item ids, or undefined when there was no course. */
    async remove(id: string, tx: Queryable = db): Promise<string[] | undefined> {
      const course = await this.find(id, { forUpdate: true }, tx);
      if (!course) return undefined;
      const { rows } = await tx.query<{ id: string }>(
        `UPDATE content.content_items SET course_id = NULL, sequence_number = NULL, version = version + 1, updated_at = now()
          WHERE course_id = $1 RETURNING id`,
        [id],
      );
      await tx.query('DELETE FROM content.courses WHERE id = $1', [id]);
      return rows.map((r) => r.id);
    },

    /** Published items of one course, in course order. */
    async items(courseId: string, tx: Queryable = db): Promise<CourseItemRow[]> {
      const { rows } = await tx.query<CourseItemRow>(
        `SELECT id, title, content_type, sequence_number, prerequisites, metadata FROM content.content_items
          WHERE course_id = $1 AND status = 'published'
          ORDER BY sequence_number NULLS LAST, created_at, id`,
        [courseId],
      );
      return rows;
    },

    /** The state of the referenced items, locked for the rest of the transaction. */
    async lockItems(ids: string[], tx: Queryable): Promise<Array<{ id: string; course_id: string | null; status: string }>> {
      const { rows } = await tx.query<{ id: string; course_id: string | null; status: string }>(
        'SELECT id, course_id, status FROM content.content_items WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE',
        [ids],
      );
      return rows;
    },

    /**
     * Makes `items` exactly the course's items: the listed ones get the course, their sequence numbers
     * and prerequisites; the course's other items are detached. Returns every item that changed.
     */
    async replaceItems(courseId: string, items: CourseItemInput[], tx: Queryable): Promise<string[]> {
      const ids = items.map((i) => i.content_id);
      const detached = await tx.query<{ id: string }>(
        `UPDATE content.content_items SET course_id = NULL, sequence_number = NULL, version = version + 1, updated_at = now()
          WHERE course_id = $1 AND NOT (id = ANY($2::uuid[])) RETURNING id`,
        [courseId, ids],
      );
      const attached = await tx.query<{ id: string }>(
        `UPDATE content.content_items ci SET
           course_id = $1, sequence_number = v.sequence_number, prerequisites = v.prerequisites,
           version = ci.version + 1, updated_at = now()
         FROM jsonb_to_recordset($2::jsonb) AS v(content_id uuid, sequence_number integer, prerequisites jsonb)
         WHERE ci.id = v.content_id
           AND (ci.course_id IS DISTINCT FROM $1 OR ci.sequence_number IS DISTINCT FROM v.sequence_number OR ci.prerequisites <> v.prerequisites)
         RETURNING ci.id`,
        [courseId, JSON.stringify(items)],
      );
      return [...detached.rows, ...attached.rows].map((r) => r.id);
    },

    /** Keyset pagination on (created_at, id), with each course's number of published items. */
    async list(opts: {
      limit: number;
      after?: { createdAt: string; id: string } | undefined;
    }): Promise<Array<CourseRow & { item_count: number; cursor_ts: string }>> {
      const { rows } = await db.query<CourseRow & { item_count: number; cursor_ts: string }>(
        `SELECT ${COLUMNS.split(', ')
          .map((c) => `c.${c}`)
          .join(', ')}, c.created_at::text AS cursor_ts,
                (SELECT count(*)::int FROM content.content_items ci WHERE ci.course_id = c.id AND ci.status = 'published') AS item_count
           FROM content.courses c
          WHERE ($1::timestamptz IS NULL OR (c.created_at, c.id) > ($1::timestamptz, $2::uuid))
          ORDER BY c.created_at, c.id LIMIT $3`,
        [opts.after?.createdAt ?? null, opts.after?.id ?? null, opts.limit],
      );
      return rows;
    },
  };
}

export type CoursesRepository = ReturnType<typeof coursesRepository>;
