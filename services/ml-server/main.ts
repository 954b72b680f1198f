/**
 * ML Server entry point. Start with tracing preloaded:
 *   node --import ./services/kit/observability/register-tracing.ts services/ml-server/main.ts
 */
import { closeDeps } from '../kit/deps/index.ts';
import { runMain } from '../kit/lifecycle.ts';
import { buildMlServer, createMlDeps, prepareMlServer, SERVICE_NAME } from './app.ts';
import { loadMlServerConfig } from './config.ts';
import { MIGRATIONS_DIR } from './paths.ts';

runMain({
  name: SERVICE_NAME,
  migrationsDir: MIGRATIONS_DIR,
  loadConfig: loadMlServerConfig,
  connect: createMlDeps,
  build: (config, { deps, readDb }, logger) => buildMlServer({ config, deps, logger, readDb }),
  prepare: (server) => prepareMlServer(server.context),
  closers: ({ deps, readDb }) => [
    async () => {
      if (readDb !== deps.db) await readDb.close();
    },
    () => closeDeps(deps),
  ],
});
