/** Builds the three dependencies from config. Embedded drivers slot in here when a URL is absent. */
import { ConfigError } from '../config.ts';
import { createRedisCache, type Cache } from './cache.ts';
import { createPgDatabase, type Database } from './database.ts';
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
}

function required(name: string, value: string | undefined): string {
  if (!value) throw new ConfigError(`invalid configuration: ${name} is required`);
  return value;
}

export function createDeps(config: DepsConfig, service: string): Deps {
  const db = createPgDatabase(required('DATABASE_URL', config.DATABASE_URL), {
    poolSize: config.DATABASE_POOL_SIZE,
    applicationName: service,
  });
  const cache = createRedisCache(required('REDIS_URL', config.REDIS_URL), { keyPrefix: 'hma:' });
  const store = createS3ObjectStore({
    endpoint: required('S3_ENDPOINT', config.S3_ENDPOINT),
    publicEndpoint: config.S3_PUBLIC_ENDPOINT,
    accessKey: required('S3_ACCESS_KEY', config.S3_ACCESS_KEY),
    secretKey: required('S3_SECRET_KEY', config.S3_SECRET_KEY),
    bucket: config.S3_BUCKET,
    region: config.S3_REGION,
  });
  return { db, cache, store };
}

export async function closeDeps(deps: Deps): Promise<void> {
  await Promise.allSettled([deps.db.close(), deps.cache.close()]);
}
