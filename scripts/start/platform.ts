/**
 * The whole platform in ONE Node process: the Content Bridge and the ML Server, built by their own
 * `build*` functions with their own configuration, migrations and routes, exactly as their `main.ts`
 * builds them, but on ONE set of dependencies.
 *
 * Why one process: the ML Server reads what the Content Bridge writes (learning events, progress,
 * content) from the same database, and PGlite is a single-process database. Two child processes
 * would each need their own PGlite, i.e. two databases. Sharing one instance (and one in-process
 * cache, so a revoked token is revoked for both, as the shared Redis namespace does in production)
 * is what keeps the services' data flows identical. With real servers configured (DATABASE_URL,
 * REDIS_URL, S3_ENDPOINT) the same process simply uses them.
 */
import { randomInt } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { pino } from 'pino';
import { hashPassword } from '../../services/kit/auth/passwords.ts';
import { createPgDatabase } from '../../services/kit/deps/database.ts';
import { closeDeps, createDeps, type CreatedDeps, type Drivers } from '../../services/kit/deps/index.ts';
import { persistedSecret } from '../../services/kit/deps/embedded/secrets.ts';
import { loadMigrations, migrate } from '../../services/kit/deps/migrations.ts';
import { listen, type RunningServer } from '../../services/kit/http/server.ts';
import { startBackground, stopBackground } from '../../services/kit/lifecycle.ts';
import { createLogger, type Logger } from '../../services/kit/observability/logger.ts';
import { buildContentBridge, ensureFirstAdmin } from '../../services/content-bridge/app.ts';
import { loadContentBridgeConfig, type ContentBridgeConfig } from '../../services/content-bridge/config.ts';
import { MIGRATIONS_DIR as BRIDGE_MIGRATIONS } from '../../services/content-bridge/paths.ts';
import { buildMlServer, prepareMlServer } from '../../services/ml-server/app.ts';
import { loadMlServerConfig, type MlServerConfig } from '../../services/ml-server/config.ts';
import { MIGRATIONS_DIR as ML_MIGRATIONS } from '../../services/ml-server/paths.ts';
import { seedSampleData, type SeedResult } from './seed.ts';
import { readSeedMarker, writeSeedMarker } from './state.ts';

export interface PlatformOptions {
  env: NodeJS.ProcessEnv;
  dataDir: string;
  portContentBridge: number;
  portMlServer: number;
  host: string;
  /** Also write the services' logs to stdout (they always go to <dataDir>/logs/platform.log). */
  verbose: boolean;
  /** Progress lines for the person waiting. */
  say: (line: string) => void;
}

export type AdminSource = 'env' | 'generated' | 'existing';

export interface Platform {
  bridgeUrl: string;
  mlUrl: string;
  drivers: Drivers;
  dataDir: string;
  logFile: string;
  admin: { username: string; email: string; source: AdminSource; password: string | undefined };
  seeded: SeedResult | undefined;
  seededNow: boolean;
  shutdown(reason: string): Promise<void>;
}

export class PortInUseError extends Error {
  readonly port: number;
  readonly service: string;
  constructor(service: string, port: number) {
    super(`port ${port} (${service}) is already in use`);
    this.port = port;
    this.service = service;
  }
}

/** Fails fast, before the database opens, when a port is taken. */
async function checkPort(service: string, port: number, host: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => reject(err.code === 'EADDRINUSE' ? new PortInUseError(service, port) : err));
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}

async function listenOn(service: string, port: number, run: () => Promise<RunningServer>): Promise<RunningServer> {
  try {
    return await run();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new PortInUseError(service, port);
    throw err;
  }
}

/** The host name clients on this machine use to reach a server listening on `host`. */
const reachable = (host: string) => (host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host);

