/**
 * Receives one model artifact from a multipart form (the kit's single-file protocol), streaming it
 * to the object store while hashing (SHA-256) and counting it. The artifact is also kept in memory,
 * because the version is validated by LOADING it with the inference engine (a model is one JSON
 * document: it cannot be checked in pieces), so memory per upload is bounded by
 * MODEL_ARTIFACT_MAX_BYTES. The key does not depend on the text fields, so they may come before or
 * after the file: the caller judges them all once the form has ended (and removes the object if they
 * fail). On any failure of the form itself whatever reached the store is removed before the promise
 * rejects.
 */
import type { IncomingMessage } from 'node:http';
import type { ObjectStore } from '../../kit/deps/object-store.ts';
import { meter, missingFilePart, receiveSingleFile, removeQuietly } from '../../kit/http/multipart.ts';
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
      const m = meter({ keepBytes: true });
      upload.feed(file, m.stream);
      // `size` is an upper bound, used by the minio client to choose its part size.
      await store.put(key, m.stream, { contentType: 'application/json', size: opts.maxBytes });
      return { sha256: m.digest(), size: m.size(), bytes: m.bytes() };
    },
  });
  if (!received.file) throw missingFilePart();
  return { fields: received.fields, ...received.file };
}
