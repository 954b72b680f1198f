/**
 * Streams one multipart upload into the object store without ever holding the whole file.
 *
 * Protocol: the text fields come first, then exactly one file part named `file`; the fields are
 * validated (including database look-ups) while the file part waits, so a bad request stores
 * nothing. The first bytes are sniffed before the object store sees any data (the media type must be
 * on the content type's allow list), and a Transform hashes (SHA-256) and counts the bytes on their way
 * through. On any failure (client abort, size limit, a field after the file, store error) feeding
 * stops, whatever reached the store is removed, and the promise rejects only after that cleanup, so
 * a response never races the removal.
 */
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { ObjectStore } from '../../kit/deps/object-store.ts';
import { meter, missingFilePart, receiveSingleFile, removeQuietly } from '../../kit/http/multipart.ts';
import { problem, ProblemError } from '../../kit/http/problem.ts';
import type { Logger } from '../../kit/observability/logger.ts';
import { ALLOWED_MEDIA, isAllowed, sniff, SNIFF_BYTES, type ContentType, type MediaType } from './sniff.ts';

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
  /** Validates the text fields (throw a ProblemError to refuse); runs before any byte is stored. */
  validate: (fields: Record<string, string>) => Promise<T>;
  keyFor: (fields: T, media: MediaType, filename: string | undefined) => string;
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
  const window = head.subarray(0, SNIFF_BYTES);
  const media = sniff(window, complete && head.length <= SNIFF_BYTES);
  if (isAllowed(type, media)) return media;
  return problem.unsupportedMediaType(
    `${media ? `The file is ${media}, which is` : 'The file is of an unrecognised type, which is'} not allowed for ${type} content; allowed: ${ALLOWED_MEDIA[type].join(', ')}`,
  );
}

export async function receiveUpload<T extends { type: ContentType }>(opts: ReceiveOptions<T>): Promise<{ fields: T; file: StoredFile }> {
  const { store } = opts;
  let key: string | undefined;
  let validated: T | undefined;

  const received = await receiveSingleFile<StoredFile | undefined>({
    req: opts.req,
    fieldNames: opts.fieldNames,
    maxFieldBytes: MAX_FIELD_BYTES,
    maxFileBytes: opts.maxBytes,
    tooLargeDetail: `The file exceeds the upload limit of ${opts.maxBytes} bytes`,
    discard: async () => {
      if (key) await removeQuietly(store, key, opts.logger);
    },
    async receive(file, filename, fields, upload) {
      const fieldsOk = await opts.validate(fields);
      if (upload.failed) return undefined;
      validated = fieldsOk;
      const { head, ended } = await readHead(file, SNIFF_BYTES);
      if (upload.failed) return undefined;
      const media = checkMedia(fieldsOk.type, head, ended);
      if (media instanceof ProblemError) throw media;
      key = opts.keyFor(fieldsOk, media, filename);
      const m = meter();
      m.stream.write(head);
      if (ended) m.stream.end();
      else upload.feed(file, m.stream);
      // `size` is an upper bound here: the minio client uses it only to choose its part size, which
      // bounds the memory one upload holds (without it the client assumes 5 TiB and ~550 MiB parts).
      const result = await store.put(key, m.stream, { contentType: media, size: opts.maxBytes });
      return { key, media, size: m.size(), sha256: m.digest(), etag: result.etag };
    },
  });
  if (!received.file || !validated) {
    await opts.validate(received.fields); // report bad fields first
    throw missingFilePart();
  }
  return { fields: validated, file: received.file };
}
