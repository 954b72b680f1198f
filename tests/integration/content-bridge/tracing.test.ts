/**
 * Tracing on the real startup path: the Content Bridge runs as a child process with
 * `--import register-tracing.ts` and exports OTLP/HTTP to a receiver in this test, which keeps the
 * spans in memory. Proves spans for http, koa, pg and ioredis, and that pg parameters stay out.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, waitUntil } from '../../harness/index.ts';
import { REPO_ROOT } from '../../harness/paths.ts';
import { client } from '../support/http.ts';
import { createTestDatabase, defaultEndpoints } from '../support/content-bridge.ts';

interface ExportedSpan {
  name: string;
  attributes: Record<string, unknown>;
  service: string;
}

let receiver: Server;
const spans: ExportedSpan[] = [];
const paths: string[] = [];

function flattenAttributes(list: Array<{ key: string; value: Record<string, unknown> }> = []): Record<string, unknown> {
  return Object.fromEntries(list.map((a) => [a.key, Object.values(a.value)[0]]));
}

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      paths.push(`${req.url} ${req.headers['content-type']}`);
      if (req.url !== '/v1/traces') return void res.writeHead(200).end();
      const payload = JSON.parse(body);
      for (const rs of payload.resourceSpans ?? []) {
        const service = String(flattenAttributes(rs.resource?.attributes)['service.name']);
        for (const ss of rs.scopeSpans ?? []) {
          for (const span of ss.spans ?? []) spans.push({ name: span.name, attributes: flattenAttributes(span.attributes), service });
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
});
afterAll(() => new Promise<void>((resolve) => receiver.close(() => resolve())));

describe('OpenTelemetry', () => {
  it('exports spans for http, koa routes, pg and ioredis, without query parameters', async () => {
    const endpoints = defaultEndpoints();
    const port = await freePort();
    const address = receiver.address() as { port: number };
    const child = spawn(
      `${REPO_ROOT}/node_modules/.bin/node`,
      ['--import', './services/kit/observability/register-tracing.ts', 'services/content-bridge/main.ts'],
      {
        cwd: REPO_ROOT,
        env: {
          PATH: process.env.PATH,
          PORT: String(port),
          HOST: '127.0.0.1',
          DATABASE_URL: await createTestDatabase(endpoints.postgresUrl),
          REDIS_URL: endpoints.redisUrl,
          S3_ENDPOINT: endpoints.minio.endpoint,
          S3_ACCESS_KEY: endpoints.minio.accessKey,
          S3_SECRET_KEY: endpoints.minio.secretKey,
          S3_BUCKET: `trace-${randomBytes(4).toString('hex')}`,
          JWT_SECRET: randomBytes(32).toString('hex'),
          OTEL_SERVICE_NAME: 'content-bridge-under-test',
          OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${address.port}`,
          LOG_LEVEL: 'warn',
        },
      },
    );
    let output = '';
    child.stderr.on('data', (c) => (output += c));
    const exited = new Promise((resolve) => child.on('exit', resolve));
    try {
      const api = client(`http://127.0.0.1:${port}`);
      await waitUntil('bridge up', async () => (await api.get('/readyz')).status === 200, { timeoutMs: 30_000 });
      const secretPassword = 'trace-me-not-password';
      expect((await api.post('/auth/register', { username: 'traced', email: 'traced@example.com', password: secretPassword })).status).toBe(
        201,
      );
      const login = await api.post('/auth/login', { username: 'traced', password: secretPassword });
      expect(login.status).toBe(200);
      await api.post('/auth/logout', {}, login.body.access_token); // writes the revocation to Redis

      child.kill('SIGTERM'); // graceful shutdown flushes the batch processor
      expect(await exited).toBe(0);

      expect(new Set(paths)).toEqual(new Set(['/v1/traces application/json']));
      const services = new Set(spans.map((s) => s.service));
      expect(services).toEqual(new Set(['content-bridge-under-test']));
      const names = spans.map((s) => s.name);
      expect(names).toEqual(expect.arrayContaining(['POST /auth/login']));
      expect(spans.some((s) => s.attributes['http.route'] === '/auth/login' || s.name.includes('/auth/login'))).toBe(true);
      const koa = spans.filter((s) => String(s.attributes['koa.type'] ?? '') !== '' || s.name.startsWith('router -'));
      expect(koa.length).toBeGreaterThan(0);
      const pgSpans = spans.filter((s) => s.attributes['db.system'] === 'postgresql' || s.attributes['db.system.name'] === 'postgresql');
      expect(pgSpans.length).toBeGreaterThan(0);
      const redisSpans = spans.filter((s) => s.attributes['db.system'] === 'redis' || s.attributes['db.system.name'] === 'redis');
      expect(redisSpans.length).toBeGreaterThan(0);
      const everything = JSON.stringify(spans);
      expect(everything).not.toContain('traced@example.com');
      expect(everything).not.toContain(secretPassword);
      expect(everything).not.toContain('db.statement.parameters');
      expect(spans.some((s) => String(s.attributes['url.path'] ?? s.attributes['http.target'] ?? '').includes('/readyz'))).toBe(false);
    } finally {
      child.kill('SIGKILL');
      if (output) console.error(output.slice(-2000));
    }
  });
});
