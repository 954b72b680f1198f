/**
 * The embedded object store: files under a directory, behind the same ObjectStore interface as S3.
 *
 * Layout: `<root>/<bucket>/<aa>/<sha256(key)>.data` holds the bytes and `<...>.json` the metadata
 * (key, size, etag, sha256, content type). Names are hashes of the key, so no key (`../`, very long,
 * `a` and `a/b` both) can map outside its bucket or onto another. A write streams into
 * `<root>/<bucket>/.tmp/`, hashing and counting on the way, and is renamed into place only when complete:
 * a failed or aborted upload leaves nothing but a temp file, which is removed at once (and any left
 * by a crash at the next start). The metadata file is renamed last and is what makes an object
 * exist. Writes and removals of one key are serialised in this process.
 *
 * Presigned URLs point at the API itself: `${publicBaseUrl}/_objects/<key>?expires=..&signature=..`,
 * signed with HMAC-SHA256 over the method, bucket, key and expiry. `services/kit/http/object-urls.ts`
 * serves them (GET/HEAD/PUT), checking signature and expiry.
 */
import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { link, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ObjectInfo, ObjectStore } from '../object-store.ts';
import { isProcessAlive } from './process.ts';
import { persistedSecret } from './secrets.ts';

export type SignedMethod = 'GET' | 'PUT';

export interface FsObjectStoreOptions {
  /** Directory holding all buckets (e.g. `.hma-data/objects`). */
  root: string;
  bucket: string;
  /** Base URL of the API that serves `/_objects/` (the Content Bridge's PUBLIC_BASE_URL); a function when known only once listening. */
  publicBaseUrl: string | (() => string);
  /** HMAC key of presigned URLs (at least 32 bytes). */
  signingKey: string | Buffer;
}

export interface ObjectMeta {
  key: string;
  size: number;
  etag: string;
  sha256: string;
  contentType: string | undefined;
  lastModified: string;
}

export class ObjectTooLargeError extends Error {
  readonly code = 'EntityTooLarge';
}

export interface FsObjectStore extends ObjectStore {
  readonly driver: 'filesystem';
  /** Temp files of writes in progress (the analogue of incomplete multipart uploads). */
  pendingWrites(): Promise<string[]>;
  /** Like put, but refuses (ObjectTooLargeError) and stores nothing once more than `maxBytes` arrive. */
  putLimited(key: string, body: Readable, opts: { contentType: string; maxBytes: number }): Promise<{ size: number; etag: string }>;
  /** The stored object with its metadata (the bytes `start`..`end` inclusive, when given), or null. */
  open(key: string, range?: { start: number; end: number }): Promise<{ meta: ObjectMeta; body: Readable } | null>;
  /** The stored metadata, or null. */
  meta(key: string): Promise<ObjectMeta | null>;
  /** Checks a presigned URL's parameters: 'ok', 'expired' or 'invalid'. */
  verifySignature(method: SignedMethod, key: string, expires: string, signature: string): 'ok' | 'expired' | 'invalid';
}

const notFound = (key: string) => Object.assign(new Error(`The specified key does not exist: ${key}`), { code: 'NoSuchKey' });

/** The HMAC key of presigned URLs: OBJECT_URL_SECRET, else one generated once into the data dir. */
export const objectUrlSecret = (dataDir: string, configured?: string) => persistedSecret(dataDir, 'object-url', configured);

/** `a/b c.pdf` → `a/b%20c.pdf`: each path segment encoded, the slashes kept. */
export const encodeKey = (key: string) => key.split('/').map(encodeURIComponent).join('/');

