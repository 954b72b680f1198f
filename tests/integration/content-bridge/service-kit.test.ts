/** The kit as the Content Bridge uses it: probes, metrics, OpenAPI, request ids, errors, config. */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../harness/paths.ts';
import { client, signUp, type Client } from '../support/http.ts';
import { startTestBridge, type TestBridge } from '../support/content-bridge.ts';

let bridge: TestBridge;
let api: Client;

beforeAll(async () => {
  bridge = await startTestBridge({ env: { ENABLE_ERROR_SIMULATION: 'true' } });
  api = client(bridge.url);
});
afterAll(() => bridge?.close());

describe('probes', () => {
  it('answers a health check at / with the service name, version and status', async () => {
    const res = await api.get('/');
    expect(res.body).toEqual({ service: 'content-bridge', version: expect.any(String), status: 'healthy' });
  });

  it('reports live and ready with every dependency checked', async () => {
    expect((await api.get('/livez')).body).toEqual({ status: 'ok' });
    expect((await api.get('/healthz')).body).toEqual({ status: 'ok' });
    const ready = await api.get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toEqual({ postgres: 'ok', redis: 'ok', 'object-store': 'ok' });
  });
});

describe('metrics', () => {
  it('counts requests by route template and keeps probes and /metrics out', async () => {
    const user = await signUp(api, { username: 'metric_user' });
    await api.get(`/api/users/${user.userId}`, user.token);
    await api.get('/no/such/path/12345');
    await api.get('/readyz');
    const text = (await api.get('/metrics')).body as string;
    expect(text).toMatch(/http_requests_total\{[^}]*method="GET"[^}]*route="\/api\/users\/:user_id"[^}]*status_code="200"[^}]*\} 1/);
    expect(text).toMatch(/http_request_duration_seconds_bucket\{[^}]*route="\/api\/users\/:user_id"/);
    expect(text).toMatch(/route="<unmatched>"[^}]*status_code="404"/);
    expect(text).not.toContain(user.userId);
    expect(text).not.toMatch(/route="\/readyz"/);
    expect(text).not.toMatch(/route="\/metrics"/);
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
  });
});

describe('OpenAPI', () => {
  it('documents every route from the same schemas that validate requests', async () => {
    const doc = (await api.get('/openapi.json')).body;
    expect(doc.openapi).toBe('3.1.0');
    for (const spec of bridge.bridge.routes) {
      for (const path of Array.isArray(spec.path) ? spec.path : [spec.path]) {
        expect(doc.paths[path]?.[spec.method], `${spec.method} ${path}`).toBeDefined();
      }
    }
    const register = doc.paths['/auth/register'].post.requestBody.content['application/json'].schema;
    expect(register.required).toEqual(expect.arrayContaining(['username', 'email', 'password']));
    expect(register.additionalProperties).toBe(false);
  });
});

describe('errors and request ids', () => {
  it('returns an X-Request-Id, echoing a sane incoming one', async () => {
    const generated = await api.get('/livez');
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const echoed = await api.get('/livez', undefined, { 'x-request-id': 'trace-abc.123' });
    expect(echoed.headers.get('x-request-id')).toBe('trace-abc.123');
    const refused = await api.get('/livez', undefined, { 'x-request-id': 'bad id with spaces' });
    expect(refused.headers.get('x-request-id')).not.toBe('bad id with spaces');
  });

  it('logs JSON lines carrying the request id', async () => {
    const res = await api.get('/api/users/me', undefined, { 'x-request-id': 'log-check-1' });
    expect(res.status).toBe(401);
    const line = bridge.logLines.map((l) => JSON.parse(l)).find((l) => l.request_id === 'log-check-1');
    expect(line).toMatchObject({ level: 'info', path: '/api/users/me', status: 401 });
  });

  it.each([
    ['/bad-request', 400],
    ['/unprocessable', 422],
    ['/server-error', 500],
  ])('simulates %s as problem+json %i without leaking internals', async (path, status) => {
    const res = await api.get(path);
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.body).toMatchObject({ status, instance: path, type: expect.stringMatching(/^https:/) });
    expect(JSON.stringify(res.body)).not.toMatch(/secret details|at .*\.ts/);
  });

  it('keeps the simulation endpoints off by default', async () => {
    const plain = await startTestBridge();
    try {
      expect((await client(plain.url).get('/server-error')).status).toBe(404);
    } finally {
      await plain.close();
    }
  });

  it('answers 404 and 405 as problem+json', async () => {
    const missing = await api.get('/nowhere');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toContain('application/problem+json');
    const wrongMethod = await api.call('DELETE', '/auth/login');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('content-type')).toContain('application/problem+json');
    expect(wrongMethod.headers.get('allow')).toBe('POST'); // RFC 9110: a 405 names what the path allows
  });

  it('answers OPTIONS with the methods a path allows, and a method no route implements with 501', async () => {
    const options = await fetch(`${bridge.url}/auth/login`, { method: 'OPTIONS' });
    expect(options.status).toBe(200);
    expect(options.headers.get('allow')).toBe('POST');
    const trace = await fetch(`${bridge.url}/auth/login`, { method: 'PROPFIND' });
    expect(trace.status).toBe(501);
    expect(trace.headers.get('content-type')).toContain('application/problem+json');
  });

  it('answers a request Node refuses to parse (a URL over 16 KiB) as problem+json, not a bare 431 (found by the fuzz suite)', async () => {
    const res = await fetch(`${bridge.url}/admin/users?q=${'x'.repeat(20_000)}`);
    expect(res.status).toBe(431);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(await res.json()).toMatchObject({ status: 431, title: 'Request Header Fields Too Large', instance: '/admin/users' });
    expect((await fetch(`${bridge.url}/livez`)).status).toBe(200);
  });

  it.each([
    ['application/json', 401],
    ['application/json; charset=utf-8', 401],
    ['application/merge-patch+json', 401],
    ['text/plain', 415],
    ['application/x-www-form-urlencoded', 415],
  ])('reads a JSON body sent as %s, or refuses the type with 415', async (type, status) => {
    const res = await fetch(`${bridge.url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': type },
      body: JSON.stringify({ email: 'nobody@huntmaster.test', password: 'not-the-password-1' }),
    });
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
  });
});

describe('startup configuration', () => {
  it('exits non-zero with one line naming a bad variable', async () => {
    const child = spawn(`${REPO_ROOT}/node_modules/.bin/node`, ['services/content-bridge/main.ts'], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH, PORT: 'not-a-port', JWT_SECRET: 'x'.repeat(40) },
    });
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code).not.toBe(0);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/PORT/);
  });
});
