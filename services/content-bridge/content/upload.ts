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
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Transform, type Readable } from 'node:stream';
import busboy from 'busboy';
import type { ObjectStore } from '../../kit/deps/object-store.ts';
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

/** A pass-through that hashes and counts what flows through it. */
export function meter() {
  const hash = createHash('sha256');
  let size = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  });
  return { stream, digest: () => hash.digest('hex'), size: () => size };
}

export async function removeQuietly(store: ObjectStore, key: string, logger: Logger): Promise<void> {
  try {
    await store.remove(key);
  } catch (err) {
    logger.warn({ err, key }, 'could not remove an object after a failed upload');
  }
}

export async function receiveUpload<T extends { type: ContentType }>(opts: ReceiveOptions<T>): Promise<{ fields: T; file: StoredFile }> {
  const { req, store, logger } = opts;
  const fields: Record<string, string> = {};
  let failure: unknown;
  let fileSeen = false;
  let validated: T | undefined;
  let key: string | undefined;
  let stopFeeding: (() => void) | undefined;
  let storing: Promise<StoredFile | undefined> | undefined;

  let parsed!: () => void;
  let failed!: (err: unknown) => void;
  const parsing = new Promise<void>((resolve, reject) => {
    parsed = resolve;
    failed = reject;
  });
  parsing.catch(() => undefined); // observed below; never an unhandled rejection

  let bb: busboy.Busboy;
  try {
    bb = busboy({
      headers: req.headers,
      defParamCharset: 'utf8', // browsers and fetch send file names as raw UTF-8
      // fileSize: one byte over the limit, because busboy reports a file of exactly `fileSize` bytes as
      // truncated. parts: busboy signals when the count is *reached*, so allow one more than the form has.
      limits: {
        fileSize: opts.maxBytes + 1,
        files: 1,
        fields: opts.fieldNames.length,
        fieldSize: MAX_FIELD_BYTES,
        parts: opts.fieldNames.length + 2,
      },
    });
  } catch (err) {
    throw problem.badRequest(`Malformed multipart request: ${(err as Error).message}`);
  }

  const abort = (err: unknown) => {
    if (failure !== undefined) return;
    failure = err;
    stopFeeding?.();
    // Stop parsing and discard the rest of the body, so the response can be sent.
    req.unpipe(bb);
    req.resume();
    bb.destroy();
    failed(err);
  };
  const refuse = (location: string, message: string) => problem.unprocessable('The upload form is invalid', [{ location, message }]);

  req.on('error', () => abort(problem.badRequest('The client closed the connection before the upload finished')));
  req.on('close', () => {
    if (!req.complete) abort(problem.badRequest('The client closed the connection before the upload finished'));
  });
  bb.on('error', (err: Error) => abort(problem.badRequest(`Malformed multipart request: ${err.message}`)));
  bb.on('partsLimit', () => abort(refuse('body', `at most ${opts.fieldNames.length} fields and one file`)));
  bb.on('fieldsLimit', () => abort(refuse('body', `at most ${opts.fieldNames.length} text fields`)));
  bb.on('filesLimit', () => abort(refuse('body.file', 'exactly one file is allowed')));
  bb.on('close', () => parsed());

  bb.on('field', (name, value, info) => {
    if (fileSeen) return abort(refuse(`body.${name}`, 'text fields must come before the file part'));
    if (!opts.fieldNames.includes(name))
      return abort(refuse(`body.${name}`, `unknown field; allowed: ${opts.fieldNames.join(', ')}, file`));
    if (name in fields) return abort(refuse(`body.${name}`, 'the field appears twice'));
    if (info.valueTruncated) return abort(refuse(`body.${name}`, `longer than ${MAX_FIELD_BYTES} bytes`));
    fields[name] = value;
  });

  bb.on('file', (name, file, info) => {
    file.on('error', () => undefined); // failures are reported through abort()
    if (name !== 'file' || fileSeen) {
      file.resume();
      return abort(refuse(`body.${name}`, 'the file part must be named "file"'));
    }
    fileSeen = true;
    file.on('limit', () => abort(problem.tooLarge(`The file exceeds the upload limit of ${opts.maxBytes} bytes`)));
    storing = storeFile(file, info.filename).catch((err: unknown) => {
      abort(err);
      return undefined;
    });
  });

  async function storeFile(file: Readable, filename: string | undefined): Promise<StoredFile | undefined> {
    const fieldsOk = await opts.validate({ ...fields });
    if (failure !== undefined) return undefined;
    validated = fieldsOk;
    const { head, ended } = await readHead(file, SNIFF_BYTES);
    if (failure !== undefined) return undefined;
    const media = checkMedia(fieldsOk.type, head, ended);
    if (media instanceof ProblemError) throw media;
    key = opts.keyFor(fieldsOk, media, filename);
    const m = meter();
    stopFeeding = () => {
      file.unpipe(m.stream);
      file.resume();
      if (!m.stream.writableEnded) m.stream.end();
    };
    m.stream.write(head);
    if (ended) m.stream.end();
    else file.pipe(m.stream);
    // `size` is an upper bound here: the minio client uses it only to choose its part size, which
    // bounds the memory one upload holds (without it the client assumes 5 TiB and ~550 MiB parts).
    const result = await store.put(key, m.stream, { contentType: media, size: opts.maxBytes });
    if (failure !== undefined) return undefined;
    return { key, media, size: m.size(), sha256: m.digest(), etag: result.etag };
  }

  req.pipe(bb);
  try {
    await parsing;
  } catch {
    // handled below, once the store has settled
  }
  const stored = storing ? await storing : undefined;
  if (failure !== undefined) {
    if (key) await removeQuietly(store, key, logger);
    throw failure;
  }
  if (!stored || !validated) {
    if (!fileSeen) await opts.validate({ ...fields }); // report bad fields first
    throw refuse('body.file', 'a file part is required (after the text fields)');
  }
  return { fields: validated, file: stored };
}
