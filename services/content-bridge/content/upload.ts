/**
 * Streams one multipart upload into the object store without ever holding the whole file.
 *
 * The text fields and the file part may come in any order. When the fields that came before the file
 * already decide the upload, they are validated (including database look-ups) while the file part
 * waits, so a bad request stores nothing, and the file streams straight to its key. Otherwise it
 * streams to a staging key; once the form has ended the fields are validated and the object is moved
 * to the key they choose (server-side, no bytes through this process). The first bytes are sniffed
 * before the object store sees any data (the media type must be on the content type's allow list,
 * checked again once the type is known), and a Transform hashes (SHA-256) and counts the bytes on
 * their way through. On any failure (client abort, size limit, bad fields before or after the file,
 * store error) feeding stops, whatever reached the store (staging or final key) is removed, and the
 * promise rejects only after that cleanup, so a response never races the removal.
 */
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { ObjectStore } from '../../kit/deps/object-store.ts';
import { meter, missingFilePart, receiveSingleFile, removeQuietly } from '../../kit/http/multipart.ts';
import { problem, ProblemError } from '../../kit/http/problem.ts';
import type { Logger } from '../../kit/observability/logger.ts';
import { ALLOWED_MEDIA, CONTENT_TYPES, isAllowed, sniff, SNIFF_BYTES, type ContentType, type MediaType } from './sniff.ts';

export interface StoredFile {
  key: string;
  media: MediaType;
  size: number;
  sha256: string;
  etag: string;
}

export interface ReceiveOptions<T extends { type: ContentType }> {
  req: IncomingMessage;
  maxBytes: number;
  store: ObjectStore;
  logger: Logger;
  /** Names of the text fields the form may carry; others are refused. */
  fieldNames: readonly string[];
  /**
   * Validates the text fields (throw a ProblemError to refuse). With `complete` false the form is still
   * arriving: refuse what is present and wrong, and return undefined while a required field is missing.
   * With `complete` true it must return the fields or throw.
   */
  validate: (fields: Record<string, string>, complete: boolean) => Promise<T | undefined>;
  keyFor: (fields: T, media: MediaType, filename: string | undefined) => string;
  /** Where the file waits while the fields that choose its key have not arrived (one per upload). */
  stagingKey: string;
}

const MAX_FIELD_BYTES = 64 * 1024;

/** Reads until `n` bytes (or the end) arrived, then pauses the stream. */
export function readHead(stream: Readable, n: number): Promise<{ head: Buffer; ended: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const cleanup = () => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= n) {
        stream.pause();
        cleanup();
        resolve({ head: Buffer.concat(chunks), ended: false });
      }
    };
    const onEnd = () => {
      cleanup();
      resolve({ head: Buffer.concat(chunks), ended: true });
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
  });
}

/** The sniffed media type of a file's first bytes, or a problem when it is not allowed for `type`. */
export function checkMedia(type: ContentType, head: Buffer, complete: boolean): MediaType | ProblemError {
  const media = sniffHead(head, complete);
  if (isAllowed(type, media)) return media;
  return problem.unsupportedMediaType(`${whatItIs(media)} not allowed for ${type} content; allowed: ${ALLOWED_MEDIA[type].join(', ')}`);
}

/** The sniffed media type when some content type allows it (the fields that pick one are still to come), or a 415. */
export function checkAnyMedia(head: Buffer, complete: boolean): MediaType | ProblemError {
  const media = sniffHead(head, complete);
  if (CONTENT_TYPES.some((type) => isAllowed(type, media))) return media as MediaType;
  const allowed = [...new Set(Object.values(ALLOWED_MEDIA).flat())];
  return problem.unsupportedMediaType(`${whatItIs(media)} not allowed for any content type; allowed: ${allowed.join(', ')}`);
}

const sniffHead = (head: Buffer, complete: boolean) => sniff(head.subarray(0, SNIFF_BYTES), complete && head.length <= SNIFF_BYTES);
const whatItIs = (media: string | undefined) =>
  media ? `The file is ${media}, which is` : 'The file is of an unrecognised type, which is';

