import { defineConfig } from 'vitest/config';

// Four projects, from no dependencies to a whole fake cluster. Each integration tier starts its real
// components in a global setup and stops them at the end, whatever the tests did.
export default defineConfig({
  test: {
    pool: 'forks', // child processes, not threads: the harness relies on per-process parent-death signals
    testTimeout: 60_000,
    hookTimeout: 180_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['tests/unit/**/*.test.ts'] } },
      {
        extends: true,
        test: { name: 'integration', include: ['tests/integration/**/*.test.ts'], globalSetup: ['tests/setup/data-services.ts'] },
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
    ],
  },
});
