/**
 * Object storage behind a small interface: MinIO or any S3-compatible endpoint through the `minio`
 * client (a filesystem driver can stand in). Uploads stream; nothing is buffered whole.
 */
import type { Readable } from 'node:stream';
import * as Minio from 'minio';
import { DependencyUnavailableError, isConnectionError } from './errors.ts';
import { withTimeout } from './database.ts';

export interface ObjectInfo {
  size: number;
  etag: string;
  contentType: string | undefined;
}

export interface ObjectStore {
  readonly driver: string;
  readonly bucket: string;
  put(key: string, body: Readable | Buffer, opts: { contentType: string; size?: number }): Promise<{ size: number; etag: string }>;
  stat(key: string): Promise<ObjectInfo | null>;
  get(key: string): Promise<Readable>;
  remove(key: string): Promise<void>;
  /** Moves an object to another key (replacing what was there) without streaming it through this process. */
  move(fromKey: string, toKey: string): Promise<{ size: number; etag: string }>;
  /** The stored keys under `prefix`, sorted (ListObjectsV2, recursive). */
  list(prefix?: string): Promise<string[]>;
  presignedGetUrl(key: string, ttlSeconds: number): Promise<string>;
  presignedPutUrl(key: string, ttlSeconds: number): Promise<string>;
  ensureBucket(): Promise<void>;
  /** Resolves when the bucket exists; used by readiness. */
  ping(timeoutMs: number): Promise<void>;
}

export interface S3Settings {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  bucket: string;
  region: string;
  /** Endpoint that clients outside the cluster use for presigned URLs (defaults to `endpoint`). */
  publicEndpoint?: string;
  /** Objects larger than this are copied in ranges of this size (S3 copies at most 5 GiB per request); tests lower it. */
  copyPartBytes?: number;
}

/** The largest object S3 copies in one CopyObject request, and the largest part of a multipart copy. */
const MAX_COPY_BYTES = 5 * 1024 ** 3;

const NOT_FOUND = new Set(['NotFound', 'NoSuchKey']);

function client(endpoint: string, s: S3Settings): Minio.Client {
  const url = new URL(endpoint);
  return new Minio.Client({
    endPoint: url.hostname,
    port: url.port ? Number(url.port) : undefined,
    useSSL: url.protocol === 'https:',
    accessKey: s.accessKey,
    secretKey: s.secretKey,
    region: s.region,
    pathStyle: true,
  });
}

/**
 * Signing a URL costs four HMACs and a canonical request (~150 µs): a URL is reused while at least
 * half of its lifetime is left, so a hot item is signed a few times per TTL instead of per request.
 */
export function presignCache(maxEntries = 10_000) {
  // By lifetime, then by object key: the keys come from cached documents, so their hashes are
  // already computed, where a joined "ttl|key" string had to be built and hashed on every call.
  const byTtl = new Map<number, Map<string, { url: string; renewAt: number }>>();
  let size = 0;
  const evictOldest = () => {
    for (const urls of byTtl.values()) {
      const oldest = urls.keys().next();
      if (!oldest.done) {
        urls.delete(oldest.value);
        size--;
        return;
      }
    }
  };
  return {
    async get(key: string, ttlSeconds: number, sign: () => Promise<string>): Promise<string> {
      let urls = byTtl.get(ttlSeconds);
      const hit = urls?.get(key);
      if (hit && hit.renewAt > Date.now()) return hit.url;
      const url = await sign();
      if (!urls) byTtl.set(ttlSeconds, (urls = new Map()));
      if (!urls.has(key)) {
        if (size >= maxEntries) evictOldest();
        size++;
      }
      urls.set(key, { url, renewAt: Date.now() + (ttlSeconds * 1000) / 2 });
      return url;
    },
    forget(key: string) {
      for (const urls of byTtl.values()) if (urls.delete(key)) size--;
    },
  };
}

