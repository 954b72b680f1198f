/**
 * Receives one model artifact from a multipart form, streaming it to the object store while hashing
 * (SHA-256) and counting it. The artifact is also kept in memory, because the version is validated
 * by LOADING it with the inference engine (a model is one JSON document: it cannot be checked in
 * pieces), so memory per upload is bounded by MODEL_ARTIFACT_MAX_BYTES.
 *
 * Form: optional text fields first (`description`, `metrics`, `training_stats`), then exactly one
 * file part named `file`. On any failure (client abort, size limit, a bad form, a store error)
 * whatever reached the store is removed before the promise rejects.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Transform } from 'node:stream';
import busboy from 'busboy';
import type { ObjectStore } from '../../kit/deps/object-store.ts';
import { problem } from '../../kit/http/problem.ts';
import type { Logger } from '../../kit/observability/logger.ts';

export interface ReceivedArtifact {
  fields: Record<string, string>;
  bytes: Buffer;
  sha256: string;
  size: number;
}

const MAX_FIELD_BYTES = 256 * 1024;

export async function removeQuietly(store: ObjectStore, key: string, logger: Logger): Promise<void> {
  try {
    await store.remove(key);
  } catch (err) {
    logger.warn({ err, key }, 'could not remove an artifact after a failed upload');
  }
}

export async function receiveArtifact(opts: {
  req: IncomingMessage;
  maxBytes: number;
  store: ObjectStore;
  logger: Logger;
  key: string;
  fieldNames: readonly string[];
}): Promise<ReceivedArtifact> {
  const { req, store, logger, key } = opts;
  const fields: Record<string, string> = {};
  let failure: unknown;
  let fileSeen = false;
  let storing: Promise<{ sha256: string; size: number; bytes: Buffer } | undefined> | undefined;
  let stopFeeding: (() => void) | undefined;

  let bb: busboy.Busboy;
  try {
    bb = busboy({
      headers: req.headers,
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

  let parsed!: () => void;
  let failed!: (err: unknown) => void;
  const parsing = new Promise<void>((resolve, reject) => {
    parsed = resolve;
    failed = reject;
  });
  parsing.catch(() => undefined);

  const abort = (err: unknown) => {
    if (failure !== undefined) return;
    failure = err;
    stopFeeding?.();
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

  bb.on('file', (name, file) => {
    file.on('error', () => undefined);
    if (name !== 'file' || fileSeen) {
      file.resume();
      return abort(refuse(`body.${name}`, 'the file part must be named "file"'));
    }
    fileSeen = true;
    file.on('limit', () => abort(problem.tooLarge(`The artifact exceeds the limit of ${opts.maxBytes} bytes`)));
    const hash = createHash('sha256');
    const chunks: Buffer[] = [];
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        chunks.push(chunk);
        size += chunk.length;
        cb(null, chunk);
      },
    });
    stopFeeding = () => {
      file.unpipe(meter);
      file.resume();
      if (!meter.writableEnded) meter.end();
    };
    file.pipe(meter);
    // `size` is an upper bound, used by the minio client to choose its part size.
    storing = store
      .put(key, meter, { contentType: 'application/json', size: opts.maxBytes })
      .then(() => (failure === undefined ? { sha256: hash.digest('hex'), size, bytes: Buffer.concat(chunks, size) } : undefined))
      .catch((err: unknown) => {
        abort(err);
        return undefined;
      });
  });

  req.pipe(bb);
  try {
    await parsing;
  } catch {
    // reported below, once the store has settled
  }
  const stored = storing ? await storing : undefined;
  if (failure !== undefined || !stored) {
    if (storing) await removeQuietly(store, key, logger);
    if (failure !== undefined) throw failure;
    throw refuse('body.file', 'a file part named "file" is required (after the text fields)');
  }
  return { fields, ...stored };
}
