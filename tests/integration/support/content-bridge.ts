/**
 * Starts a real Content Bridge in-process against the run's PostgreSQL, Redis and MinIO, or against
 * the embedded drivers when HMA_TEST_DRIVERS=embedded (see drivers.ts). Each call gets its own
 * database, bucket and Redis key prefix, so test files never see each other's data.
 */
import { startBackground, stopBackground } from '../../../services/kit/lifecycle.ts';
import { randomBytes, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import pg from 'pg';
import { inject } from 'vitest';
import { createPgDatabase } from '../../../services/kit/deps/database.ts';
import { createRedisCache } from '../../../services/kit/deps/cache.ts';
import { createS3ObjectStore } from '../../../services/kit/deps/object-store.ts';
import type { Deps } from '../../../services/kit/deps/index.ts';
import { loadMigrations, migrate } from '../../../services/kit/deps/migrations.ts';
import { listen } from '../../../services/kit/http/server.ts';
import { createLogger } from '../../../services/kit/observability/logger.ts';
import { buildContentBridge, ensureFirstAdmin, type BuildOptions, type ContentBridge } from '../../../services/content-bridge/app.ts';
import { loadContentBridgeConfig } from '../../../services/content-bridge/config.ts';
import { MIGRATIONS_DIR } from '../../../services/content-bridge/paths.ts';
import type { Mailer } from '../../../services/content-bridge/auth/mailer.ts';
import { acquireMemoryCache, EMBEDDED, embeddedStore, newEmbeddedDatabaseUrl, openTestDatabase } from './drivers.ts';

export interface Endpoints {
  postgresUrl: string;
  redisUrl: string;
  minio: { endpoint: string; accessKey: string; secretKey: string };
}

/** A new, empty database: on the server at `adminUrl`, or an embedded one (the URL is then unused). */
export async function createTestDatabase(adminUrl: string): Promise<string> {
  if (EMBEDDED) return newEmbeddedDatabaseUrl();
  const name = `t_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export function defaultEndpoints(): Endpoints {
  if (EMBEDDED) return { postgresUrl: 'pglite:', redisUrl: 'memory:', minio: { endpoint: 'file:', accessKey: '', secretKey: '' } };
  return { postgresUrl: inject('postgresUrl'), redisUrl: inject('redisUrl'), minio: inject('minio') };
}

/** The service variables that pick the drivers: the embedded ones, or the real servers at `endpoints`. */
export function driverEnv(endpoints: Endpoints, databaseUrl: string): Record<string, string> {
  if (EMBEDDED) return { HMA_EMBEDDED: 'true' };
  return {
    DATABASE_URL: databaseUrl,
    REDIS_URL: endpoints.redisUrl,
    S3_ENDPOINT: endpoints.minio.endpoint,
    S3_ACCESS_KEY: endpoints.minio.accessKey,
    S3_SECRET_KEY: endpoints.minio.secretKey,
  };
}

/** Captures log lines, so tests can assert what is (and is not) logged. */
export function memoryLog() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { lines, stream };
}

export interface TestBridge {
  url: string;
  bridge: ContentBridge;
  deps: Deps;
  databaseUrl: string;
  bucket: string;
  logLines: string[];
  mail: Array<{ email: string; link: string }>;
  adminCredentials: { username: string; email: string; password: string };
  close(): Promise<void>;
}

export async function startTestBridge(
  opts: {
    endpoints?: Endpoints;
    env?: Record<string, string>;
    rateRules?: BuildOptions['rateRules'];
    /** Reuse this (already migrated or fresh) database instead of creating one, e.g. to restart a bridge on the same data. */
    databaseUrl?: string;
  } = {},
): Promise<TestBridge> {
  const endpoints = opts.endpoints ?? defaultEndpoints();
  const databaseUrl =
    opts.databaseUrl ?? (EMBEDDED ? newEmbeddedDatabaseUrl({ withContentSchema: true }) : await createTestDatabase(endpoints.postgresUrl));
  const bucket = `t-${randomUUID().slice(0, 13)}`;
  const adminCredentials = { username: 'admin', email: 'admin@huntmaster.test', password: `Adm1n-${randomBytes(9).toString('base64url')}` };
  const config = loadContentBridgeConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    ...driverEnv(endpoints, databaseUrl),
    S3_BUCKET: bucket,
    JWT_SECRET: randomBytes(32).toString('hex'),
    ADMIN_EMAIL: adminCredentials.email,
    ADMIN_PASSWORD: adminCredentials.password,
    ...opts.env,
  });
  const log = memoryLog();
  const logger = createLogger({ service: 'content-bridge-test', level: config.LOG_LEVEL, destination: log.stream });
  let url = '';
  const deps: Deps = EMBEDDED
    ? {
        db: openTestDatabase(databaseUrl),
        cache: acquireMemoryCache(`${bucket}:`),
        store: embeddedStore(bucket, () => url),
      }
    : {
        db: createPgDatabase(databaseUrl, { poolSize: 10 }),
        cache: createRedisCache(endpoints.redisUrl, { keyPrefix: `${bucket}:` }),
        store: createS3ObjectStore({
          endpoint: endpoints.minio.endpoint,
          accessKey: endpoints.minio.accessKey,
          secretKey: endpoints.minio.secretKey,
          bucket,
          region: config.S3_REGION,
        }),
      };
  await migrate(deps.db, 'content-bridge', loadMigrations(MIGRATIONS_DIR));
  await deps.store.ensureBucket();
  await deps.cache.ready(5000);
  const mail: TestBridge['mail'] = [];
  const mailer: Mailer = {
    async sendPasswordReset(to, link) {
      mail.push({ email: to.email, link });
    },
  };
  const bridge = buildContentBridge({ config, deps, logger, mailer, rateRules: opts.rateRules });
  await ensureFirstAdmin(bridge.context);
  const running = await listen({
    app: bridge.app,
    health: bridge.health,
    logger,
    port: 0,
    host: '127.0.0.1',
    graceMs: 2000,
    closers: [() => stopBackground(bridge.context), () => deps.db.close(), () => deps.cache.close()],
  });
  url = `http://127.0.0.1:${running.port}`;
  await startBackground(bridge.context);
  return {
    url,
    bridge,
    deps,
    databaseUrl,
    bucket,
    logLines: log.lines,
    mail,
    adminCredentials,
    close: () => running.shutdown('test finished'),
  };
}
