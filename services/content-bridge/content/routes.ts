/**
 * Content: files in the object store, metadata in PostgreSQL.
 *
 * - Uploads stream through the bridge (`POST /api/content/upload`, multipart: the text fields and the
 *   file in any order) or go straight to the object store with a presigned PUT (`POST /api/content/uploads`,
 *   then `POST /api/content/{id}/complete`). Either way a row is `published` only once its object is
 *   stored, hashed and sniffed; pending rows are invisible to every read.
 * - Reads are cached in Redis (see cache.ts) and fall back to PostgreSQL when Redis is down.
 * - Metadata updates use optimistic concurrency: `ETag: "v<version>"`, `If-Match` → 412 when stale.
 *   Without If-Match an update is accepted (last writer wins), so clients of the spec's API that
 *   know nothing about ETags keep working; clients that care send If-Match.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import type { Queryable } from '../../kit/deps/database.ts';
import { problem, ProblemError, type FieldError } from '../../kit/http/problem.ts';
import { route, type RouteSpec } from '../../kit/http/routes.ts';
import type { AppContext } from '../context.ts';
import { contentCache } from './cache.ts';
import { cursorQuery, TIMESTAMP } from './cursors.ts';
import {
  contentSchema,
  contentTypeSchema,
  difficultySchema,
  mediaTypeSchema,
  metadataInputSchema,
  storedMetadata,
  titleSchema,
  toDoc,
  type Content,
  type ContentDoc,
  type MetadataInput,
} from './model.ts';
import { contentRepository, courseExists, itemsOnCycles, lockPrerequisites, missingContent, type MetadataChanges } from './repository.ts';
import { isAllowed, ALLOWED_MEDIA, SNIFF_BYTES, type ContentType } from './sniff.ts';
import { objectKey, stagingKey } from './storage.ts';
import { removeQuietly } from '../../kit/http/multipart.ts';
import { checkMedia, readHead, receiveUpload } from './upload.ts';

const contentIdParams = z.strictObject({ content_id: z.uuid() });

/** Room for the multipart framing and text fields on top of the file itself. */
const FORM_OVERHEAD_BYTES = 1024 * 1024;

const UPLOAD_FIELDS = ['title', 'type', 'course_id', 'metadata'] as const;

const uploadFieldsSchema = z.strictObject({
  title: titleSchema,
  type: contentTypeSchema,
  course_id: z.uuid().optional(),
  metadata: z.string().optional(),
});

interface UploadFields {
  title: string;
  type: ContentType;
  courseId: string | null;
  metadata: MetadataInput;
}

const presignBody = z.strictObject({
  title: titleSchema,
  type: contentTypeSchema,
  course_id: z.uuid().optional(),
  metadata: metadataInputSchema.optional(),
  filename: z.string().trim().min(1).max(255),
  content_type: mediaTypeSchema,
  size: z.number().int().min(1).optional(),
});

const nullableTags = z.array(z.string().trim().min(1).max(50)).max(50);

const metadataBody = z
  .strictObject({
    content_id: z.uuid(),
    title: titleSchema.optional(),
    description: z.string().max(10_000).optional(),
    duration_minutes: z.number().int().min(0).max(100_000).nullable().optional(),
    difficulty_level: difficultySchema.nullable().optional(),
    tags: nullableTags.nullable().optional(),
    learning_objectives: z.array(z.string().trim().min(1).max(500)).max(50).nullable().optional(),
    prerequisites: z.array(z.uuid()).max(100).optional(),
    course_id: z.uuid().nullable().optional(),
    sequence_number: z.number().int().min(0).max(1_000_000).nullable().optional(),
  })
  .refine((b) => Object.keys(b).some((k) => k !== 'content_id'), { message: 'nothing to update' });

const searchQuery = z.strictObject({
  q: z.string().trim().max(500).optional(),
  type: contentTypeSchema.optional(),
  difficulty: difficultySchema.optional(),
  tags: z
    .union([z.string().max(1000), z.array(z.string().max(1000)).max(20)])
    .optional()
    .describe('Comma-separated (or repeated); items must carry all of them'),
  course_id: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(500).optional(),
});