/** The environment each service sees: the caller's, plus what the local mode decides. */
export function serviceEnvironments(opts: Pick<PlatformOptions, 'env' | 'dataDir' | 'portContentBridge' | 'portMlServer' | 'host'>) {
  const env = opts.env;
  const shared: NodeJS.ProcessEnv = {
    ...env,
    HMA_EMBEDDED: 'true',
    HMA_DATA_DIR: opts.dataDir,
    HOST: opts.host,
    LOG_LEVEL: env.LOG_LEVEL ?? 'info',
  };
  // A JWT key the two services share: configured, or generated once into the data dir.
  if (!env.JWT_SECRET && !env.JWT_PUBLIC_KEY_FILE) shared.JWT_SECRET = persistedSecret(opts.dataDir, 'jwt');
  // Where clients reach the Content Bridge (presigned URLs of the filesystem store point there).
  const publicBridge = env.PUBLIC_BASE_URL ?? `http://${reachable(opts.host)}:${opts.portContentBridge}`;
  return {
    bridge: { ...shared, PORT: String(opts.portContentBridge), PUBLIC_BASE_URL: publicBridge },
    ml: {
      ...shared,
      PORT: String(opts.portMlServer),
      CONTENT_BRIDGE_URL: env.CONTENT_BRIDGE_URL ?? `http://127.0.0.1:${opts.portContentBridge}`,
      ML_INSTANCE_ID: env.ML_INSTANCE_ID ?? 'local',
    },
  };
}

function platformLogger(service: string, level: string, file: string, verbose: boolean): Logger {
  const out = createWriteStream(file, { flags: 'a' });
  const destination = verbose ? pino.multistream([{ stream: out }, { stream: process.stdout }]) : out;
  return createLogger({ service, level, destination });
}

