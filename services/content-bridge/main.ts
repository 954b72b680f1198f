/**
 * Content Bridge entry point. Start with tracing preloaded:
 *   node --import ./services/kit/observability/register-tracing.ts services/content-bridge/main.ts
 */
import { exitOnConfigError } from '../kit/config.ts';
import { closeDeps, createDeps } from '../kit/deps/index.ts';
import { loadMigrations, migrate } from '../kit/deps/migrations.ts';
import { listen } from '../kit/http/server.ts';
import { createLogger } from '../kit/observability/logger.ts';
import { buildContentBridge, ensureFirstAdmin, SERVICE_NAME, startBackground, stopBackground } from './app.ts';
import { loadContentBridgeConfig } from './config.ts';
import { MIGRATIONS_DIR } from './paths.ts';

async function main() {
  let config;
  try {
    config = loadContentBridgeConfig();
  } catch (err) {
    exitOnConfigError(err);
  }
  const logger = createLogger({ service: SERVICE_NAME, level: config.LOG_LEVEL, bufferBytes: config.LOG_BUFFER_BYTES });
  let deps;
  try {
    deps = createDeps(config, SERVICE_NAME);
  } catch (err) {
    exitOnConfigError(err);
  }
  const applied = await migrate(deps.db, SERVICE_NAME, loadMigrations(MIGRATIONS_DIR));
  if (applied.length) logger.info({ applied }, 'migrations applied');
  await deps.store.ensureBucket();
  // Commands fail fast while Redis is unreachable (no offline queue): wait briefly for the first connection.
  if (!(await deps.cache.ready(5000))) logger.warn('redis is not reachable yet; continuing without the cache');
  const bridge = buildContentBridge({ config, deps, logger });
  await ensureFirstAdmin(bridge.context);
  const running = await listen({
    app: bridge.app,
    health: bridge.health,
    logger,
    port: config.PORT,
    host: config.HOST,
    graceMs: config.SHUTDOWN_GRACE_MS,
    closers: [() => stopBackground(bridge.context), () => closeDeps(deps)],
    exitProcess: true,
  });
  await startBackground(bridge.context);
  logger.info({ port: running.port }, 'content bridge listening');
}

main().catch((err) => {
  process.stderr.write(`content-bridge failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});