const manifestItem = z.object({
  content_id: z.uuid(),
  title: z.string(),
  type: contentTypeSchema,
  version: z.number().int(),
  size_bytes: z.number().int().nullable(),
  sha256: z.string().nullable(),
  mime_type: z.string().nullable(),
  object_key: z.string().nullable(),
  updated_at: z.string(),
});

type Cursor = { m: 'r' | 't'; k: string; id: string };

function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

function decodeCursor(raw: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(raw, 'base64url').toString()) as Cursor;
    if ((c.m !== 'r' && c.m !== 't') || typeof c.k !== 'string' || c.k.length > 64 || !z.uuid().safeParse(c.id).success)
      throw new Error('bad');
    if (c.m === 'r' && (!/^-?\d+(\.\d+)?(e[-+]?\d+)?$/i.test(c.k) || !(Math.abs(Number(c.k)) < 1e38))) throw new Error('bad rank');
    if (c.m === 't' && !TIMESTAMP.test(c.k)) throw new Error('bad time');
    return c;
  } catch {
    throw problem.unprocessable('The cursor is invalid', [{ location: 'query.cursor', message: 'not a cursor from this API' }]);
  }
}

function zodErrors(location: string, error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => ({
    location: [location, ...issue.path.map(String)].join('.'),
    message: issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : issue.message,
  }));
}

/** The versions an If-Match header accepts: undefined for none/`*` (any), [] when nothing can match. */
export function parseIfMatch(header: string | undefined): number[] | undefined {
  if (header === undefined || header.trim() === '' || header.trim() === '*') return undefined;
  const versions: number[] = [];
  for (const part of header.split(',')) {
    // Strong comparison (RFC 9110 13.1.1): a weak tag never matches.
    const m = /^"v(\d{1,9})"$/.exec(part.trim());
    if (m) versions.push(Number(m[1]));
  }
  return versions;
}

/** True when an If-None-Match header matches `etag` (weak comparison, RFC 9110 13.1.2). */
function noneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  const opaque = etag.replace(/^W\//, '');
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === opaque);
}

const isForeignKeyViolation = (err: unknown) => (err as { code?: string }).code === '23503';