export async function startPlatform(opts: PlatformOptions): Promise<Platform> {
  const envs = serviceEnvironments(opts);
  const bridgeConfig: ContentBridgeConfig = loadContentBridgeConfig(envs.bridge);
  const mlConfig: MlServerConfig = loadMlServerConfig(envs.ml);

  await checkPort('Content Bridge', opts.portContentBridge, opts.host);
  await checkPort('ML Server', opts.portMlServer, opts.host);

  const logDir = join(opts.dataDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const logFile = join(logDir, 'platform.log');
  const bridgeLog = platformLogger('content-bridge', bridgeConfig.LOG_LEVEL, logFile, opts.verbose);
  const mlLog = platformLogger('ml-server', mlConfig.LOG_LEVEL, logFile, opts.verbose);

  // One set of dependencies for both services (see the header).
  const deps: CreatedDeps = createDeps(bridgeConfig, 'content-bridge');
  const readDb = mlConfig.ML_READONLY_DATABASE_URL
    ? createPgDatabase(mlConfig.ML_READONLY_DATABASE_URL, { poolSize: 2, applicationName: 'ml-server-reader' })
    : deps.db;
  const opened: RunningServer[] = [];
  try {
    opts.say(deps.drivers.database === 'pglite' ? 'opening the embedded database' : 'connecting to PostgreSQL');
    const appliedBridge = await migrate(deps.db, 'content-bridge', loadMigrations(BRIDGE_MIGRATIONS));
    const appliedMl = await migrate(deps.db, 'ml-server', loadMigrations(ML_MIGRATIONS));
    if (appliedBridge.length + appliedMl.length)
      opts.say(`migrations applied: content-bridge ${appliedBridge.join(',') || '-'}, ml-server ${appliedMl.join(',') || '-'}`);
    await deps.store.ensureBucket();

    const bridge = buildContentBridge({ config: bridgeConfig, deps, logger: bridgeLog });
    // The first admin: from ADMIN_EMAIL/ADMIN_PASSWORD, else generated now and shown once.
    const users = bridge.context.users;
    let admin: Platform['admin'];
    if (await users.anyAdmin()) {
      admin = { username: bridgeConfig.ADMIN_USERNAME, email: bridgeConfig.ADMIN_EMAIL ?? '', source: 'existing', password: undefined };
    } else if (bridgeConfig.ADMIN_EMAIL && bridgeConfig.ADMIN_PASSWORD) {
      await ensureFirstAdmin(bridge.context); // the production path
      admin = {
        username: bridgeConfig.ADMIN_USERNAME,
        email: bridgeConfig.ADMIN_EMAIL,
        source: 'env',
        password: bridgeConfig.ADMIN_PASSWORD,
      };
    } else {
      // ADMIN_PASSWORD alone is honoured (with a local e-mail address); with neither, one is generated.
      const password = bridgeConfig.ADMIN_PASSWORD ?? generatePassword();
      const email = bridgeConfig.ADMIN_EMAIL ?? 'admin@huntmaster.localhost';
      await users.create({
        username: bridgeConfig.ADMIN_USERNAME,
        email,
        passwordHash: await hashPassword(password),
        profile: {},
        roles: ['admin', 'instructor'],
      });
      admin = { username: bridgeConfig.ADMIN_USERNAME, email, source: bridgeConfig.ADMIN_PASSWORD ? 'env' : 'generated', password };
    }

    const ml = buildMlServer({ config: mlConfig, deps, logger: mlLog, readDb });
    await prepareMlServer(ml.context);

    let closing: Promise<void> | undefined;
    const shutdown = (reason: string) =>
      (closing ??= (async () => {
        // Both stop taking traffic (readiness 503, servers close, in-flight requests finish), then the
        // background work stops, and only then the shared dependencies close.
        await Promise.allSettled(opened.map((s) => s.shutdown(reason)));
        if (readDb !== deps.db) await readDb.close().catch(() => undefined);
        await closeDeps(deps);
      })());

    const bridgeServer = await listenOn('Content Bridge', opts.portContentBridge, () =>
      listen({
        app: bridge.app,
        health: bridge.health,
        logger: bridgeLog,
        port: bridgeConfig.PORT,
        host: bridgeConfig.HOST,
        graceMs: bridgeConfig.SHUTDOWN_GRACE_MS,
        closers: [() => stopBackground(bridge.context)],
      }),
    );
    opened.push(bridgeServer);
    const mlServer = await listenOn('ML Server', opts.portMlServer, () =>
      listen({
        app: ml.app,
        health: ml.health,
        logger: mlLog,
        port: mlConfig.PORT,
        host: mlConfig.HOST,
        graceMs: mlConfig.SHUTDOWN_GRACE_MS,
        closers: [() => stopBackground(ml.context)],
      }),
    );
    opened.push(mlServer);
    await startBackground(bridge.context);
    await startBackground(ml.context);

    const local = (port: number) => `http://${reachable(opts.host)}:${port}`;
    const bridgeUrl = local(bridgeServer.port);
    const mlUrl = local(mlServer.port);

    // Sample data, once per data directory.
    let seeded = readSeedMarker(opts.dataDir);
    let seededNow = false;
    if (!seeded) {
      const adminRow = await users.findByLogin({ username: bridgeConfig.ADMIN_USERNAME });
      if (adminRow?.roles.includes('admin')) {
        seeded = await seedSampleData({
          bridgeUrl,
          mlUrl,
          tokens: bridge.context.tokens,
          users,
          admin: { id: adminRow.id, username: adminRow.username, roles: adminRow.roles },
          modelName: mlConfig.COMPLETION_RISK_MODEL,
          progress: (s) => opts.say(`sample data: ${s}`),
        });
        writeSeedMarker(opts.dataDir, seeded);
        seededNow = true;
      } else {
        opts.say(`sample data skipped: no admin named '${bridgeConfig.ADMIN_USERNAME}'`);
      }
    }
    return { bridgeUrl, mlUrl, drivers: deps.drivers, dataDir: opts.dataDir, logFile, admin, seeded, seededNow, shutdown };
  } catch (err) {
    await Promise.allSettled(opened.map((s) => s.shutdown('startup failed')));
    if (readDb !== deps.db) await readDb.close().catch(() => undefined);
    await closeDeps(deps);
    throw err;
  }
}

/** 20 characters from an unambiguous alphabet (about 115 bits), dashed in fours for reading aloud. */
function generatePassword(): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789';
  const chars = Array.from({ length: 20 }, () => alphabet[randomInt(alphabet.length)]);
  return [0, 4, 8, 12, 16].map((i) => chars.slice(i, i + 4).join('')).join('-');
}
