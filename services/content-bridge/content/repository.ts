/** SQL for content items. Every query is parameterised; nothing from a request is spliced into SQL text. */
import type { Queryable } from '../../kit/deps/database.ts';
import type { Keyset } from '../../kit/http/cursor.ts';
import { CONTENT_COLUMNS, type ContentRow, type StoredMetadata } from './model.ts';
import type { ContentType } from './sniff.ts';

/** Serialises every transaction that changes prerequisite edges, so two of them cannot close a cycle together. */
const PREREQUISITE_LOCK = 0x0c0_77e7;

export interface NewContent {
  id: string;
  courseId: string | null;
  title: string;
  description: string;
  type: ContentType;
  filePath: string;
  mimeType: string;
  sizeBytes: number | null;
  sha256: string | null;
  metadata: StoredMetadata;
  prerequisites: string[];
  status: 'pending' | 'published';
  createdBy: string;
}

export interface MetadataChanges {
  title?: string | undefined;
  description?: string | undefined;
  /** Keys to merge into the metadata column; `null` removes a key. */
  metadata?: Record<string, unknown> | undefined;
  courseId?: string | null | undefined;
  sequenceNumber?: number | null | undefined;
  prerequisites?: string[] | undefined;
}

export interface SearchFilters {
  q?: string | undefined;
  type?: ContentType | undefined;
  difficulty?: string | undefined;
  tags?: string[] | undefined;
  courseId?: string | undefined;
  limit: number;
  after?: Keyset | undefined;
}

export type SearchRow = ContentRow & { cursor_key: string };

export interface ManifestRow {
  id: string;
  title: string;
  content_type: ContentType;
  version: number;
  size_bytes: string | null;
  sha256: string | null;
  mime_type: string | null;
  file_path: string | null;
  updated_at: Date;
}

/** Takes the prerequisite-graph lock for the rest of the transaction. */
export async function lockPrerequisites(tx: Queryable): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1)', [PREREQUISITE_LOCK]);
}

/** Ids among `ids` that are not published content items. */
export async function missingContent(db: Queryable, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.query<{ id: string }>(
    `SELECT want.id::text AS id FROM unnest($1::uuid[]) AS want(id)
     WHERE NOT EXISTS (SELECT 1 FROM content.content_items ci WHERE ci.id = want.id AND ci.status = 'published')`,
    [ids],
  );
  return rows.map((r) => r.id);
}

export async function courseExists(db: Queryable, id: string): Promise<boolean> {
  const { rows } = await db.query('SELECT 1 FROM content.courses WHERE id = $1', [id]);
  return rows.length > 0;
}

/**
 * Items among `ids` that can reach themselves through prerequisite edges (as stored now, inside the
 * caller's transaction). `UNION` deduplicates (start, node) pairs, so the walk terminates on any graph.
 */
export async function itemsOnCycles(db: Queryable, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.query<{ start: string }>(
    `WITH RECURSIVE reach(start, node) AS (
       SELECT ci.id, p.v::uuid FROM content.content_items ci
         CROSS JOIN LATERAL jsonb_array_elements_text(ci.prerequisites) AS p(v)
        WHERE ci.id = ANY($1::uuid[])
       UNION
       SELECT r.start, p.v::uuid FROM reach r
         JOIN content.content_items ci ON ci.id = r.node
         CROSS JOIN LATERAL jsonb_array_elements_text(ci.prerequisites) AS p(v)
     )
     SELECT DISTINCT start::text AS start FROM reach WHERE node = start ORDER BY 1`,
    [ids],
  );
  return rows.map((r) => r.start);
}

