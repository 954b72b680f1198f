/**
 * One multipart form: text fields and exactly one file part named `file`, in any order (busboy).
 * Clients send the file first as often as last (`curl -F file=@x -F title=…`, FormData in append
 * order), so the file is handed to the caller's `receive` as it arrives, with the fields seen so far;
 * the fields that follow it are collected too, and the caller judges the whole form once it ended.
 * Both APIs' uploads share this protocol and its refusals; what happens to the file's bytes is the
 * caller's `receive`.
 *
 * On any failure (client abort, a limit, a bad form, `receive` throwing) the rest of the body is
 * drained, the caller's stop hook ends its pipeline, `discard` runs once `receive` has settled, and
 * only then does the promise reject, so a response never races the removal of a stored object.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Transform, type Readable, type Writable } from 'node:stream';
import busboy from 'busboy';
import type { ObjectStore } from '../deps/object-store.ts';
import type { Logger } from '../observability/logger.ts';
import { problem, type ProblemError } from './problem.ts';
import { isStorableText, UNSTORABLE_TEXT_MESSAGE } from './storable-text.ts';

/** What `receive` sees of the upload while it works. */
export interface UploadState {
  /** True once the upload failed: `receive` should stop and its result is ignored. */
  readonly failed: boolean;
  /** Registers how to stop feeding the caller's pipeline when the upload fails. */
  onAbort(stop: () => void): void;
  /** Pipes the file part into `into`; if the upload fails, the piping stops and `into` is ended. */
  feed(file: Readable, into: Writable): void;
}

export interface SingleFileFormOptions<R> {
  req: IncomingMessage;
  /** Names of the text fields the form may carry; others are refused. */
  fieldNames: readonly string[];
  maxFieldBytes: number;
  maxFileBytes: number;
  /** The 413 detail when the file is larger than `maxFileBytes`. */
  tooLargeDetail: string;
  /**
   * Consumes the file part as it arrives. `fieldsBefore` are the text fields that came before it; more
   * may follow, and the result's `fields` has them all.
   */
  receive(file: Readable, filename: string | undefined, fieldsBefore: Record<string, string>, upload: UploadState): Promise<R>;
  /** Removes whatever `receive` stored, after a failure. */
  discard(): Promise<void>;
}

/** A 422 naming one place in the form. */
export function formProblem(location: string, message: string): ProblemError {
  return problem.unprocessable('The upload form is invalid', [{ location, message }]);
}

/** The 422 for a form without a file part. */
export function missingFilePart(): ProblemError {
  return formProblem('body.file', 'a file part named "file" is required');
}

/** Resolves, once the whole form arrived, with every text field and `receive`'s result (`file: undefined` without a file part). */
export async function receiveSingleFile<R>(
  opts: SingleFileFormOptions<R>,
): Promise<{ fields: Record<string, string>; file: R | undefined }> {
  const { req, fieldNames } = opts;
  const fields: Record<string, string> = {};
  let failure: unknown;
  let receiving: Promise<R | undefined> | undefined;
  let stopFeeding: (() => void) | undefined;

  let bb: busboy.Busboy;
  try {
    bb = busboy({
      headers: req.headers,
      defParamCharset: 'utf8', // browsers and fetch send file names as raw UTF-8
      // fileSize: one byte over the limit, because busboy reports a file of exactly `fileSize` bytes as
      // truncated. parts: busboy signals when the count is *reached*, so allow one more than the form has.
      limits: {
        fileSize: opts.maxFileBytes + 1,
        files: 1,
        fields: fieldNames.length,
        fieldSize: opts.maxFieldBytes,
        parts: fieldNames.length + 2,
      },
    });
  } catch (err) {
    throw problem.badRequest(`Malformed multipart request: ${(err as Error).message}`);
  }

  let parsed!: () => void;
  let failed!: (err: unknown) => void;
  const parsing = new Promise<void>((resolve, reject) => {
    parsed = resolve;
    failed = reject;
  });
  parsing.catch(() => undefined); // observed below; never an unhandled rejection

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
  const upload: UploadState = {
    get failed() {
      return failure !== undefined;
    },
    onAbort: (stop) => void (stopFeeding = stop),
    feed(file, into) {
      stopFeeding = () => {
        file.unpipe(into);
        file.resume();
        if (!into.writableEnded) into.end();
      };
      file.pipe(into);
    },
  };

  const clientGone = () => abort(problem.badRequest('The client closed the connection before the upload finished'));
  req.on('error', clientGone);
  req.on('close', () => {
    if (!req.complete) clientGone();
  });
  bb.on('error', (err: Error) => abort(problem.badRequest(`Malformed multipart request: ${err.message}`)));
  bb.on('partsLimit', () => abort(formProblem('body', `at most ${fieldNames.length} fields and one file`)));
  bb.on('fieldsLimit', () => abort(formProblem('body', `at most ${fieldNames.length} text fields`)));
  bb.on('filesLimit', () => abort(formProblem('body.file', 'exactly one file is allowed')));
  bb.on('close', () => parsed());

  bb.on('field', (name, value, info) => {
    if (!fieldNames.includes(name)) return abort(formProblem(`body.${name}`, `unknown field; allowed: ${fieldNames.join(', ')}, file`));
    if (name in fields) return abort(formProblem(`body.${name}`, 'the field appears twice'));
    if (info.valueTruncated) return abort(formProblem(`body.${name}`, `longer than ${opts.maxFieldBytes} bytes`));
    if (!isStorableText(value)) return abort(formProblem(`body.${name}`, UNSTORABLE_TEXT_MESSAGE));
    fields[name] = value;
  });

  bb.on('file', (name, file, info) => {
    file.on('error', () => undefined); // failures are reported through abort()
    // busboy may still emit parts it had parsed from the same chunk after the form was refused.
    if (failure !== undefined) return void file.resume();
    if (name !== 'file' || receiving) {
      file.resume();
      return abort(formProblem(`body.${name}`, 'the file part must be named "file"'));
    }
    if (!isStorableText(info.filename ?? '')) {
      file.resume();
      return abort(formProblem('body.file', `the file name ${UNSTORABLE_TEXT_MESSAGE}`));
    }
    file.on('limit', () => abort(problem.tooLarge(opts.tooLargeDetail)));
    receiving = opts.receive(file, info.filename, { ...fields }, upload).catch((err: unknown) => {
      abort(err);
      return undefined;
    });
  });

  req.pipe(bb);
  try {
    await parsing;
  } catch {
    // reported below, once `receive` has settled
  }
  const result = receiving ? await receiving : undefined;
  if (failure !== undefined) {
    if (receiving) await opts.discard();
    throw failure;
  }
  return { fields, file: result };
}

/** A pass-through that hashes (SHA-256) and counts what flows through it, and keeps the bytes when asked. */
export function meter(opts: { keepBytes?: boolean } = {}) {
  const hash = createHash('sha256');
  const chunks: Buffer[] = [];
  let size = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      if (opts.keepBytes) chunks.push(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  });
  return { stream, digest: () => hash.digest('hex'), size: () => size, bytes: () => Buffer.concat(chunks, size) };
}

/** Removes an object after a failed upload; a failure to remove is logged, not thrown over the first. */
export async function removeQuietly(store: ObjectStore, key: string, logger: Logger): Promise<void> {
  try {
    await store.remove(key);
  } catch (err) {
    logger.warn({ err, key }, 'could not remove an object after a failed upload');
  }
}
