/**
 * ML Server entry point. Start with tracing preloaded:
 *   node --import ./services/kit/observability/register-tracing.ts services/ml-server/main.ts
 */
import { exitOnConfigError } from '../kit/config.ts';
import { closeDeps } from '../kit/deps/index.ts';
import { loadMigrations, migrate } from '../kit/deps/migrations.ts';
import { listen } from '../kit/http/server.ts';
import { createLogger } from '../kit/observability/logger.ts';
import { buildMlServer, createMlDeps, prepareMlServer, SERVICE_NAME, startBackground, stopBackground } from './app.ts';
import { loadMlServerConfig } from './config.ts';
import { MIGRATIONS_DIR } from './paths.ts';

async function main() {
  let config;
  try {
    config = loadMlServerConfig();
  } catch (err) {
    exitOnConfigError(err);
  }
  const logger = createLogger({ service: SERVICE_NAME, level: config.LOG_LEVEL, bufferBytes: config.LOG_BUFFER_BYTES });
  let built;
  try {
    built = createMlDeps(config);
  } catch (err) {
    exitOnConfigError(err);
  }
  const { deps, readDb } = built;
  const applied = await migrate(deps.db, SERVICE_NAME, loadMigrations(MIGRATIONS_DIR));
  if (applied.length) logger.info({ applied }, 'migrations applied');
  let server;
  try {
    server = buildMlServer({ config, deps, logger, readDb });
  } catch (err) {
    exitOnConfigError(err);
  }
  await prepareMlServer(server.context);
  const running = await listen({
    app: server.app,
    health: server.health,
    logger,
    port: config.PORT,
    host: config.HOST,
    graceMs: config.SHUTDOWN_GRACE_MS,
    closers: [
      () => stopBackground(server.context),
      async () => {
        if (readDb !== deps.db) await readDb.close();
      },
      () => closeDeps(deps),
    ],
    exitProcess: true,
  });
  await startBackground(server.context);
  logger.info({ port: running.port }, 'ml server listening');
}

main().catch((err) => {
  process.stderr.write(`ml-server failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});
