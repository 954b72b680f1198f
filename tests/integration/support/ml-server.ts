/**
 * Starts a real ML Server in-process against the run's PostgreSQL, Redis and MinIO (or the embedded
 * drivers, HMA_TEST_DRIVERS=embedded: see drivers.ts), like startTestBridge does for the Content Bridge. Given a test Content Bridge (`bridge`), it shares the
 * bridge's database, JWT secret and Redis key prefix (so the bridge's tokens and revocations apply)
 * and forwards logins to it.
 */
import { startBackground, stopBackground } from '../../../services/kit/lifecycle.ts';
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { signAccessToken, tokenSettingsFromConfig } from '../../../services/kit/auth/tokens.ts';
import type { Role } from '../../../services/kit/http/routes.ts';
import type { Database } from '../../../services/kit/deps/database.ts';
import type { Deps } from '../../../services/kit/deps/index.ts';
import { loadMigrations, migrate } from '../../../services/kit/deps/migrations.ts';
import { listen } from '../../../services/kit/http/server.ts';
import { createLogger } from '../../../services/kit/observability/logger.ts';
import { MIGRATIONS_DIR as CONTENT_MIGRATIONS_DIR } from '../../../services/content-bridge/paths.ts';
import { buildMlServer, createMlDeps, prepareMlServer, type MlServer } from '../../../services/ml-server/app.ts';
import { loadMlServerConfig, type MlServerConfig } from '../../../services/ml-server/config.ts';
import { MIGRATIONS_DIR } from '../../../services/ml-server/paths.ts';
import { createTestDatabase, defaultEndpoints, driverEnv, memoryLog, type Endpoints, type TestBridge } from './content-bridge.ts';
import { acquireMemoryCache, EMBEDDED, embeddedStore, isEmbeddedUrl, openTestDatabase } from './drivers.ts';

export interface TestMlServer {
  url: string;
  server: MlServer;
  deps: Deps;
  readDb: Database;
  config: MlServerConfig;
  databaseUrl: string;
  bucket: string;
  jwtSecret: string;
  logLines: string[];
  /** Signs an access token the server accepts (same secret, issuer and audience as the bridge). */
  token(subject: { userId?: string; username?: string; roles: Role[] }): string;
  close(): Promise<void>;
}

export interface StartMlOptions {
  endpoints?: Endpoints;
  /** Share database, JWT secret, Redis key prefix and login forwarding with this Content Bridge. */
  bridge?: TestBridge;
  databaseUrl?: string;
  contentBridgeUrl?: string;
  jwtSecret?: string;
  redisKeyPrefix?: string;
  /** Reuse a bucket (e.g. to restart a server on the same artifacts). */
  bucket?: string;
  env?: Record<string, string>;
}

export async function startTestMlServer(opts: StartMlOptions = {}): Promise<TestMlServer> {
  const endpoints = opts.endpoints ?? defaultEndpoints();
  const bridgeConfig = opts.bridge?.bridge.context.config;
  const databaseUrl = opts.databaseUrl ?? opts.bridge?.databaseUrl ?? (await createTestDatabase(endpoints.postgresUrl));
  const jwtSecret = opts.jwtSecret ?? bridgeConfig?.JWT_SECRET ?? randomBytes(32).toString('hex');
  const bucket = opts.bucket ?? `t-ml-${randomUUID().slice(0, 13)}`;
  // An embedded read-only "URL" (createReadOnlyRole) is not a postgres:// URL: it is opened here, not by the config.
  const { ML_READONLY_DATABASE_URL: readOnlyUrl, ...env } = opts.env ?? {};
  const embeddedReadOnly = readOnlyUrl !== undefined && isEmbeddedUrl(readOnlyUrl);
  const config = loadMlServerConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    ...driverEnv(endpoints, databaseUrl),
    ...(readOnlyUrl !== undefined && !embeddedReadOnly ? { ML_READONLY_DATABASE_URL: readOnlyUrl } : {}),
    S3_BUCKET: bucket,
    JWT_SECRET: jwtSecret,
    ...(bridgeConfig ? { JWT_ISSUER: bridgeConfig.JWT_ISSUER, JWT_AUDIENCE: bridgeConfig.JWT_AUDIENCE } : {}),
    CONTENT_BRIDGE_URL: opts.contentBridgeUrl ?? opts.bridge?.url ?? 'http://127.0.0.1:9',
    REDIS_KEY_PREFIX: opts.redisKeyPrefix ?? (opts.bridge ? `${opts.bridge.bucket}:` : `${bucket}:`),
    ML_INSTANCE_ID: `test-${randomUUID().slice(0, 8)}`,
    PREDICTION_LOG_FLUSH_MS: '100',
    ...env,
  });
  const log = memoryLog();
  const logger = createLogger({ service: 'ml-server-test', level: config.LOG_LEVEL, destination: log.stream });
  let url = '';
  const { deps, readDb } = EMBEDDED ? embeddedMlDeps() : createMlDeps(config);
  /** What createMlDeps builds, with the embedded drivers: the database and cache shared with a bridge given the same URL and prefix. */
  function embeddedMlDeps(): { deps: Deps; readDb: Database } {
    const db = openTestDatabase(databaseUrl);
    return {
      deps: { db, cache: acquireMemoryCache(config.REDIS_KEY_PREFIX), store: embeddedStore(bucket, () => url) },
      readDb: readOnlyUrl !== undefined ? openTestDatabase(readOnlyUrl) : db,
    };
  }
  await migrate(deps.db, 'ml-server', loadMigrations(MIGRATIONS_DIR));
  const server = buildMlServer({ config, deps, logger, readDb });
  await prepareMlServer(server.context);
  const running = await listen({
    app: server.app,
    health: server.health,
    logger,
    port: 0,
    host: '127.0.0.1',
    graceMs: 2000,
    closers: [
      () => stopBackground(server.context),
      async () => {
        if (readDb !== deps.db) await readDb.close();
      },
      () => deps.db.close(),
      () => deps.cache.close(),
    ],
  });
  url = `http://127.0.0.1:${running.port}`;
  await startBackground(server.context);
  const settings = tokenSettingsFromConfig(config);
  return {
    url,
    server,
    deps,
    readDb,
    config,
    databaseUrl,
    bucket,
    jwtSecret,
    logLines: log.lines,
    token: (s) =>
      signAccessToken(settings, {
        userId: s.userId ?? randomUUID(),
        username: s.username ?? `user-${s.roles.join('-') || 'none'}`,
        roles: s.roles,
      }).token,
    close: () => running.shutdown('test finished'),
  };
}