export function createS3ObjectStore(settings: S3Settings): ObjectStore {
  const presignedGets = presignCache();
  const s3 = client(settings.endpoint, settings);
  const signer = settings.publicEndpoint ? client(settings.publicEndpoint, settings) : s3;
  const { bucket } = settings;
  const copyPartBytes = settings.copyPartBytes ?? MAX_COPY_BYTES;
  /** Server-side copy: one CopyObject, or UploadPartCopy in ranges (minio's composeObject numbers every range as part 1). */
  const copy = async (fromKey: string, toKey: string) => {
    const source = await s3.statObject(bucket, fromKey);
    if (source.size <= copyPartBytes) {
      await s3.copyObject(
        new Minio.CopySourceOptions({ Bucket: bucket, Object: fromKey }),
        new Minio.CopyDestinationOptions({ Bucket: bucket, Object: toKey }),
      );
      return;
    }
    const contentType = (source.metaData?.['content-type'] as string | undefined) ?? 'application/octet-stream';
    const uploadId = await s3.initiateNewMultipartUpload(bucket, toKey, { 'Content-Type': contentType });
    try {
      const parts: { part: number; etag: string }[] = [];
      for (let start = 0, part = 1; start < source.size; start += copyPartBytes, part++) {
        const end = Math.min(start + copyPartBytes, source.size) - 1;
        const { etag } = await s3.uploadPart({
          bucketName: bucket,
          objectName: toKey,
          uploadID: uploadId,
          partNumber: part,
          headers: {
            'x-amz-copy-source': encodeURI(`${bucket}/${fromKey}`),
            'x-amz-copy-source-range': `bytes=${start}-${end}`,
            'x-amz-copy-source-if-match': `"${source.etag}"`, // the source must not change under the copy
          },
        });
        parts.push({ part, etag });
      }
      await s3.completeMultipartUpload(bucket, toKey, uploadId, parts);
    } catch (err) {
      await s3.abortMultipartUpload(bucket, toKey, uploadId).catch(() => undefined);
      throw err;
    }
  };
  const call = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      if (isConnectionError(err)) throw new DependencyUnavailableError('object-store', err);
      throw err;
    }
  };
  return {
    driver: 's3',
    bucket,
    put: (key, body, opts) =>
      call(async () => {
        const res = await s3.putObject(bucket, key, body, opts.size, { 'Content-Type': opts.contentType });
        const info = await s3.statObject(bucket, key);
        return { size: info.size, etag: res.etag };
      }),
    stat: (key) =>
      call(async () => {
        try {
          const info = await s3.statObject(bucket, key);
          return { size: info.size, etag: info.etag, contentType: info.metaData?.['content-type'] as string | undefined };
        } catch (err) {
          if (NOT_FOUND.has((err as { code?: string }).code ?? '')) return null;
          throw err;
        }
      }),
    get: (key) => call(() => s3.getObject(bucket, key)),
    remove: (key) => {
      presignedGets.forget(key);
      return call(() => s3.removeObject(bucket, key));
    },
    move: (fromKey, toKey) =>
      call(async () => {
        presignedGets.forget(toKey);
        await copy(fromKey, toKey);
        const moved = await s3.statObject(bucket, toKey);
        presignedGets.forget(fromKey);
        await s3.removeObject(bucket, fromKey);
        return { size: moved.size, etag: moved.etag };
      }),
    list: (prefix = '') =>
      call(async () => {
        const keys: string[] = [];
        for await (const item of s3.listObjectsV2(bucket, prefix, true) as AsyncIterable<{ name?: string }>) {
          if (item.name) keys.push(item.name);
        }
        return keys.sort();
      }),
    presignedGetUrl: (key, ttl) => presignedGets.get(key, ttl, () => call(() => signer.presignedGetObject(bucket, key, ttl))),
    presignedPutUrl: (key, ttl) => call(() => signer.presignedPutObject(bucket, key, ttl)),
    ensureBucket: () =>
      call(async () => {
        if (!(await s3.bucketExists(bucket))) await s3.makeBucket(bucket, settings.region);
      }),
    ping: (timeoutMs) =>
      withTimeout(
        call(async () => {
          if (!(await s3.bucketExists(bucket)))
            throw new DependencyUnavailableError('object-store', new Error(`bucket ${bucket} does not exist`));
        }),
        timeoutMs,
        'object-store',
      ),
  };
}
