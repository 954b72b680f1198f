/**
 * Receives one model artifact from a multipart form (the kit's single-file protocol), streaming it
 * to the object store while hashing (SHA-256) and counting it. The artifact is also kept in memory,
 * because the version is validated by LOADING it with the inference engine (a model is one JSON
 * document: it cannot be checked in pieces), so memory per upload is bounded by
 * MODEL_ARTIFACT_MAX_BYTES. On any failure whatever reached the store is removed before the promise
 * rejects.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Transform } from 'node:stream';
import type { ObjectStore } from '../../kit/deps/object-store.ts';
import { missingFilePart, receiveSingleFile, removeQuietly } from '../../kit/http/multipart.ts';
import type { Logger } from '../../kit/observability/logger.ts';

export interface ReceivedArtifact {
  fields: Record<string, string>;
  bytes: Buffer;
  sha256: string;
  size: number;
}

const MAX_FIELD_BYTES = 256 * 1024;

export async function receiveArtifact(opts: {
  req: IncomingMessage;
  maxBytes: number;
  store: ObjectStore;
  logger: Logger;
  key: string;
  fieldNames: readonly string[];
}): Promise<ReceivedArtifact> {
  const { store, key } = opts;
  const received = await receiveSingleFile({
    req: opts.req,
    fieldNames: opts.fieldNames,
    maxFieldBytes: MAX_FIELD_BYTES,
    maxFileBytes: opts.maxBytes,
    tooLargeDetail: `The artifact exceeds the limit of ${opts.maxBytes} bytes`,
    discard: () => removeQuietly(store, key, opts.logger),
    async receive(file, _filename, _fields, upload) {
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
      upload.onAbort(() => {
        file.unpipe(meter);
        file.resume();
        if (!meter.writableEnded) meter.end();
      });
      file.pipe(meter);
      // `size` is an upper bound, used by the minio client to choose its part size.
      await store.put(key, meter, { contentType: 'application/json', size: opts.maxBytes });
      return { sha256: hash.digest('hex'), size, bytes: Buffer.concat(chunks, size) };
    },
  });
  if (!received.file) throw missingFilePart();
  return { fields: received.fields, ...received.file };
}