export function contentRoutes(app: AppContext): RouteSpec[] {
  const { db, store } = app.deps;
  const repo = contentRepository(db);
  const cache = contentCache(app.deps.cache, app.logger, app.config.CONTENT_CACHE_TTL_SECONDS);
  const ttl = app.config.PRESIGN_TTL_SECONDS;
  const maxBytes = app.config.UPLOAD_MAX_BYTES;

  async function present(doc: ContentDoc): Promise<Content> {
    const { thumbnail_key, ...rest } = doc;
    return {
      ...rest,
      content_url: rest.object_key ? await store.presignedGetUrl(rest.object_key, ttl) : '',
      thumbnail_url: thumbnail_key ? await store.presignedGetUrl(thumbnail_key, ttl) : null,
    };
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
    if (errors.length) throw problem.unprocessable('The request refers to a course or content that does not exist', errors);
  }

  function parseMetadataField(raw: string | undefined): MetadataInput {
    if (raw === undefined || raw.trim() === '') return {};
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      throw problem.unprocessable('The upload form is invalid', [{ location: 'body.metadata', message: 'must be a JSON object' }]);
    }
    const result = metadataInputSchema.safeParse(json);
    if (!result.success) throw problem.unprocessable('The upload form is invalid', zodErrors('body.metadata', result.error));
    return result.data;
  }

  /** Streams a stored object once: sniffs its first bytes (must be the declared, allowed type) and hashes it. */
  async function verifyObject(key: string, type: ContentType, declared: string): Promise<{ sha256: string; size: number }> {
    const source: Readable = await store.get(key);
    try {
      const { head, ended } = await readHead(source, SNIFF_BYTES);
      const media = checkMedia(type, head, ended);
      if (media instanceof ProblemError) throw problem.unprocessable(media.detail ?? 'The file type is not allowed');
      if (media !== declared) throw problem.unprocessable(`The uploaded file is ${media}, not the declared ${declared}`);
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

  async function respond(ctx: { status: number; body: unknown; set(name: string, value: string): void }, doc: ContentDoc, status = 200) {
    ctx.status = status;
    ctx.set('ETag', doc.etag);
    ctx.set('Cache-Control', 'private, no-cache');
    ctx.body = await present(doc);
  }

  return [
    route({
      method: 'get',
      path: '/api/content/search',
      summary: 'Full-text search over published content (websearch syntax), with filters and keyset pagination',
      tags: ['content'],
      access: 'authenticated',
      query: searchQuery,
      responses: {
        200: {
          description: 'A page of results',
          schema: z.object({ results: z.array(contentSchema), next_cursor: z.string().nullable() }),
        },
      },
      async handler({ ctx, query }) {
        const cursor = query.cursor ? decodeCursor(query.cursor) : undefined;
        const q = query.q || undefined;
        if (cursor && (cursor.m === 'r') !== Boolean(q)) {
          throw problem.unprocessable('The cursor belongs to another query', [
            { location: 'query.cursor', message: 'not a cursor for this query' },
          ]);
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
            after: cursor
              ? cursor.m === 'r'
                ? { mode: 'rank', rank: cursor.k, id: cursor.id }
                : { mode: 'time', createdAt: cursor.k, id: cursor.id }
              : undefined,
          }),
        );
        const page = rows.slice(0, query.limit);
        const last = page[page.length - 1];
        ctx.set('Cache-Control', 'private, no-cache');
        ctx.body = {
          results: await Promise.all(page.map((row) => present(toDoc(row)))),
          next_cursor: rows.length > query.limit && last ? encodeCursor({ m: q ? 'r' : 't', k: last.cursor_key, id: last.id }) : null,
        };
      },
    }),

    route({
      method: 'get',
      path: '/api/manifest',
      summary: 'Manifest of every published item (any signed-in user); strong ETag, If-None-Match → 304',
      tags: ['content'],
      access: 'authenticated',
      headers: ['If-None-Match'],
      responses: {
        200: { description: 'The manifest', schema: z.object({ count: z.number().int(), items: z.array(manifestItem) }) },
        304: { description: 'Unchanged since the ETag in If-None-Match' },
      },
      async handler({ ctx }) {
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
        const etag = `"${createHash('sha256').update(body).digest('base64url')}"`;
        ctx.set('ETag', etag);
        ctx.set('Cache-Control', 'private, no-cache');
        if (noneMatch(ctx.get('if-none-match') || undefined, etag)) {
          ctx.status = 304;
          return;
        }
        ctx.type = 'application/json';
        ctx.body = body;
      },
    }),

    route({
      method: 'post',
      path: ['/content/upload', '/api/content/upload'],
      summary: 'Upload a file with its metadata (streamed to the object store)',
      tags: ['content'],
      access: ['instructor', 'admin'],
      body: {
        stream: 'multipart/form-data',
        description:
          'Text fields `title`, `type` (video|document|interactive|assessment), optional `course_id` and `metadata` ' +
          '(a JSON object: duration_minutes, difficulty_level, tags, prerequisites, learning_objectives, description), and ' +
          'exactly one file part named `file`, in any order (fields sent before the file are checked before it is stored). The media type is sniffed from the ' +
          `file's first bytes and must be allowed for the type (415 otherwise); files over UPLOAD_MAX_BYTES get 413.`,
      },
      responses: { 201: { description: 'The stored content', schema: contentSchema } },
      async handler({ ctx, principal }) {
        await app.rateLimit([app.rateRules.upload, principal!.userId]);
        if (!ctx.is('multipart/form-data')) throw problem.unsupportedMediaType('Expected multipart/form-data');
        const declared = Number(ctx.get('content-length') || NaN);
        if (declared > maxBytes + FORM_OVERHEAD_BYTES) {
          ctx.set('Connection', 'close');
          throw problem.tooLarge(`The upload exceeds the limit of ${maxBytes} bytes`);
        }
        const contentId = randomUUID();
        let received;
        try {
          received = await receiveUpload<UploadFields>({
            req: ctx.req,
            maxBytes,
            store,
            logger: ctx.state.log ?? app.logger,
            fieldNames: UPLOAD_FIELDS,
            async validate(raw, complete) {
              // Before the form has ended a missing field may still come: only what is present is judged.
              const result = (complete ? uploadFieldsSchema : uploadFieldsSchema.partial()).safeParse(raw);
              if (!result.success) throw problem.unprocessable('The upload form is invalid', zodErrors('body', result.error));
              const metadata = parseMetadataField(result.data.metadata);
              await checkReferences(result.data.course_id, metadata.prerequisites, 'body.metadata.prerequisites');
              const { title, type } = result.data;
              if (title === undefined || type === undefined) return undefined;
              return { title, type, courseId: result.data.course_id ?? null, metadata };
            },
            keyFor: (f, media, filename) => objectKey({ type: f.type, media, courseId: f.courseId, contentId, filename }),
            stagingKey: stagingKey(contentId),
          });
        } catch (err) {
          if (err instanceof ProblemError && err.status !== 422) ctx.set('Connection', 'close');
          throw err;
        }
        const { fields, file } = received;
        let row;
        try {
          row = await repo.insert({
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
            createdBy: principal!.userId,
          });
        } catch (err) {
          await removeQuietly(store, file.key, app.logger);
          if (isForeignKeyViolation(err)) throw problem.unprocessable('The course or a prerequisite was deleted during the upload');
          throw err;
        }
        ctx.set('Location', `/api/content/${row.id}`);
        await respond(ctx, toDoc(row), 201);
      },
    }),

    route({
      method: 'post',
      path: '/api/content/uploads',
      summary: 'Start a presigned upload for a large file: PUT it to upload_url, then POST /api/content/{content_id}/complete',
      tags: ['content'],
      access: ['instructor', 'admin'],
      body: presignBody,
      responses: {
        201: {
          description: 'A pending item and where to PUT the file',
          schema: z.object({
            content_id: z.uuid(),
            upload_url: z.string(),
            method: z.literal('PUT'),
            expires_at: z.string(),
            object_key: z.string(),
          }),
        },
      },
      async handler({ ctx, body, principal }) {
        await app.rateLimit([app.rateRules.upload, principal!.userId]);
        if (!isAllowed(body.type, body.content_type)) {
          throw problem.unprocessable('The content type is not allowed for this type of content', [
            { location: 'body.content_type', message: `allowed for ${body.type}: ${ALLOWED_MEDIA[body.type].join(', ')}` },
          ]);
        }
        if (body.size !== undefined && body.size > maxBytes)
          throw problem.tooLarge(`The file exceeds the upload limit of ${maxBytes} bytes`);
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
            createdBy: principal!.userId,
          });
        } catch (err) {
          if (isForeignKeyViolation(err)) throw problem.unprocessable('The course or a prerequisite was just deleted');
          throw err;
        }
        ctx.status = 201;
        ctx.set('Location', `/api/content/${id}`);
        ctx.body = {
          content_id: id,
          upload_url: uploadUrl,
          method: 'PUT',
          expires_at: new Date(Date.now() + ttl * 1000).toISOString(),
          object_key: key,
        };
      },
    }),

    route({
      method: 'post',
      path: '/api/content/{content_id}/complete',
      summary: 'Finish a presigned upload: verifies, hashes and sniffs the stored object, then publishes the item',
      tags: ['content'],
      access: ['instructor', 'admin'],
      params: contentIdParams,
      responses: { 200: { description: 'The published content', schema: contentSchema } },
      async handler({ ctx, params, principal }) {
        const row = await repo.find(params.content_id, { includePending: true });
        if (!row) throw problem.notFound('No such content');
        if (row.status !== 'pending') throw problem.conflict('This upload is already complete');
        if (row.created_by !== principal!.userId && !principal!.roles.includes('admin')) {
          throw problem.forbidden('Only the uploader or an admin may complete this upload');
        }
        const key = row.file_path!;
        const info = await store.stat(key);
        if (!info) throw problem.conflict('Nothing was uploaded yet: PUT the file to upload_url first');

        const discard = async (failure: ProblemError): Promise<never> => {
          await store.remove(key);
          await repo.remove(row.id);
          throw failure;
        };
        if (info.size > maxBytes) await discard(problem.tooLarge(`The file exceeds the upload limit of ${maxBytes} bytes`));
        if (row.size_bytes !== null && Number(row.size_bytes) !== info.size) {
          await discard(problem.unprocessable(`The uploaded file has ${info.size} bytes, not the declared ${row.size_bytes}`));
        }

        let verified: { sha256: string; size: number };
        try {
          verified = await verifyObject(key, row.content_type, row.mime_type!);
        } catch (err) {
          if (err instanceof ProblemError) await discard(err);
          throw err;
        }
        const after = await store.stat(key);
        if (!after || after.etag !== info.etag || verified.size !== info.size) {
          throw problem.conflict('The object changed while it was being verified; complete the upload again');
        }
        const published = await repo.publish(row.id, { sizeBytes: verified.size, sha256: verified.sha256, mimeType: row.mime_type! });
        if (!published) throw problem.conflict('This upload is already complete');
        await cache.invalidate(row.id);
        await respond(ctx, toDoc(published));
      },
    }),

    route({
      method: 'post',
      path: '/api/content/metadata',
      summary: 'Update content metadata; send If-Match with the ETag from GET to avoid lost updates (412 when stale)',
      tags: ['content'],
      access: ['instructor', 'admin'],
      headers: ['If-Match'],
      body: metadataBody,
      responses: { 200: { description: 'The updated content (new ETag in the header)', schema: contentSchema } },
      async handler({ ctx, body }) {
        const versions = parseIfMatch(ctx.get('if-match') || undefined);
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
            if (!current) throw problem.notFound('No such content');
            await checkReferences(changes.courseId, changes.prerequisites, 'body.prerequisites', tx);
            const row = await repo.update(id, changes, versions, tx);
            if (!row) throw problem.preconditionFailed(`The content changed since you read it; its current ETag is ${toDoc(current).etag}`);
            if (changes.prerequisites) {
              const cyclic = await itemsOnCycles(tx, [id]);
              if (cyclic.length) {
                throw problem.unprocessable('The prerequisites would form a cycle', [
                  { location: 'body.prerequisites', message: `${id} would (indirectly) require itself` },
                ]);
              }
            }
            return row;
          });
        } catch (err) {
          if (isForeignKeyViolation(err)) throw problem.unprocessable('The course was deleted during the update');
          throw err;
        }
        await cache.invalidate(id);
        await respond(ctx, toDoc(updated));
      },
    }),

    route({
      method: 'get',
      path: '/api/content/{content_id}',
      summary: 'One published content item, with a short-lived presigned content_url; ETag for If-Match on updates',
      tags: ['content'],
      access: 'authenticated',
      params: contentIdParams,
      responses: { 200: { description: 'The content', schema: contentSchema } },
      async handler({ ctx, params }) {
        const { doc, hit } = await cache.read(params.content_id, async () => {
          const row = await repo.find(params.content_id);
          return row ? toDoc(row) : undefined;
        });
        if (!doc) throw problem.notFound('No such content');
        ctx.set('X-Cache', hit ? 'hit' : 'miss');
        await respond(ctx, doc);
      },
    }),

    route({
      method: 'delete',
      path: '/api/content/{content_id}',
      summary: 'Delete a content item: its object and its row (admin only)',
      tags: ['content'],
      access: ['admin'],
      params: contentIdParams,
      responses: { 204: { description: 'Deleted' } },
      async handler({ ctx, params }) {
        const changed = await db.transaction(async (tx) => {
          const row = await repo.find(params.content_id, { includePending: true, forUpdate: true }, tx);
          if (!row) throw problem.notFound('No such content');
          const dependants = await repo.dropPrerequisite(row.id, tx);
          await repo.remove(row.id, tx);
          // Last, so a failure (503 when the store is down) rolls the row back: nothing is half-deleted.
          if (row.file_path) await store.remove(row.file_path);
          if (row.thumbnail_path) await store.remove(row.thumbnail_path);
          return dependants;
        });
        await cache.invalidate(params.content_id, ...changed);
        ctx.status = 204;
      },
    }),
  ];
}