export function contentRepository(db: Queryable) {
  return {
    async insert(c: NewContent, tx: Queryable = db): Promise<ContentRow> {
      const { rows } = await tx.query<ContentRow>(
        `INSERT INTO content.content_items
           (id, course_id, title, description, content_type, file_path, mime_type, size_bytes, sha256, metadata, prerequisites, status, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         RETURNING ${CONTENT_COLUMNS}`,
        [
          c.id,
          c.courseId,
          c.title,
          c.description,
          c.type,
          c.filePath,
          c.mimeType,
          c.sizeBytes,
          c.sha256,
          JSON.stringify(c.metadata),
          JSON.stringify(c.prerequisites),
          c.status,
          c.createdBy,
        ],
      );
      return rows[0]!;
    },

    async find(
      id: string,
      opts: { includePending?: boolean; forUpdate?: boolean } = {},
      tx: Queryable = db,
    ): Promise<ContentRow | undefined> {
      const { rows } = await tx.query<ContentRow>(
        `SELECT ${CONTENT_COLUMNS} FROM content.content_items
          WHERE id = $1 AND ($2 OR status = 'published')${opts.forUpdate ? ' FOR UPDATE' : ''}`,
        [id, Boolean(opts.includePending)],
      );
      return rows[0];
    },

    /** Marks a pending item published with its verified size, hash and media type. Undefined if it was not pending. */
    async publish(id: string, file: { sizeBytes: number; sha256: string; mimeType: string }): Promise<ContentRow | undefined> {
      const { rows } = await db.query<ContentRow>(
        `UPDATE content.content_items
            SET status = 'published', size_bytes = $2, sha256 = $3, mime_type = $4, updated_at = now()
          WHERE id = $1 AND status = 'pending'
          RETURNING ${CONTENT_COLUMNS}`,
        [id, file.sizeBytes, file.sha256, file.mimeType],
      );
      return rows[0];
    },

    async remove(id: string, tx: Queryable = db): Promise<void> {
      await tx.query('DELETE FROM content.content_items WHERE id = $1', [id]);
    },

    /** Removes `id` from every other item's prerequisites; returns the items that changed. */
    async dropPrerequisite(id: string, tx: Queryable = db): Promise<string[]> {
      const { rows } = await tx.query<{ id: string }>(
        `UPDATE content.content_items
            SET prerequisites = prerequisites - $1::text, version = version + 1, updated_at = now()
          WHERE prerequisites ? $1::text
          RETURNING id`,
        [id],
      );
      return rows.map((r) => r.id);
    },

    /**
     * Applies `changes` when the item is published and its version is one of `versions` (or any
     * version when `versions` is undefined). Bumps the version. Undefined when nothing matched.
     */
    async update(
      id: string,
      changes: MetadataChanges,
      versions: number[] | undefined,
      tx: Queryable = db,
    ): Promise<ContentRow | undefined> {
      const { rows } = await tx.query<ContentRow>(
        `UPDATE content.content_items SET
           title = coalesce($2, title),
           description = coalesce($3, description),
           metadata = CASE WHEN $4::jsonb IS NULL THEN metadata ELSE jsonb_strip_nulls(metadata || $4::jsonb) END,
           course_id = CASE WHEN $5 THEN $6::uuid ELSE course_id END,
           sequence_number = CASE WHEN $7 THEN $8::integer ELSE sequence_number END,
           prerequisites = coalesce($9::jsonb, prerequisites),
           version = version + 1,
           updated_at = now()
         WHERE id = $1 AND status = 'published' AND ($10::integer[] IS NULL OR version = ANY($10::integer[]))
         RETURNING ${CONTENT_COLUMNS}`,
        [
          id,
          changes.title ?? null,
          changes.description ?? null,
          changes.metadata ? JSON.stringify(changes.metadata) : null,
          changes.courseId !== undefined,
          changes.courseId ?? null,
          changes.sequenceNumber !== undefined,
          changes.sequenceNumber ?? null,
          changes.prerequisites ? JSON.stringify(changes.prerequisites) : null,
          versions ?? null,
        ],
      );
      return rows[0];
    },

    /**
     * Full-text search with keyset pagination. With `q`: ranked by ts_rank (desc) then id; without:
     * by created_at then id. `cursor_key` is the sort key of each row, as text, for the next cursor.
     */
    async search(f: SearchFilters): Promise<SearchRow[]> {
      const params: unknown[] = [];
      const p = (value: unknown) => {
        params.push(value);
        return `$${params.length}`;
      };
      const where: string[] = [`status = 'published'`];
      if (f.type) where.push(`content_type = ${p(f.type)}`);
      if (f.difficulty) where.push(`metadata ->> 'difficulty_level' = ${p(f.difficulty)}`);
      if (f.tags?.length) where.push(`metadata -> 'tags' @> ${p(JSON.stringify(f.tags))}::jsonb`);
      if (f.courseId) where.push(`course_id = ${p(f.courseId)}::uuid`);
      if (f.q) {
        const query = p(f.q);
        where.push(`search_vector @@ websearch_to_tsquery('english', ${query})`);
        const rank = `ts_rank(search_vector, websearch_to_tsquery('english', ${query}))`;
        if (f.after?.order === 'rank') {
          const r = p(f.after.rank);
          where.push(`(${rank} < ${r}::real OR (${rank} = ${r}::real AND id > ${p(f.after.id)}::uuid))`);
        }
        const { rows } = await db.query<SearchRow>(
          `SELECT ${CONTENT_COLUMNS}, ${rank}::text AS cursor_key FROM content.content_items
            WHERE ${where.join(' AND ')} ORDER BY ${rank} DESC, id LIMIT ${p(f.limit)}`,
          params,
        );
        return rows;
      }
      if (f.after?.order === 'time') where.push(`(created_at, id) > (${p(f.after.createdAt)}::timestamptz, ${p(f.after.id)}::uuid)`);
      const { rows } = await db.query<SearchRow>(
        `SELECT ${CONTENT_COLUMNS}, created_at::text AS cursor_key FROM content.content_items
          WHERE ${where.join(' AND ')} ORDER BY created_at, id LIMIT ${p(f.limit)}`,
        params,
      );
      return rows;
    },

    async manifest(): Promise<ManifestRow[]> {
      const { rows } = await db.query<ManifestRow>(
        `SELECT id, title, content_type, version, size_bytes, sha256, mime_type, file_path, updated_at
           FROM content.content_items WHERE status = 'published' ORDER BY id`,
      );
      return rows;
    },
  };
}

export type ContentRepository = ReturnType<typeof contentRepository>;
