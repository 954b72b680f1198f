/**
 * The real entry points: `migrate.ts`, then `main.ts` started as production does (with the embedded
 * drivers, as `npm start` does, in the embedded project), stopped by SIGTERM.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort, waitUntil } from '../../harness/index.ts';
import { REPO_ROOT } from '../../harness/paths.ts';
import { createTestDatabase, defaultEndpoints } from '../support/content-bridge.ts';
import { EMBEDDED } from '../support/drivers.ts';
import { client } from '../support/http.ts';

describe('ML Server process', () => {
  it('migrates, serves, refuses bad config with one line, and exits 0 on SIGTERM', async () => {
    const node = `${REPO_ROOT}/node_modules/.bin/node`;
    const dataDir = mkdtempSync(join(tmpdir(), 'ml-proc-'));
    let dependencies: Record<string, string>;
    if (EMBEDDED) {
      dependencies = { HMA_EMBEDDED: 'true', HMA_DATA_DIR: dataDir };
    } else {
      const endpoints = defaultEndpoints();
      const databaseUrl = await createTestDatabase(endpoints.postgresUrl);
      const migrated = spawnSync(node, ['services/ml-server/migrate.ts'], {
        cwd: REPO_ROOT,
        env: { PATH: process.env.PATH, DATABASE_URL: databaseUrl },
        encoding: 'utf8',
      });
      expect(migrated.status, migrated.stderr).toBe(0);
      expect(migrated.stdout).toMatch(/applied migrations: 1/);
      dependencies = {
        DATABASE_URL: databaseUrl,
        REDIS_URL: endpoints.redisUrl,
        REDIS_KEY_PREFIX: `proc-${randomBytes(4).toString('hex')}:`,
        S3_ENDPOINT: endpoints.minio.endpoint,
        S3_ACCESS_KEY: endpoints.minio.accessKey,
        S3_SECRET_KEY: endpoints.minio.secretKey,
      };
    }

    const badConfig = spawnSync(node, ['services/ml-server/main.ts'], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH, PREDICTION_LOG_SAMPLE_RATE: '2', JWT_SECRET: randomBytes(32).toString('hex') },
      encoding: 'utf8',
    });
    expect(badConfig.status).toBe(78);
    expect(badConfig.stderr.trim()).toMatch(/^invalid configuration: PREDICTION_LOG_SAMPLE_RATE /);

    const port = await freePort();
    const secret = randomBytes(32).toString('hex');
    const child = spawn(node, ['--import', './services/kit/observability/register-tracing.ts', 'services/ml-server/main.ts'], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH,
        PORT: String(port),
        HOST: '127.0.0.1',
        ...dependencies,
        S3_BUCKET: `ml-proc-${randomBytes(4).toString('hex')}`,
        JWT_SECRET: secret,
        SHUTDOWN_GRACE_MS: '5000',
      },
    });
    let output = '';
    child.stdout.on('data', (c) => (output += c));
    child.stderr.on('data', (c) => (output += c));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const api = client(`http://127.0.0.1:${port}`);
    try {
      await waitUntil('ml server up', async () => (await api.get('/readyz').catch(() => ({ status: 0 }))).status === 200, {
        timeoutMs: 30_000,
      });
      expect((await api.get('/')).body).toMatchObject({ service: 'ml-server', status: 'healthy' });
      expect((await api.get('/models')).status).toBe(401);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      const messages = output
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).msg);
      expect(messages).toEqual(expect.arrayContaining(['ml server listening', 'shutting down', 'shutdown complete']));
      expect(output).not.toContain(secret);
    } finally {
      child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
