/**
 * A service process's life: the background tasks that run beside the HTTP server, and the `main.ts`
 * sequence both APIs share (config, logger, dependencies, migrations, build, listen, background).
 */
import { exitOnConfigError } from './config.ts';
import type { Deps } from './deps/index.ts';
import { describeUnknownMigrations, loadMigrations, migrate } from './deps/migrations.ts';
import type { ServiceApp } from './http/app.ts';
import { listen } from './http/server.ts';
import { createLogger, type Logger } from './observability/logger.ts';

/** Background work (e.g. the analytics forwarder) started after listen and stopped before the pools close. */
export interface BackgroundTask {
  name: string;
  start(): void | Promise<void>;
  stop(): Promise<void>;
}

/** What owns background tasks: an API's context. */
export interface BackgroundOwner {
  background: BackgroundTask[];
  logger: Logger;
}

/** Starts the tasks in the order they were registered. */
export async function startBackground(owner: BackgroundOwner): Promise<void> {
  for (const task of owner.background) await task.start();
}

/** Stops the tasks in reverse order; a task that fails to stop is logged and the others still stop. */
export async function stopBackground(owner: BackgroundOwner): Promise<void> {
  for (const task of [...owner.background].reverse()) {
    await task.stop().catch((err) => owner.logger.warn({ err, task: task.name }, 'background task failed to stop'));
  }
}

/** How long a stopping API answers with `Connection: close` before it closes its connections. */
export const SHUTDOWN_DRAIN_MS = 3_000;

/** The settings every API's main reads. */
export interface MainConfig {
  PORT: number;
  HOST: string;
  LOG_LEVEL: string;
  LOG_BUFFER_BYTES: number;
  SHUTDOWN_GRACE_MS: number;
}

export interface ServiceMain<C extends MainConfig, R extends { deps: Deps }, S extends ServiceApp & { context: BackgroundOwner }> {
  /** The service's name: its logs, its migrations' owner and its start-up failure message. */
  name: string;
  migrationsDir: string;
  loadConfig(): C;
  /** Creates the dependencies (R holds them and anything else the service opens). */
  connect(config: C): R;
  /** Waits for what the build needs from the dependencies, once the migrations are applied. */
  ready?(resources: R, logger: Logger): Promise<void>;
  /** Builds the app. */
  build(config: C, resources: R, logger: Logger): S;
  /** Work between building and listening: buckets, first accounts, recovery. */
  prepare(service: S, resources: R, logger: Logger): Promise<void>;
  /** Close what connect() opened, in order, after the background tasks have stopped (each failure is logged). */
  closers(resources: R): Array<() => Promise<void>>;
}

/** A ConfigError from `fn` prints one line and exits non-zero, like a bad environment variable. */
function orExitOnConfigError<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    exitOnConfigError(err);
  }
}

async function runService<C extends MainConfig, R extends { deps: Deps }, S extends ServiceApp & { context: BackgroundOwner }>(
  spec: ServiceMain<C, R, S>,
): Promise<void> {
  const config = orExitOnConfigError(() => spec.loadConfig());
  const logger = createLogger({ service: spec.name, level: config.LOG_LEVEL, bufferBytes: config.LOG_BUFFER_BYTES });
  const resources = orExitOnConfigError(() => spec.connect(config));
  const applied = await migrate(resources.deps.db, spec.name, loadMigrations(spec.migrationsDir), {
    onUnknown: (unknown) => logger.warn({ unknown: unknown.map((m) => m.version) }, describeUnknownMigrations(unknown)),
  });
  if (applied.length) logger.info({ applied }, 'migrations applied');
  await spec.ready?.(resources, logger);
  const service = orExitOnConfigError(() => spec.build(config, resources, logger));
  await spec.prepare(service, resources, logger);
  const running = await listen({
    app: service.app,
    health: service.health,
    logger,
    port: config.PORT,
    host: config.HOST,
    graceMs: config.SHUTDOWN_GRACE_MS,
    // Clients that keep connections alive get `Connection: close` for a while before the server closes.
    drainMs: Math.min(SHUTDOWN_DRAIN_MS, config.SHUTDOWN_GRACE_MS / 2),
    closers: [() => stopBackground(service.context), ...spec.closers(resources)],
    exitProcess: true,
  });
  await startBackground(service.context);
  logger.info({ port: running.port }, `${spec.name.replace('-', ' ')} listening`);
}

/** Runs a service's main; a failure before it listens prints one line and exits 1. */
export function runMain<C extends MainConfig, R extends { deps: Deps }, S extends ServiceApp & { context: BackgroundOwner }>(
  spec: ServiceMain<C, R, S>,
): void {
  runService(spec).catch((err) => {
    process.stderr.write(`${spec.name} failed to start: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
