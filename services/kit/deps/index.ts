/**
 * Builds the three dependencies from config. Each one is chosen on its own: its URL set means the
 * real server (PostgreSQL, Redis, S3/MinIO); its URL absent means the embedded driver (PGlite, an
 * in-process cache, a filesystem store under HMA_DATA_DIR), but only when HMA_EMBEDDED=true. Without
 * that switch a missing URL is still a ConfigError: a production config that forgets DATABASE_URL
 * must fail at startup, not run on a throwaway database inside the pod.
 */
import { join, resolve } from 'node:path';
import { ConfigError } from '../config.ts';
import { createRedisCache, type Cache } from './cache.ts';
import { createPgDatabase, type Database } from './database.ts';
import { createFsObjectStore, objectUrlSecret } from './embedded/fs-object-store.ts';
import { createMemoryCache } from './embedded/memory-cache.ts';
import { createPgliteDatabase } from './embedded/pglite.ts';
import { createS3ObjectStore, type ObjectStore } from './object-store.ts';

export type { Cache, Database, ObjectStore };

export interface Deps {
  db: Database;
  cache: Cache;
  store: ObjectStore;
}

export interface DepsConfig {
  DATABASE_URL?: string | undefined;
  DATABASE_POOL_SIZE: number;
  REDIS_URL?: string | undefined;
  S3_ENDPOINT?: string | undefined;
  S3_PUBLIC_ENDPOINT?: string | undefined;
  S3_ACCESS_KEY?: string | undefined;
  S3_SECRET_KEY?: string | undefined;
  S3_BUCKET: string;
  S3_REGION: string;
  HMA_EMBEDDED?: boolean | undefined;
  HMA_DATA_DIR?: string | undefined;
  OBJECT_URL_SECRET?: string | undefined;
  /** Where the filesystem store's presigned URLs point (the Content Bridge, which serves them). */
  PUBLIC_BASE_URL?: string | undefined;
}

/** Which driver backs each dependency. */
export interface Drivers {
  database: 'postgres' | 'pglite';
  cache: 'redis' | 'memory';
  objectStore: 's3' | 'filesystem';
}

export interface CreatedDeps extends Deps {
  drivers: Drivers;
  /** The data directory of the embedded drivers (absolute), when any is in use. */
  dataDir: string | undefined;
}

const DEFAULT_DATA_DIR = '.hma-data';

function required(name: string, value: string | undefined): string {
  if (!value) throw new ConfigError(`invalid configuration: ${name} is required`);
  return value;
}

/** The drivers `createDeps` would use for `config`, without creating anything (for `--help` and startup output). */
export function selectDrivers(config: DepsConfig): Drivers {
  const pick = <R, E>(name: string, url: string | undefined, real: R, embedded: E): R | E => {
    if (url) return real;
    if (config.HMA_EMBEDDED) return embedded;
    throw new ConfigError(`invalid configuration: ${name} is required (or set HMA_EMBEDDED=true for the embedded driver)`);
  };
  return {
    database: pick('DATABASE_URL', config.DATABASE_URL, 'postgres' as const, 'pglite' as const),
    cache: pick('REDIS_URL', config.REDIS_URL, 'redis' as const, 'memory' as const),
    objectStore: pick('S3_ENDPOINT', config.S3_ENDPOINT, 's3' as const, 'filesystem' as const),
  };
}

export interface CreateDepsOptions {
  /** Namespace of every cache key (default `hma:`, shared by both services so revocations apply to both). */
  cacheKeyPrefix?: string;
}

export function createDeps(config: DepsConfig, service: string, opts: CreateDepsOptions = {}): CreatedDeps {
  const drivers = selectDrivers(config);
  const embedded = drivers.database === 'pglite' || drivers.cache === 'memory' || drivers.objectStore === 'filesystem';
  const dataDir = embedded ? resolve(config.HMA_DATA_DIR ?? DEFAULT_DATA_DIR) : undefined;
  // Check the S3 credentials before anything starts (PGlite opens its data directory at once).
  const s3 =
    drivers.objectStore === 's3'
      ? {
          endpoint: required('S3_ENDPOINT', config.S3_ENDPOINT),
          publicEndpoint: config.S3_PUBLIC_ENDPOINT,
          accessKey: required('S3_ACCESS_KEY', config.S3_ACCESS_KEY),
          secretKey: required('S3_SECRET_KEY', config.S3_SECRET_KEY),
          bucket: config.S3_BUCKET,
          region: config.S3_REGION,
        }
      : undefined;
  const store = s3
    ? createS3ObjectStore(s3)
    : createFsObjectStore({
        root: join(dataDir!, 'objects'),
        bucket: config.S3_BUCKET,
        publicBaseUrl: config.PUBLIC_BASE_URL ?? 'http://localhost:8090',
        signingKey: objectUrlSecret(dataDir!, config.OBJECT_URL_SECRET),
      });
  const cache = config.REDIS_URL ? createRedisCache(config.REDIS_URL, { keyPrefix: opts.cacheKeyPrefix ?? 'hma:' }) : createMemoryCache();
  const db = config.DATABASE_URL
    ? createPgDatabase(config.DATABASE_URL, { poolSize: config.DATABASE_POOL_SIZE, applicationName: service })
    : createPgliteDatabase({ dataDir: join(dataDir!, 'postgres') });
  return { db, cache, store, drivers, dataDir };
}

export async function closeDeps(deps: Deps): Promise<void> {
  await Promise.allSettled([deps.db.close(), deps.cache.close()]);
}
