/**
 * The content flows behind the routes: search, the manifest, reads through the cache, the metadata
 * transaction and delete; uploads and their completion are in publishing.ts, the client's view of a
 * document in presentation.ts. Failures are thrown as domain errors (kit/domain-error.ts); nothing
 * here reads or writes the HTTP exchange.
 */
import { createHash } from 'node:crypto';
import { domain } from '../../kit/domain-error.ts';
import { cursorQuery, decodeCursor, paginate } from '../../kit/http/cursor.ts';
import type { AppContext } from '../context.ts';
import { contentCache } from './cache.ts';
import { toDoc, type Content, type ContentDoc, type MetadataUpdate, type SearchQuery } from './model.ts';
import { contentPresentation } from './presentation.ts';
import { publishingFlows } from './publishing.ts';
import { checkReferences, isForeignKeyViolation } from './references.ts';
import { contentRepository, itemsOnCycles, lockPrerequisites, type MetadataChanges } from './repository.ts';

/** The manifest's body as sent, and its strong ETag (a hash of that body). */
export interface Manifest {
  body: string;
  etag: string;
}

export function contentService(app: AppContext) {
  const { db, store } = app.deps;
  const repo = contentRepository(db);
  const cache = contentCache(app.deps.cache, app.logger, app.config.CONTENT_CACHE_TTL_SECONDS);
  const { present, presentJson } = contentPresentation(store, app.config.PRESIGN_TTL_SECONDS);

  return {
    present,
    presentJson,
    ...publishingFlows(app, repo, cache),

    async search(query: SearchQuery): Promise<{ results: Content[]; next_cursor: string | null }> {
      const cursor = query.cursor ? decodeCursor(query.cursor) : undefined;
      const q = query.q || undefined;
      if (cursor && (cursor.order === 'rank') !== Boolean(q)) {
        throw domain.invalid('The cursor belongs to another query', [{ location: 'query.cursor', message: 'not a cursor for this query' }]);
      }
      const rawTags = query.tags === undefined ? [] : Array.isArray(query.tags) ? query.tags : [query.tags];
      const tags = [...new Set(rawTags.flatMap((t) => t.split(',')).map((t) => t.trim().toLowerCase()))].filter(Boolean);
      const rows = await cursorQuery(() =>
        repo.search({
          q,
          type: query.type,
          difficulty: query.difficulty,
          tags,
          courseId: query.course_id,
          limit: query.limit + 1,
          after: cursor,
        }),
      );
      const { page, next } = paginate(rows, query.limit, (row) =>
        q ? { order: 'rank', rank: row.cursor_key, id: row.id } : { order: 'time', createdAt: row.cursor_key, id: row.id },
      );
      return { results: await Promise.all(page.map((row) => present(toDoc(row)))), next_cursor: next };
    },

    async manifest(): Promise<Manifest> {
      const items = (await repo.manifest()).map((r) => ({
        content_id: r.id,
        title: r.title,
        type: r.content_type,
        version: r.version,
        size_bytes: r.size_bytes === null ? null : Number(r.size_bytes),
        sha256: r.sha256,
        mime_type: r.mime_type,
        object_key: r.file_path,
        updated_at: r.updated_at.toISOString(),
      }));
      const body = JSON.stringify({ count: items.length, items });
      return { body, etag: `"${createHash('sha256').update(body).digest('base64url')}"` };
    },

    /**
     * Applies a metadata update in one transaction. `versions` are those an If-Match header accepts
     * (undefined: any); a stale version is a 412 naming the current ETag.
     */
    async updateMetadata(body: MetadataUpdate, versions: number[] | undefined): Promise<ContentDoc> {
      const metadata: Record<string, unknown> = {};
      for (const field of ['duration_minutes', 'difficulty_level', 'learning_objectives'] as const) {
        if (body[field] !== undefined) metadata[field] = body[field];
      }
      if (body.tags !== undefined) metadata.tags = body.tags === null ? null : [...new Set(body.tags.map((t) => t.toLowerCase()))];
      const changes: MetadataChanges = {
        title: body.title,
        description: body.description,
        metadata: Object.keys(metadata).length ? metadata : undefined,
        courseId: body.course_id,
        sequenceNumber: body.sequence_number,
        prerequisites: body.prerequisites ? [...new Set(body.prerequisites)] : undefined,
      };
      const id = body.content_id;
      let updated;
      try {
        updated = await db.transaction(async (tx) => {
          if (changes.prerequisites) await lockPrerequisites(tx);
          const current = await repo.find(id, {}, tx);
          if (!current) throw domain.notFound('No such content');
          await checkReferences(tx, changes.courseId, changes.prerequisites, 'body.prerequisites');
          const row = await repo.update(id, changes, versions, tx);
          if (!row) throw domain.stale(`The content changed since you read it; its current ETag is ${toDoc(current).etag}`);
          if (changes.prerequisites) {
            const cyclic = await itemsOnCycles(tx, [id]);
            if (cyclic.length) {
              throw domain.invalid('The prerequisites would form a cycle', [
                { location: 'body.prerequisites', message: `${id} would (indirectly) require itself` },
              ]);
            }
          }
          return row;
        });
      } catch (err) {
        if (isForeignKeyViolation(err)) throw domain.invalid('The course was deleted during the update');
        throw err;
      }
      await cache.invalidate(id);
      return toDoc(updated);
    },

    /** One published item, through the cache; `hit` says whether the cache answered. */
    async read(contentId: string): Promise<{ doc: ContentDoc; hit: boolean }> {
      const { doc, hit } = await cache.read(contentId, async () => {
        const row = await repo.find(contentId);
        return row ? toDoc(row) : undefined;
      });
      if (!doc) throw domain.notFound('No such content');
      return { doc, hit };
    },

    /** Deletes an item's row, its prerequisite edges and its objects, all or nothing. */
    async remove(contentId: string): Promise<void> {
      const changed = await db.transaction(async (tx) => {
        const row = await repo.find(contentId, { includePending: true, forUpdate: true }, tx);
        if (!row) throw domain.notFound('No such content');
        const dependants = await repo.dropPrerequisite(row.id, tx);
        await repo.remove(row.id, tx);
        // Last, so a failure (503 when the store is down) rolls the row back: nothing is half-deleted.
        if (row.file_path) await store.remove(row.file_path);
        if (row.thumbnail_path) await store.remove(row.thumbnail_path);
        return dependants;
      });
      await cache.invalidate(contentId, ...changed);
    },
  };
}

export type ContentService = ReturnType<typeof contentService>;
