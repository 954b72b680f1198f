/**
 * Which drivers the integration suites run against: the real PostgreSQL, Redis and MinIO of the
 * `integration` project (default), or the embedded ones (PGlite, the in-process cache, the
 * filesystem store) of the `integration-embedded` project, which sets HMA_TEST_DRIVERS=embedded.
 * The suites are the same files; they reach data only through the helpers here and in
 * content-bridge.ts / ml-server.ts, which pick the driver.
 *
 * Embedded data of one test process lives under one temp directory, removed when the process exits.
 * An embedded database is named by a `pglite://<dir>` URL, so suites that pass `databaseUrl` around
 * (a second bridge on the same data, a restart) work unchanged. Instances are shared while open:
 * PGlite is single-process, so two services on one database must share one instance, as they do
 * under `npm start`. Each acquisition is released by its `close()`; the last one closes PGlite.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as Minio from 'minio';
import pg from 'pg';
import { inject } from 'vitest';
import type { Cache } from '../../../services/kit/deps/cache.ts';
import { createPgDatabase, type Database, type QueryResult, type Queryable } from '../../../services/kit/deps/database.ts';
import { createFsObjectStore, isFsObjectStore, type FsObjectStore } from '../../../services/kit/deps/embedded/fs-object-store.ts';
import { createMemoryCache, type MemoryCache } from '../../../services/kit/deps/embedded/memory-cache.ts';
import { createPgliteDatabase } from '../../../services/kit/deps/embedded/pglite.ts';
import type { ObjectStore } from '../../../services/kit/deps/object-store.ts';

export type TestDrivers = 'real' | 'embedded';
export const TEST_DRIVERS: TestDrivers = process.env.HMA_TEST_DRIVERS === 'embedded' ? 'embedded' : 'real';
export const EMBEDDED = TEST_DRIVERS === 'embedded';

let rootDir: string | undefined;
/** This test process's embedded data directory. */
export function embeddedRoot(): string {
  if (!rootDir) {
    const dir = mkdtempSync(join(tmpdir(), 'hma-embedded-'));
    rootDir = dir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return rootDir;
}

/** The cluster with the Content Bridge's migrations applied, prepared by tests/setup/embedded.ts. */
function contentTemplate(): string | undefined {
  return (inject('pgliteTemplates') as { content: string } | undefined)?.content;
}

// ---------------------------------------------------------------------------------------------
// Databases

const PGLITE = 'pglite:';
export const isEmbeddedUrl = (url: string) => url.startsWith(PGLITE);

interface Shared<T> {
  value: T;
  refs: number;
}
const databases = new Map<string, Shared<Database>>();

/**
 * The URL of a new embedded database. `withContentSchema`: start from the template that already has
 * the Content Bridge's migrations (migrate() then finds them applied, checksums and all).
 */
export function newEmbeddedDatabaseUrl(opts: { withContentSchema?: boolean } = {}): string {
  const dir = join(embeddedRoot(), `pg-${randomUUID().slice(0, 8)}`);
  const url = new URL(`${PGLITE}//${dir}`);
  if (opts.withContentSchema) url.searchParams.set('template', 'content');
  return url.toString();
}

/**
 * A role-scoped view of an embedded database: what a read-only login role's URL gives on a server.
 * PGlite has one session, so every statement runs in a transaction that first switches to the role
 * (its grants apply) and is read only (as the role's default_transaction_read_only makes it).
 */
function asRole(db: Database, role: string): Database {
  const enter = async (tx: Queryable) => {
    await tx.query(`SET LOCAL ROLE ${role}`);
    await tx.query('SET TRANSACTION READ ONLY');
  };
  return {
    driver: db.driver,
    query: (sql, params) =>
      db.transaction(async (tx) => {
        await enter(tx);
        return tx.query(sql, params);
      }),
    transaction: (fn) =>
      db.transaction(async (tx) => {
        await enter(tx);
        return fn(tx);
      }),
    withAdvisoryLock: (key, fn) => db.withAdvisoryLock(key, fn),
    ping: (t) => db.ping(t),
    close: () => db.close(),
  };
}

/** The shared instance behind an embedded URL, acquired; its close() releases this acquisition. */
function acquireEmbeddedDatabase(url: string): Database {
  const parsed = new URL(url);
  const dir = decodeURIComponent(parsed.pathname);
  let shared = databases.get(dir);
  if (!shared) {
    const templateDir = parsed.searchParams.get('template') === 'content' ? contentTemplate() : undefined; // else a pristine cluster
    shared = { value: createPgliteDatabase({ dataDir: dir, templateDir }), refs: 0 };
    databases.set(dir, shared);
  }
  shared.refs++;
  const entry = shared;
  let released = false;
  const handle: Database = {
    driver: entry.value.driver,
    query: (sql, params) => entry.value.query(sql, params),
    transaction: (fn) => entry.value.transaction(fn),
    withAdvisoryLock: (key, fn) => entry.value.withAdvisoryLock(key, fn),
    ping: (t) => entry.value.ping(t),
    async close() {
      if (released) return;
      released = true;
      if (--entry.refs === 0) {
        databases.delete(dir);
        await entry.value.close();
      }
    },
  };
  const role = parsed.searchParams.get('role');
  return role ? asRole(handle, role) : handle;
}

/** A Database for `url`, whichever driver the URL names (`postgres://` or `pglite://`). */
export function openTestDatabase(url: string, opts: { poolSize?: number } = {}): Database {
  return isEmbeddedUrl(url) ? acquireEmbeddedDatabase(url) : createPgDatabase(url, { poolSize: opts.poolSize ?? 2 });
}

/** The part of pg.Client the suites use to look at and arrange data behind the API. */
export interface SqlClient {
  query<R = any>(sql: string, params?: unknown[]): Promise<QueryResult<R>>;
  end(): Promise<void>;
}

/** A connected SQL client on `url`: a pg.Client on a server, the shared instance when embedded. */
export async function connectSql(url: string): Promise<SqlClient> {
  if (isEmbeddedUrl(url)) {
    const db = acquireEmbeddedDatabase(url);
    return { query: (sql, params) => db.query(sql, params), end: () => db.close() };
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return {
    query: async (sql, params) => {
      const res = await client.query(sql, params);
      return { rows: res.rows, rowCount: res.rowCount ?? 0 };
    },
    end: () => client.end(),
  };
}

// ---------------------------------------------------------------------------------------------
// Caches: one in-process cache per key prefix (a Redis key prefix is a namespace; services given
// the same prefix share their keys, e.g. the ML Server sees the bridge's revocations).

const caches = new Map<string, Shared<MemoryCache>>();

export function acquireMemoryCache(prefix: string): Cache {
  let shared = caches.get(prefix);
  if (!shared) {
    shared = { value: createMemoryCache(), refs: 0 };
    caches.set(prefix, shared);
  }
  shared.refs++;
  const entry = shared;
  let released = false;
  return {
    ...entry.value, // its methods are closures: copying them keeps them working
    async close() {
      if (released) return;
      released = true;
      if (--entry.refs === 0) {
        caches.delete(prefix);
        await entry.value.close();
      }
    },
  };
}

/** Cache keys matching a Redis glob, in the namespace `prefix` (without it), for either driver. */
export async function cacheKeys(prefix: string, pattern: string, redisUrl?: string): Promise<string[]> {
  if (EMBEDDED) return caches.get(prefix)?.value.keys(pattern) ?? [];
  const { Redis } = await import('ioredis');
  const redis = new Redis(redisUrl ?? inject('redisUrl'));
  try {
    return (await redis.keys(`${prefix}${pattern}`)).map((k) => k.slice(prefix.length));
  } finally {
    redis.disconnect();
  }
}

// ---------------------------------------------------------------------------------------------
// Object stores

/** The filesystem store of `bucket` in this process's embedded data directory. */
export function embeddedStore(bucket: string, publicBaseUrl: () => string): FsObjectStore {
  return createFsObjectStore({
    root: join(embeddedRoot(), 'objects'),
    bucket,
    publicBaseUrl,
    signingKey: 'embedded-test-signing-key-0123456789abcdef',
  });
}

function minioClient(): Minio.Client {
  const { endpoint, accessKey, secretKey } = inject('minio');
  const url = new URL(endpoint);
  return new Minio.Client({ endPoint: url.hostname, port: Number(url.port), useSSL: false, accessKey, secretKey, pathStyle: true });
}

/** The keys stored in `bucket` under `prefix`, sorted, for either driver. */
export async function listObjectKeys(bucket: string, prefix = ''): Promise<string[]> {
  if (EMBEDDED) return embeddedStore(bucket, () => '').list(prefix);
  const names: string[] = [];
  for await (const o of minioClient().listObjectsV2(bucket, prefix, true)) if ((o as { name?: string }).name) names.push(o.name!);
  return names.sort();
}

/** Uploads not finished (S3 multipart uploads; temp files of the filesystem store), for either driver. */
export async function incompleteUploads(store: ObjectStore): Promise<string[]> {
  if (isFsObjectStore(store)) return store.pendingWrites();
  const uploads: string[] = [];
  for await (const u of minioClient().listIncompleteUploads(store.bucket, '', true)) uploads.push(u.key);
  return uploads;
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteTemplates: { content: string };
  }
}
