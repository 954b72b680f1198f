/**
 * How a content item gets its file: a multipart upload streamed to the object store (published at
 * once), or a presigned PUT and then `complete`, which verifies, hashes and sniffs the object before
 * publishing. A failed step leaves no half state: the object is removed, or the pending row and its
 * object are discarded.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { ObjectStore } from '../../kit/deps/object-store.ts';
import { domain, DomainError } from '../../kit/domain-error.ts';
import { fieldErrors } from '../../kit/http/field-errors.ts';
import { removeQuietly } from '../../kit/http/multipart.ts';
import { ProblemError } from '../../kit/http/problem.ts';
import type { Logger } from '../../kit/observability/logger.ts';
import type { AppContext } from '../context.ts';
import type { ContentCache } from './cache.ts';
import {
  metadataInputSchema,
  storedMetadata,
  toDoc,
  UPLOAD_FIELDS,
  uploadFieldsSchema,
  type ContentDoc,
  type MetadataInput,
  type PresignedUpload,
  type PresignInput,
  type UploadFields,
} from './model.ts';
import { checkReferences, isForeignKeyViolation } from './references.ts';
import type { ContentRepository } from './repository.ts';
import { ALLOWED_MEDIA, isAllowed, SNIFF_BYTES, type ContentType } from './sniff.ts';
import { objectKey, stagingKey } from './storage.ts';
import { checkMedia, readHead, receiveUpload } from './upload.ts';

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
async function verifyObject(
  store: ObjectStore,
  key: string,
  type: ContentType,
  declared: string,
): Promise<{ sha256: string; size: number }> {
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

export function publishingFlows(app: AppContext, repo: ContentRepository, cache: ContentCache) {
  const { db, store } = app.deps;
  const ttl = app.config.PRESIGN_TTL_SECONDS;
  const maxBytes = app.config.UPLOAD_MAX_BYTES;

  return {
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
          await checkReferences(db, result.data.course_id, metadata.prerequisites, 'body.metadata.prerequisites');
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
      await checkReferences(db, body.course_id, metadata.prerequisites, 'body.metadata.prerequisites');
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
        verified = await verifyObject(store, key, row.content_type, row.mime_type!);
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
  };
}
