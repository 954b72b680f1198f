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
}

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
  const urls = new Map<string, { url: string; renewAt: number }>();
  return {
    async get(key: string, ttlSeconds: number, sign: () => Promise<string>): Promise<string> {
      const cacheKey = `${ttlSeconds}|${key}`;
      const hit = urls.get(cacheKey);
      if (hit && hit.renewAt > Date.now()) return hit.url;
      const url = await sign();
      if (urls.size >= maxEntries) urls.delete(urls.keys().next().value!);
      urls.set(cacheKey, { url, renewAt: Date.now() + (ttlSeconds * 1000) / 2 });
      return url;
    },
    forget(key: string) {
      for (const k of urls.keys()) if (k.endsWith(`|${key}`)) urls.delete(k);
    },
  };
}

export function createS3ObjectStore(settings: S3Settings): ObjectStore {
  const presignedGets = presignCache();
  const s3 = client(settings.endpoint, settings);
  const signer = settings.publicEndpoint ? client(settings.publicEndpoint, settings) : s3;
  const { bucket } = settings;
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
