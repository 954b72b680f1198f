/**
 * Dependency failures during requests, against servers this file owns so it can stop them:
 * Redis down, PostgreSQL down and back, and a graceful SIGTERM of the real process.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startPostgres, startRedis, waitUntil, type PostgresHandle, type RedisHandle } from '../../harness/index.ts';
import { REPO_ROOT } from '../../harness/paths.ts';
import { client, signUp } from '../support/http.ts';
import { createTestDatabase, defaultEndpoints, startTestBridge } from '../support/content-bridge.ts';

/** hma_dependency_up of one dependency, as Prometheus would scrape it. */
async function dependencyUp(url: string, dependency: string): Promise<number | undefined> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = new RegExp(`^hma_dependency_up\\{[^}]*dependency="${dependency}"[^}]*\\} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

describe('Redis down', () => {
  let redis: RedisHandle;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis?.close());

  it('keeps logins and reads working, uncached, and turns /readyz to 503', async () => {
    const bridge = await startTestBridge({ endpoints: { ...defaultEndpoints(), redisUrl: redis.url } });
    try {
      const api = client(bridge.url);
      const user = await signUp(api, { username: 'redis_outage' });
      await redis.stop();

      const ready = await api.get('/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body.status).toMatch(/redis/);
      expect(ready.body.checks.postgres).toBe('ok');
      // The same checks at scrape time, one series per dependency.
      expect(await dependencyUp(bridge.url, 'redis')).toBe(0);
      expect(await dependencyUp(bridge.url, 'postgres')).toBe(1);
      expect(await dependencyUp(bridge.url, 'object-store')).toBe(1);

      const login = await api.post('/auth/login', { username: 'redis_outage', password: user.password });
      expect(login.status).toBe(200);
      const me = await api.get('/api/users/me', login.body.access_token);
      expect(me.status).toBe(200);
      expect(me.body.username).toBe('redis_outage');

      await redis.start();
      await waitUntil('readyz recovers', async () => (await api.get('/readyz')).status === 200, { timeoutMs: 15_000 });
      expect(await dependencyUp(bridge.url, 'redis')).toBe(1);
    } finally {
      await bridge.close();
    }
  });
});

describe('PostgreSQL down', () => {
  let postgres: PostgresHandle;
  beforeAll(async () => {
    postgres = await startPostgres();
  });
  afterAll(() => postgres?.close());

  it('answers 503 problem+json while it is down and recovers when it is back', async () => {
    const bridge = await startTestBridge({ endpoints: { ...defaultEndpoints(), postgresUrl: postgres.url } });
    try {
      const api = client(bridge.url);
      const user = await signUp(api, { username: 'pg_outage' });
      await postgres.stop();

      const me = await api.get('/api/users/me', user.token);
      expect(me.status).toBe(503);
      expect(me.headers.get('content-type')).toContain('application/problem+json');
      expect(me.body.detail).toMatch(/postgres/);
      expect(me.headers.get('retry-after')).toBeTruthy();
      const ready = await api.get('/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body.checks.redis).toBe('ok');
      expect(await dependencyUp(bridge.url, 'postgres')).toBe(0);

      await postgres.start();
      await waitUntil('requests recover', async () => (await api.get('/api/users/me', user.token)).status === 200, { timeoutMs: 20_000 });
      expect((await api.get('/readyz')).status).toBe(200);
    } finally {
      await bridge.close();
    }
  });
});

describe('SIGTERM', () => {
  it('finishes in-flight requests, turns readiness off and exits 0', async () => {
    const endpoints = defaultEndpoints();
    const databaseUrl = await createTestDatabase(endpoints.postgresUrl);
    const port = await freePort();
    const adminPassword = `pw-${randomBytes(8).toString('hex')}`;
    const child = spawn(`${REPO_ROOT}/node_modules/.bin/node`, ['services/content-bridge/main.ts'], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH,
        PORT: String(port),
        HOST: '127.0.0.1',
        DATABASE_URL: databaseUrl,
        REDIS_URL: endpoints.redisUrl,
        S3_ENDPOINT: endpoints.minio.endpoint,
        S3_ACCESS_KEY: endpoints.minio.accessKey,
        S3_SECRET_KEY: endpoints.minio.secretKey,
        S3_BUCKET: `sigterm-${randomBytes(4).toString('hex')}`,
        JWT_SECRET: randomBytes(32).toString('hex'),
        ADMIN_EMAIL: 'root@huntmaster.test',
        ADMIN_PASSWORD: adminPassword,
        SHUTDOWN_GRACE_MS: '5000',
      },
    });
    let output = '';
    child.stdout.on('data', (c) => (output += c));
    child.stderr.on('data', (c) => (output += c));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const api = client(`http://127.0.0.1:${port}`);
    try {
      await waitUntil('content bridge up', async () => (await api.get('/readyz')).status === 200, { timeoutMs: 60_000 }).catch(
        (err: Error) => {
          throw new Error(`${err.message}\n--- content bridge output ---\n${output.slice(-3000)}`, { cause: err });
        },
      );
      // A login takes an argon2id verification: long enough to still be in flight at SIGTERM.
      const inFlight = api.post('/auth/login', { email: 'root@huntmaster.test', password: adminPassword });
      await new Promise((r) => setTimeout(r, 20));
      child.kill('SIGTERM');
      const login = await inFlight;
      expect(login.status).toBe(200);
      expect(await exited).toBe(0);
      const lines = output
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['shutting down', 'shutdown complete']));
      expect(output).not.toContain(adminPassword);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