export function createFsObjectStore(opts: FsObjectStoreOptions): FsObjectStore {
  const root = resolve(opts.root);
  const bucketDir = join(root, opts.bucket);
  const tmpDir = join(bucketDir, '.tmp');
  const base = () => (typeof opts.publicBaseUrl === 'function' ? opts.publicBaseUrl() : opts.publicBaseUrl).replace(/\/+$/, '');
  const locks = new Map<string, Promise<unknown>>();

  const paths = (key: string) => {
    const h = createHash('sha256').update(key).digest('hex');
    const dir = join(bucketDir, h.slice(0, 2));
    return { dir, data: join(dir, `${h}.data`), meta: join(dir, `${h}.json`) };
  };
  /** Serialises the renames and removals of one key. */
  const exclusive = async <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const previous = locks.get(key) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(fn);
    locks.set(key, next);
    try {
      return await next;
    } finally {
      if (locks.get(key) === next) locks.delete(key);
    }
  };
  const readMeta = async (key: string): Promise<ObjectMeta | null> => {
    try {
      return JSON.parse(await readFile(paths(key).meta, 'utf8')) as ObjectMeta;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  };
  const sign = (method: SignedMethod, key: string, expires: number) =>
    createHmac('sha256', opts.signingKey).update(`${method}\n${opts.bucket}\n${key}\n${expires}`).digest('hex');
  const presign = (method: SignedMethod, key: string, ttlSeconds: number) => {
    const expires = Math.floor(Date.now() / 1000) + Math.max(1, Math.floor(ttlSeconds));
    return `${base()}/_objects/${encodeKey(key)}?expires=${expires}&signature=${sign(method, key, expires)}`;
  };

  async function write(
    key: string,
    body: Readable | Buffer,
    contentType: string,
    maxBytes: number | undefined,
  ): Promise<{ size: number; etag: string }> {
    mkdirSync(tmpDir, { recursive: true });
    const tmp = join(tmpDir, `${process.pid}-${randomUUID()}.part`);
    const md5 = createHash('md5');
    const sha = createHash('sha256');
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        if (maxBytes !== undefined && size > maxBytes) return cb(new ObjectTooLargeError(`more than ${maxBytes} bytes`));
        md5.update(chunk);
        sha.update(chunk);
        cb(null, chunk);
      },
    });
    try {
      const source = Buffer.isBuffer(body) ? Readable.from([body]) : body;
      await pipeline(source, meter, createWriteStream(tmp, { mode: 0o600 }));
      const meta: ObjectMeta = {
        key,
        size,
        etag: md5.digest('hex'),
        sha256: sha.digest('hex'),
        contentType,
        lastModified: new Date().toISOString(),
      };
      const p = paths(key);
      const metaTmp = `${tmp}.json`;
      await writeFile(metaTmp, JSON.stringify(meta), { mode: 0o600 });
      await exclusive(key, async () => {
        mkdirSync(p.dir, { recursive: true });
        await rename(tmp, p.data);
        await rename(metaTmp, p.meta);
      });
      return { size, etag: meta.etag };
    } finally {
      await rm(tmp, { force: true });
      await rm(`${tmp}.json`, { force: true });
    }
  }

  async function open(key: string, range?: { start: number; end: number }): Promise<{ meta: ObjectMeta; body: Readable } | null> {
    const meta = await readMeta(key);
    if (!meta) return null;
    // Open before reading: a concurrent overwrite renames a new file in, this descriptor keeps the old one.
    const body = createReadStream(paths(key).data, range);
    await new Promise<void>((ok, fail) => {
      body.once('open', () => ok());
      body.once('error', fail);
    }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') throw notFound(key);
      throw err;
    });
    return { meta, body };
  }

  const remove = (key: string) =>
    exclusive(key, async () => {
      const p = paths(key);
      await rm(p.meta, { force: true });
      await rm(p.data, { force: true });
    });

  // Temp files left by a process that died mid-write (named after their writer's pid).
  if (existsSync(tmpDir)) {
    for (const name of readdirSync(tmpDir)) {
      const pid = Number(name.split('-')[0]);
      if (pid !== process.pid && !isProcessAlive(pid)) rmSync(join(tmpDir, name), { force: true });
    }
  }

  return {
    driver: 'filesystem',
    bucket: opts.bucket,
    put: (key, body, o) => write(key, body, o.contentType, undefined),
    putLimited: (key, body, o) => write(key, body, o.contentType, o.maxBytes),
    async stat(key): Promise<ObjectInfo | null> {
      const meta = await readMeta(key);
      return meta ? { size: meta.size, etag: meta.etag, contentType: meta.contentType } : null;
    },
    open,
    meta: readMeta,
    async get(key) {
      const found = await open(key);
      if (!found) throw notFound(key);
      return found.body;
    },
    remove,
    async move(fromKey, toKey) {
      const meta = await readMeta(fromKey);
      if (!meta) throw notFound(fromKey);
      if (fromKey === toKey) return { size: meta.size, etag: meta.etag };
      // A hard link, not a copy of the bytes; it is renamed into place like a finished write, the
      // metadata last, and only then is the source removed (a crash in between leaves both, never neither).
      mkdirSync(tmpDir, { recursive: true });
      const tmp = join(tmpDir, `${process.pid}-${randomUUID()}.part`);
      try {
        await link(paths(fromKey).data, tmp);
        await writeFile(`${tmp}.json`, JSON.stringify({ ...meta, key: toKey, lastModified: new Date().toISOString() }), { mode: 0o600 });
        const to = paths(toKey);
        await exclusive(toKey, async () => {
          mkdirSync(to.dir, { recursive: true });
          await rename(tmp, to.data);
          await rename(`${tmp}.json`, to.meta);
        });
      } finally {
        await rm(tmp, { force: true });
        await rm(`${tmp}.json`, { force: true });
      }
      await remove(fromKey);
      return { size: meta.size, etag: meta.etag };
    },
    presignedGetUrl: async (key, ttl) => presign('GET', key, ttl),
    presignedPutUrl: async (key, ttl) => presign('PUT', key, ttl),
    verifySignature(method, key, expires, signature) {
      if (!/^\d{1,12}$/.test(expires) || !/^[0-9a-f]{64}$/.test(signature)) return 'invalid';
      const want = Buffer.from(sign(method, key, Number(expires)), 'hex');
      if (!timingSafeEqual(want, Buffer.from(signature, 'hex'))) return 'invalid';
      return Number(expires) * 1000 < Date.now() ? 'expired' : 'ok';
    },
    async ensureBucket() {
      mkdirSync(bucketDir, { recursive: true });
    },
    async ping() {
      if (!existsSync(bucketDir)) throw new Error(`bucket directory ${bucketDir} does not exist`);
    },
    async list(prefix = '') {
      const keys: string[] = [];
      let shards: string[];
      try {
        shards = await readdir(bucketDir);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw err;
      }
      for (const shard of shards.filter((s) => /^[0-9a-f]{2}$/.test(s))) {
        for (const name of await readdir(join(bucketDir, shard)).catch(() => [] as string[])) {
          if (!name.endsWith('.json')) continue;
          const meta = JSON.parse(await readFile(join(bucketDir, shard, name), 'utf8')) as ObjectMeta;
          if (meta.key.startsWith(prefix)) keys.push(meta.key);
        }
      }
      return keys.sort();
    },
    async pendingWrites() {
      return (await readdir(tmpDir).catch(() => [] as string[])).filter((n) => n.endsWith('.part'));
    },
  };
}

/** Narrowing for code that serves presigned URLs. */
export const isFsObjectStore = (store: ObjectStore): store is FsObjectStore => store.driver === 'filesystem';
