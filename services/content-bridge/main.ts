/**
 * Content Bridge entry point. Start with tracing preloaded:
 *   node --import ./services/kit/observability/register-tracing.ts services/content-bridge/main.ts
 */
import { closeDeps, createDeps } from '../kit/deps/index.ts';
import { runMain } from '../kit/lifecycle.ts';
import { buildContentBridge, ensureFirstAdmin, SERVICE_NAME } from './app.ts';
import { loadContentBridgeConfig } from './config.ts';
import { MIGRATIONS_DIR } from './paths.ts';

runMain({
  name: SERVICE_NAME,
  migrationsDir: MIGRATIONS_DIR,
  loadConfig: loadContentBridgeConfig,
  connect: (config) => ({ deps: createDeps(config, SERVICE_NAME) }),
  async ready({ deps }, logger) {
    await deps.store.ensureBucket();
    // Commands fail fast while Redis is unreachable (no offline queue): wait briefly for the first connection.
    if (!(await deps.cache.ready(5000))) logger.warn('redis is not reachable yet; continuing without the cache');
  },
  build: (config, { deps }, logger) => buildContentBridge({ config, deps, logger }),
  prepare: async (bridge) => {
    await ensureFirstAdmin(bridge.context);
  },
  closers: ({ deps }) => [() => closeDeps(deps)],
});
