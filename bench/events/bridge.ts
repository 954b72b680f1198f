/**
 * The Content Bridge in-process for the benchmark: the same wiring as the integration tests'
 * startTestBridge (which needs vitest's inject), against servers the caller started.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import pg from 'pg';
import {
  buildContentBridge,
  ensureFirstAdmin,
  startBackground,
  stopBackground,
  type ContentBridge,
} from '../../services/content-bridge/app.ts';
import { loadContentBridgeConfig } from '../../services/content-bridge/config.ts';
import { MIGRATIONS_DIR } from '../../services/content-bridge/paths.ts';
import { createRedisCache } from '../../services/kit/deps/cache.ts';
import { createPgDatabase } from '../../services/kit/deps/database.ts';
import type { Deps } from '../../services/kit/deps/index.ts';
import { loadMigrations, migrate } from '../../services/kit/deps/migrations.ts';
import { createS3ObjectStore } from '../../services/kit/deps/object-store.ts';
import { listen } from '../../services/kit/http/server.ts';
import { createLogger } from '../../services/kit/observability/logger.ts';

export interface BenchEndpoints {
  postgresUrl: string;
  redisUrl: string;
  minio: { endpoint: string; accessKey: string; secretKey: string };
}

export interface BenchBridge {
  url: string;
  port: number;
  bridge: ContentBridge;
  deps: Deps;
  adminPassword: string;
  close(): Promise<void>;
}

async function createDatabase(adminUrl: string): Promise<string> {
  const name = `bench_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Logs are produced and serialised as in production (level info), then dropped. */
const nullStream = () =>
  new Writable({
    write(_chunk, _enc, cb) {
      cb();
    },
  });

export async function startBenchBridge(endpoints: BenchEndpoints, env: Record<string, string> = {}): Promise<BenchBridge> {
  const databaseUrl = await createDatabase(endpoints.postgresUrl);
  const bucket = `bench-${randomUUID().slice(0, 8)}`;
  const adminPassword = `Adm1n-${randomBytes(9).toString('base64url')}`;
  const config = loadContentBridgeConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    DATABASE_URL: databaseUrl,
    REDIS_URL: endpoints.redisUrl,
    S3_ENDPOINT: endpoints.minio.endpoint,
    S3_ACCESS_KEY: endpoints.minio.accessKey,
    S3_SECRET_KEY: endpoints.minio.secretKey,
    S3_BUCKET: bucket,
    JWT_SECRET: randomBytes(32).toString('hex'),
    ADMIN_EMAIL: 'admin@huntmaster.bench',
    ADMIN_PASSWORD: adminPassword,
    ...env,
  });
  const logger = createLogger({ service: 'content-bridge-bench', level: config.LOG_LEVEL, destination: nullStream() });
  const deps: Deps = {
    db: createPgDatabase(databaseUrl, { poolSize: config.DATABASE_POOL_SIZE }),
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
  const bridge = buildContentBridge({ config, deps, logger });
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
  await startBackground(bridge.context);
  return {
    url: `http://127.0.0.1:${running.port}`,
    port: running.port,
    bridge,
    deps,
    adminPassword,
    close: () => running.shutdown('bench finished'),
  };
}
