/**
 * The content flows behind the routes: search, the manifest, streamed and presigned uploads,
 * verify-and-complete, the metadata transaction and delete. Failures are thrown as domain errors
 * (kit/domain-error.ts); nothing here reads or writes the HTTP exchange.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { Queryable } from '../../kit/deps/database.ts';
import { domain, DomainError } from '../../kit/domain-error.ts';
import { cursorQuery, decodeCursor, paginate } from '../../kit/http/cursor.ts';
import { fieldErrors } from '../../kit/http/field-errors.ts';
import { removeQuietly } from '../../kit/http/multipart.ts';
import { ProblemError, type FieldError } from '../../kit/http/problem.ts';
import type { Logger } from '../../kit/observability/logger.ts';
import type { AppContext } from '../context.ts';
import { contentCache } from './cache.ts';
import {
  metadataInputSchema,
  storedMetadata,
  toDoc,
  UPLOAD_FIELDS,
  uploadFieldsSchema,
  type Content,
  type ContentDoc,
  type MetadataInput,
  type MetadataUpdate,
  type PresignedUpload,
  type PresignInput,
  type SearchQuery,
  type UploadFields,
} from './model.ts';
import { contentRepository, courseExists, itemsOnCycles, lockPrerequisites, missingContent, type MetadataChanges } from './repository.ts';
import { ALLOWED_MEDIA, isAllowed, SNIFF_BYTES, type ContentType } from './sniff.ts';
import { objectKey, stagingKey } from './storage.ts';
import { checkMedia, readHead, receiveUpload } from './upload.ts';

const isForeignKeyViolation = (err: unknown) => (err as { code?: string }).code === '23503';

/** The manifest's body as sent, and its strong ETag (a hash of that body). */
export interface Manifest {
  body: string;
  etag: string;
}

