import { defineConfig } from 'vitest/config';

// Six projects, from no dependencies to a real node running our images. Each integration tier starts
// its real components in a global setup and stops them at the end, whatever the tests did.
export default defineConfig({
  test: {
    pool: 'forks', // child processes, not threads: the harness relies on per-process parent-death signals
    // Every project but `node` (2), which runs last. Not 0: vitest runs group 0's files after all others when one worker is all it has.
    sequence: { groupOrder: 1 },
    testTimeout: 60_000,
    hookTimeout: 180_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['tests/unit/**/*.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.ts'],
          exclude: ['tests/integration/embedded/**'], // embedded-only: `npm start` needs no real servers
          globalSetup: ['tests/setup/data-services.ts'],
        },
      },
      {
        // The same API suites against the embedded drivers (PGlite, in-process cache, filesystem store):
        // the support helpers pick the drivers from HMA_TEST_DRIVERS. No real servers are started, so
        // the files that are about the real servers themselves are left out.
        extends: true,
        test: {
          name: 'integration-embedded',
          include: ['tests/integration/**/*.test.ts'],
          exclude: [
            'tests/integration/smoke.test.ts', // talks to the real PostgreSQL, Redis and MinIO directly
            'tests/integration/drivers-parity.test.ts', // compares PGlite with the real PostgreSQL
            'tests/integration/content-bridge/dependencies.test.ts', // stops and restarts PostgreSQL and Redis; main.ts with real URLs
            'tests/integration/content-bridge/content-resilience.test.ts', // stops and restarts Redis, MinIO and PostgreSQL
            'tests/integration/content-bridge/tracing.test.ts', // spawns main.ts with real URLs and traces pg/ioredis spans
            'tests/integration/ml-server/resilience.test.ts', // stops and restarts Redis; Redis pub/sub between replicas
            'tests/integration/content-bridge/backup.test.ts', // pg_dump and pg_restore against the real PostgreSQL
          ],
          globalSetup: ['tests/setup/embedded.ts'],
          env: { HMA_TEST_DRIVERS: 'embedded' },
        },
      },
      {
        extends: true,
        test: {
          name: 'operator',
          include: ['tests/operator/**/*.test.ts'],
          globalSetup: ['tests/setup/control-plane.ts'],
          env: { HMA_TIER: 'apiserver' },
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['tests/e2e/**/*.test.ts'],
          globalSetup: ['tests/setup/control-plane.ts'],
          env: { HMA_TIER: 'cluster' },
          testTimeout: 180_000,
        },
      },
      {
        // Real containers on a real kubelet (tests/harness/node). Its files run after every other
        // project's, so its pods have the two cores to themselves; they share one node.
        extends: true,
        test: {
          name: 'node',
          include: ['tests/node/**/*.test.ts'],
          globalSetup: ['tests/setup/control-plane.ts'],
          env: { HMA_TIER: 'node' },
          testTimeout: 300_000,
          hookTimeout: 600_000,
          // One node: its files take turns, as one cluster's users would not share it blindly.
          fileParallelism: false,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