/** What `receive` stored, before the form ended. */
interface StagedFile<T> extends StoredFile {
  filename: string | undefined;
  /** The first bytes, kept to check the media type against the content type once it is known. */
  head: Buffer;
  complete: boolean;
  /** The fields that came before the file, validated; undefined when the file went to the staging key. */
  validatedBefore: T | undefined;
}

export async function receiveUpload<T extends { type: ContentType }>(opts: ReceiveOptions<T>): Promise<{ fields: T; file: StoredFile }> {
  const { store } = opts;
  /** Every key that may hold the upload's bytes: what a failure removes. */
  const storedKeys = new Set<string>();
  const discard = async () => {
    for (const key of storedKeys) await removeQuietly(store, key, opts.logger);
  };
  let fieldsBefore: Record<string, string> = {};

  const received = await receiveSingleFile<StagedFile<T> | undefined>({
    req: opts.req,
    fieldNames: opts.fieldNames,
    maxFieldBytes: MAX_FIELD_BYTES,
    maxFileBytes: opts.maxBytes,
    tooLargeDetail: `The file exceeds the upload limit of ${opts.maxBytes} bytes`,
    discard,
    async receive(file, filename, before, upload) {
      fieldsBefore = before;
      // Fields that came first and are wrong refuse the upload before any byte is stored.
      const validatedBefore = await opts.validate(before, false);
      if (upload.failed) return undefined;
      const { head, ended } = await readHead(file, SNIFF_BYTES);
      if (upload.failed) return undefined;
      let media: MediaType;
      let key: string;
      if (validatedBefore) {
        const checked = checkMedia(validatedBefore.type, head, ended);
        if (checked instanceof ProblemError) throw checked;
        media = checked;
        key = opts.keyFor(validatedBefore, media, filename);
      } else {
        // The fields that choose the key are still to come: the file waits under the staging key.
        const checked = checkAnyMedia(head, ended);
        if (checked instanceof ProblemError) throw checked;
        media = checked;
        key = opts.stagingKey;
      }
      storedKeys.add(key);
      const m = meter();
      m.stream.write(head);
      if (ended) m.stream.end();
      else upload.feed(file, m.stream);
      // `size` is an upper bound here: the minio client uses it only to choose its part size, which
      // bounds the memory one upload holds (without it the client assumes 5 TiB and ~550 MiB parts).
      const result = await store.put(key, m.stream, { contentType: media, size: opts.maxBytes });
      return { key, media, size: m.size(), sha256: m.digest(), etag: result.etag, filename, head, complete: ended, validatedBefore };
    },
  });

  const staged = received.file;
  if (!staged) {
    await opts.validate(received.fields, true); // report bad fields first
    throw missingFilePart();
  }
  try {
    return await settle(staged, received.fields);
  } catch (err) {
    await discard();
    throw err;
  }

  /** Judges the whole form and puts the object under the key its fields choose. */
  async function settle(staged: StagedFile<T>, fields: Record<string, string>): Promise<{ fields: T; file: StoredFile }> {
    const { head, complete, filename, validatedBefore, ...file } = staged;
    const nothingAfterFile = Object.keys(fields).length === Object.keys(fieldsBefore).length;
    if (validatedBefore && nothingAfterFile) return { fields: validatedBefore, file };
    const validated = await opts.validate(fields, true);
    if (!validated) throw new Error('validate() must decide a complete form');
    const media = checkMedia(validated.type, head, complete);
    if (media instanceof ProblemError) throw media;
    const key = opts.keyFor(validated, media, filename);
    if (key === file.key) return { fields: validated, file };
    storedKeys.add(key);
    const moved = await store.move(file.key, key);
    storedKeys.delete(file.key);
    return { fields: validated, file: { ...file, key, etag: moved.etag } };
  }
}