export function contentService(app: AppContext) {
  const { db, store } = app.deps;
  const repo = contentRepository(db);
  const cache = contentCache(app.deps.cache, app.logger, app.config.CONTENT_CACHE_TTL_SECONDS);
  const ttl = app.config.PRESIGN_TTL_SECONDS;
  const maxBytes = app.config.UPLOAD_MAX_BYTES;

  /** The document's object keys as short-lived presigned URLs. */
  async function presignedUrls(doc: ContentDoc): Promise<Pick<Content, 'content_url' | 'thumbnail_url'>> {
    return {
      content_url: doc.object_key ? await store.presignedGetUrl(doc.object_key, ttl) : '',
      thumbnail_url: doc.thumbnail_key ? await store.presignedGetUrl(doc.thumbnail_key, ttl) : null,
    };
  }

  /** A document as clients see it: the object keys become short-lived presigned URLs. */
  async function present(doc: ContentDoc): Promise<Content> {
    const { thumbnail_key: _thumbnailKey, ...rest } = doc;
    return { ...rest, ...(await presignedUrls(doc)) };
  }

  /**
   * The last answer of each document, kept while its presigned URLs are the same (the store reuses
   * a URL for half its lifetime): a hot item's read then skips building and serialising it. Keyed
   * weakly by the document object, which only the content cache's memory window keeps alive.
   */
  const presented = new WeakMap<ContentDoc, { urls: Pick<Content, 'content_url' | 'thumbnail_url'>; json: string }>();

  /** `present` as JSON text. */
  async function presentJson(doc: ContentDoc): Promise<string> {
    const urls = await presignedUrls(doc);
    const last = presented.get(doc);
    if (last && last.urls.content_url === urls.content_url && last.urls.thumbnail_url === urls.thumbnail_url) return last.json;
    const { thumbnail_key: _thumbnailKey, ...rest } = doc;
    const json = JSON.stringify({ ...rest, ...urls } satisfies Content);
    presented.set(doc, { urls, json });
    return json;
  }

  async function checkReferences(
    courseId: string | null | undefined,
    prerequisites: string[] | undefined,
    prerequisitesAt: string,
    tx: Queryable = db,
  ) {
    const errors: FieldError[] = [];
    if (courseId && !(await courseExists(tx, courseId))) errors.push({ location: 'body.course_id', message: `no course ${courseId}` });
    for (const id of await missingContent(tx, prerequisites ?? [])) {
      errors.push({ location: prerequisitesAt, message: `no published content item ${id}` });
    }
    if (errors.length) throw domain.invalid('The request refers to a course or content that does not exist', errors);
  }

  function parseMetadataField(raw: string | undefined): MetadataInput {
    if (raw === undefined || raw.trim() === '') return {};
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      throw domain.invalid('The upload form is invalid', [{ location: 'body.metadata', message: 'must be a JSON object' }]);
    }
    const result = metadataInputSchema.safeParse(json);
    if (!result.success) throw domain.invalid('The upload form is invalid', fieldErrors('body.metadata', result.error));
    return result.data;
  }

  /** Streams a stored object once: sniffs its first bytes (must be the declared, allowed type) and hashes it. */
  async function verifyObject(key: string, type: ContentType, declared: string): Promise<{ sha256: string; size: number }> {
    const source: Readable = await store.get(key);
    try {
      const { head, ended } = await readHead(source, SNIFF_BYTES);
      const media = checkMedia(type, head, ended);
      if (media instanceof ProblemError) throw domain.invalid(media.detail ?? 'The file type is not allowed');
      if (media !== declared) throw domain.invalid(`The uploaded file is ${media}, not the declared ${declared}`);
      const hash = createHash('sha256').update(head);
      let size = head.length;
      if (!ended) {
        for await (const chunk of source) {
          hash.update(chunk as Buffer);
          size += (chunk as Buffer).length;
        }
      }
      return { sha256: hash.digest('hex'), size };
    } finally {
      source.destroy();
    }
  }

  return {
    present,
    presentJson,

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

    /** Streams a multipart upload to the object store, then publishes its row (the object is removed if that fails). */
    async upload(input: { req: IncomingMessage; logger: Logger; userId: string }): Promise<ContentDoc> {
      const contentId = randomUUID();
      const { fields, file } = await receiveUpload<UploadFields>({
        req: input.req,
        maxBytes,
        store,
        logger: input.logger,
        fieldNames: UPLOAD_FIELDS,
        async validate(raw, complete) {
          // Before the form has ended a missing field may still come: only what is present is judged.
          const result = (complete ? uploadFieldsSchema : uploadFieldsSchema.partial()).safeParse(raw);
          if (!result.success) throw domain.invalid('The upload form is invalid', fieldErrors('body', result.error));
          const metadata = parseMetadataField(result.data.metadata);
          await checkReferences(result.data.course_id, metadata.prerequisites, 'body.metadata.prerequisites');
          const { title, type } = result.data;
          if (title === undefined || type === undefined) return undefined;
          return { title, type, courseId: result.data.course_id ?? null, metadata };
        },
        keyFor: (f, media, filename) => objectKey({ type: f.type, media, courseId: f.courseId, contentId, filename }),
        stagingKey: stagingKey(contentId),
      });
      try {
        const row = await repo.insert({
          id: contentId,
          courseId: fields.courseId,
          title: fields.title,
          description: fields.metadata.description ?? '',
          type: fields.type,
          filePath: file.key,
          mimeType: file.media,
          sizeBytes: file.size,
          sha256: file.sha256,
          metadata: storedMetadata(fields.metadata),
          prerequisites: [...new Set(fields.metadata.prerequisites ?? [])],
          status: 'published',
          createdBy: input.userId,
        });
        return toDoc(row);
      } catch (err) {
        await removeQuietly(store, file.key, app.logger);
        if (isForeignKeyViolation(err)) throw domain.invalid('The course or a prerequisite was deleted during the upload');
        throw err;
      }
    },

    /** A pending item and a presigned PUT URL for its file; `complete` publishes it. */
    async presign(body: PresignInput, userId: string): Promise<PresignedUpload> {
      if (!isAllowed(body.type, body.content_type)) {
        throw domain.invalid('The content type is not allowed for this type of content', [
          { location: 'body.content_type', message: `allowed for ${body.type}: ${ALLOWED_MEDIA[body.type].join(', ')}` },
        ]);
      }
      if (body.size !== undefined && body.size > maxBytes) throw domain.tooLarge(`The file exceeds the upload limit of ${maxBytes} bytes`);
      const metadata = body.metadata ?? {};
      await checkReferences(body.course_id, metadata.prerequisites, 'body.metadata.prerequisites');
      const id = randomUUID();
      const key = objectKey({
        type: body.type,
        media: body.content_type,
        courseId: body.course_id ?? null,
        contentId: id,
        filename: body.filename,
      });
      const uploadUrl = await store.presignedPutUrl(key, ttl);
      try {
        await repo.insert({
          id,
          courseId: body.course_id ?? null,
          title: body.title,
          description: metadata.description ?? '',
          type: body.type,
          filePath: key,
          mimeType: body.content_type,
          sizeBytes: body.size ?? null, // the declared size, checked on completion
          sha256: null,
          metadata: storedMetadata(metadata),
          prerequisites: [...new Set(metadata.prerequisites ?? [])],
          status: 'pending',
          createdBy: userId,
        });
      } catch (err) {
        if (isForeignKeyViolation(err)) throw domain.invalid('The course or a prerequisite was just deleted');
        throw err;
      }
      return {
        content_id: id,
        upload_url: uploadUrl,
        method: 'PUT',
        expires_at: new Date(Date.now() + ttl * 1000).toISOString(),
        object_key: key,
      };
    },

    /** Verifies, hashes and sniffs a presigned upload's object, then publishes the item; a bad object is discarded. */
    async complete(contentId: string, caller: { userId: string; isAdmin: boolean }): Promise<ContentDoc> {
      const row = await repo.find(contentId, { includePending: true });
      if (!row) throw domain.notFound('No such content');
      if (row.status !== 'pending') throw domain.conflict('This upload is already complete');
      if (row.created_by !== caller.userId && !caller.isAdmin) {
        throw domain.forbidden('Only the uploader or an admin may complete this upload');
      }
      const key = row.file_path!;
      const info = await store.stat(key);
      if (!info) throw domain.conflict('Nothing was uploaded yet: PUT the file to upload_url first');

      const discard = async (failure: Error): Promise<never> => {
        await store.remove(key);
        await repo.remove(row.id);
        throw failure;
      };
      if (info.size > maxBytes) await discard(domain.tooLarge(`The file exceeds the upload limit of ${maxBytes} bytes`));
      if (row.size_bytes !== null && Number(row.size_bytes) !== info.size) {
        await discard(domain.invalid(`The uploaded file has ${info.size} bytes, not the declared ${row.size_bytes}`));
      }

      let verified: { sha256: string; size: number };
      try {
        verified = await verifyObject(key, row.content_type, row.mime_type!);
      } catch (err) {
        if (err instanceof DomainError || err instanceof ProblemError) await discard(err);
        throw err;
      }
      const after = await store.stat(key);
      if (!after || after.etag !== info.etag || verified.size !== info.size) {
        throw domain.conflict('The object changed while it was being verified; complete the upload again');
      }
      const published = await repo.publish(row.id, { sizeBytes: verified.size, sha256: verified.sha256, mimeType: row.mime_type! });
      if (!published) throw domain.conflict('This upload is already complete');
      await cache.invalidate(row.id);
      return toDoc(published);
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
          await checkReferences(changes.courseId, changes.prerequisites, 'body.prerequisites', tx);
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