/** The Content Bridge's tables (its migrations, content.learning_events included) on `databaseUrl`. */
export async function ensureContentSchema(databaseUrl: string): Promise<void> {
  const db = openTestDatabase(databaseUrl, { poolSize: 1 });
  try {
    await migrate(db, 'content-bridge', loadMigrations(CONTENT_MIGRATIONS_DIR));
  } finally {
    await db.close();
  }
}

/**
 * A login role that can only read the content schema: what ML_READONLY_DATABASE_URL is for. Embedded,
 * the same role and grants are created, and the URL names the role (drivers.ts switches to it).
 */
export async function createReadOnlyRole(databaseUrl: string): Promise<string> {
  const role = `ml_ro_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
  const password = randomBytes(12).toString('hex');
  if (isEmbeddedUrl(databaseUrl)) {
    const db = openTestDatabase(databaseUrl);
    try {
      await db.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
      await db.query(`GRANT USAGE ON SCHEMA content TO ${role}`);
      await db.query(`GRANT SELECT ON ALL TABLES IN SCHEMA content TO ${role}`);
    } finally {
      await db.close();
    }
    const url = new URL(databaseUrl);
    url.searchParams.set('role', role);
    return url.toString();
  }
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const dbName = new URL(databaseUrl).pathname.slice(1);
    await client.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
    await client.query(`GRANT CONNECT ON DATABASE ${dbName} TO ${role}`);
    await client.query(`GRANT USAGE ON SCHEMA content TO ${role}`);
    await client.query(`GRANT SELECT ON ALL TABLES IN SCHEMA content TO ${role}`);
    await client.query(`ALTER ROLE ${role} SET default_transaction_read_only = on`);
  } finally {
    await client.end();
  }
  const url = new URL(databaseUrl);
  url.username = role;
  url.password = password;
  return url.toString();
}

/** A multipart body for POST /models/{name}/versions: the text fields, then the artifact (or the artifact first). */
export function artifactForm(
  artifact: string | Uint8Array | object,
  fields: Record<string, string> = {},
  order: 'fields first' | 'file first' = 'fields first',
): FormData {
  const form = new FormData();
  const appendFields = () => {
    for (const [name, value] of Object.entries(fields)) form.append(name, value);
  };
  if (order === 'fields first') appendFields();
  const bytes = typeof artifact === 'string' || artifact instanceof Uint8Array ? artifact : JSON.stringify(artifact);
  form.append('file', new Blob([typeof bytes === 'string' ? bytes : Buffer.from(bytes)], { type: 'application/json' }), 'model.json');
  if (order === 'file first') appendFields();
  return form;
}

/** Uploads an artifact; returns status and parsed body. */
export async function uploadVersion(
  url: string,
  token: string,
  model: string,
  artifact: string | Uint8Array | object,
  fields: Record<string, string> = {},
  order: 'fields first' | 'file first' = 'fields first',
) {
  const res = await fetch(`${url}/models/${model}/versions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: artifactForm(artifact, fields, order),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as any) : undefined };
}
