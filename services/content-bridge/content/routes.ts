/**
 * Content: files in the object store, metadata in PostgreSQL. The flows live in service.ts.
 *
 * - Uploads stream through the bridge (`POST /api/content/upload`, multipart: the text fields and the
 *   file in any order) or go straight to the object store with a presigned PUT (`POST /api/content/uploads`,
 *   then `POST /api/content/{id}/complete`). Either way a row is `published` only once its object is
 *   stored, hashed and sniffed; pending rows are invisible to every read.
 * - Reads are cached in Redis (see cache.ts) and fall back to PostgreSQL when Redis is down.
 * - Metadata updates use optimistic concurrency: `ETag: "v<version>"`, `If-Match` → 412 when stale.
 *   Without If-Match an update is accepted (last writer wins), so clients that know nothing about
 *   ETags keep working; clients that care send If-Match.
 */
import type { Context } from 'koa';
import { z } from 'zod';
import { DomainError } from '../../kit/domain-error.ts';
import { noneMatch, parseIfMatch } from '../../kit/http/conditional.ts';
import { toProblem } from '../../kit/http/errors.ts';
import { problem, ProblemError } from '../../kit/http/problem.ts';
import { replyJson } from '../../kit/http/reply.ts';
import { route, type RouteSpec } from '../../kit/http/routes.ts';
import type { AppContext } from '../context.ts';
import {
  contentIdParams,
  contentSchema,
  manifestItem,
  metadataBody,
  presignBody,
  presignedUploadSchema,
  searchQuery,
  type ContentDoc,
} from './model.ts';
import { contentService } from './service.ts';

/** Room for the multipart framing and text fields on top of the file itself. */
const FORM_OVERHEAD_BYTES = 1024 * 1024;

export function contentRoutes(app: AppContext): RouteSpec[] {
  const service = contentService(app);
  const maxBytes = app.config.UPLOAD_MAX_BYTES;

  /** One content item, with its ETag for If-Match; `headers` adds to those (name, value, …). */
  async function respond(ctx: Context, doc: ContentDoc, status = 200, headers: readonly string[] = []) {
    replyJson(ctx, await service.presentJson(doc), {
      status,
      headers: ['ETag', doc.etag, 'Cache-Control', 'private, no-cache', ...headers],
    });
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
        const page = await service.search(query);
        ctx.set('Cache-Control', 'private, no-cache');
        ctx.body = page;
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
        const { body, etag } = await service.manifest();
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
        let doc;
        try {
          doc = await service.upload({ req: ctx.req, logger: ctx.state.log ?? app.logger, userId: principal!.userId });
        } catch (err) {
          // The request body may be unread: only a refused form (422) leaves the connection usable.
          if ((err instanceof ProblemError || err instanceof DomainError) && toProblem(err).status !== 422) ctx.set('Connection', 'close');
          throw err;
        }
        ctx.set('Location', `/api/content/${doc.content_id}`);
        await respond(ctx, doc, 201);
      },
    }),

    route({
      method: 'post',
      path: '/api/content/uploads',
      summary: 'Start a presigned upload for a large file: PUT it to upload_url, then POST /api/content/{content_id}/complete',
      tags: ['content'],
      access: ['instructor', 'admin'],
      body: presignBody,
      responses: { 201: { description: 'A pending item and where to PUT the file', schema: presignedUploadSchema } },
      async handler({ ctx, body, principal }) {
        await app.rateLimit([app.rateRules.upload, principal!.userId]);
        const upload = await service.presign(body, principal!.userId);
        ctx.status = 201;
        ctx.set('Location', `/api/content/${upload.content_id}`);
        ctx.body = upload;
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
        const caller = { userId: principal!.userId, isAdmin: principal!.roles.includes('admin') };
        await respond(ctx, await service.complete(params.content_id, caller));
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
        await respond(ctx, await service.updateMetadata(body, versions));
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
        const { doc, hit } = await service.read(params.content_id);
        await respond(ctx, doc, 200, ['X-Cache', hit ? 'hit' : 'miss']);
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
        await service.remove(params.content_id);
        ctx.status = 204;
      },
    }),
  ];
}
