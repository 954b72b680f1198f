/**
 * The request pipeline: one middleware doing what five layers did. Served over loopback by a real
 * node:http server so that headers, statuses and bodies are what a client gets.
 */
import { createServer, type Server } from 'node:http';
import { Writable } from 'node:stream';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServiceApp } from '../../../services/kit/http/app.ts';
import { problem } from '../../../services/kit/http/problem.ts';
import { replyJson } from '../../../services/kit/http/reply.ts';
import { route } from '../../../services/kit/http/routes.ts';
import { createLogger } from '../../../services/kit/observability/logger.ts';

const lines: Array<Record<string, unknown>> = [];
const destination = new Writable({
  write(chunk: Buffer, _encoding, done) {
    for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
    done();
  },
});

const service = createServiceApp({
  name: 'pipeline-test',
  version: '0.0.0',
  description: 'test',
  logger: createLogger({ service: 'pipeline-test', level: 'info', destination }),
  maxJsonBodyBytes: 1024,
  readiness: {},
  // A stand-in for the bearer authenticator: "Bearer good" is a student, any other token a 401.
  authenticate: (ctx) => {
    const header = ctx.get('authorization');
    if (!header) return;
    if (header !== 'Bearer good') throw problem.unauthorized('bad token');
    ctx.state.principal = { userId: 'u1', username: 'u', roles: ['student'], tokenId: 'j', expiresAt: 0, token: 'good' };
  },
  renderError: (ctx, err) => {
    if (!ctx.path.startsWith('/dialect/')) return false;
    ctx.status = (err as { status?: number }).status ?? 500;
    ctx.body = { error: (err as Error).message };
    return true;
  },
  routes: [
    route({
      method: 'get',
      path: '/items/{item_id}',
      summary: 'an item',
      access: 'authenticated',
      params: z.object({ item_id: z.string().regex(/^\d+$/) }),
      handler: ({ ctx, params, principal }) => {
        ctx.body = { id: params.item_id, by: principal!.userId };
      },
    }),
    route({
      method: 'post',
      path: '/replies',
      summary: 'answers with replyJson',
      access: 'public',
      handler: ({ ctx }) => replyJson(ctx, { made: 'é' }, { status: 201, headers: ['ETag', '"v1"'] }),
    }),
    route({
      method: 'get',
      path: '/replies/text',
      summary: 'answers with JSON already serialised',
      access: 'public',
      handler: ({ ctx }) => replyJson(ctx, '{"ready":true}'),
    }),
    route({
      method: 'post',
      path: '/fail',
      summary: 'always fails',
      access: 'public',
      handler: () => {
        throw new Error('boom');
      },
    }),
  ],
});
// Reached only when no route matches, as the embedded store's object URLs are.
service.app.use(async (ctx, next) => {
  if (!ctx.path.startsWith('/after/')) return next();
  ctx.state.route = '/after/*';
  ctx.body = { after: true };
});

let server: Server;
let base: string;
beforeAll(async () => {
  server = createServer(service.app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${base}${path}`, { headers });
const count = async (needle: string) => {
  const text = await service.metrics.registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith('http_requests_total{') && l.includes(needle));
  return line ? Number(line.split(' ').pop()) : 0;
};

describe('request pipeline', () => {
  it('serves a route with its principal, request id, nosniff, metrics under the route template and an access line', async () => {
    const before = await count('route="/items/:item_id",status_code="200"');
    const res = await get('/items/7', { authorization: 'Bearer good', 'x-request-id': 'abc.123' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: '7', by: 'u1' });
    expect(res.headers.get('x-request-id')).toBe('abc.123');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await count('route="/items/:item_id",status_code="200"')).toBe(before + 1);
    expect(lines).toContainEqual(
      expect.objectContaining({ msg: 'request', request_id: 'abc.123', method: 'GET', path: '/items/7', status: 200 }),
    );
  });

  it('replaces an unusable request id with a UUID', async () => {
    const res = await get('/items/7', { authorization: 'Bearer good', 'x-request-id': 'no spaces allowed' });
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('authenticates before routing: a bad token is a 401 even where no route is', async () => {
    for (const path of ['/items/7', '/nowhere']) {
      const res = await get(path, { authorization: 'Bearer bad' });
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
    expect((await get('/items/7')).status).toBe(401); // the route's access rule, anonymous
  });

  it('answers probes without authentication and keeps them out of the metrics and the access log', async () => {
    const res = await get('/livez', { authorization: 'Bearer bad' });
    expect(res.status).toBe(200);
    expect(await service.metrics.registry.metrics()).not.toContain('route="/livez"');
    expect(lines.filter((l) => l.path === '/livez')).toEqual([]);
  });

  it('validates, and renders unexpected errors as a 500 problem that hides the cause, with the request id', async () => {
    const invalid = await get('/items/x', { authorization: 'Bearer good' });
    expect(invalid.status).toBe(422);
    const failed = await fetch(`${base}/fail`, { method: 'POST', headers: { 'x-request-id': 'r-500' } });
    expect(failed.status).toBe(500);
    const body = (await failed.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: 500, request_id: 'r-500' });
    expect(JSON.stringify(body)).not.toContain('boom');
    expect(await count('route="/fail",status_code="500"')).toBe(1);
  });

  it('reaches middleware mounted after it when no route matches, which names its own route', async () => {
    const res = await get('/after/x');
    expect(await res.json()).toEqual({ after: true });
    expect(await count('route="/after/*"')).toBe(1);
  });

  it('answers 404, 405 with Allow, OPTIONS and 501 for what no route serves', async () => {
    const missing = await get('/nowhere');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ detail: 'No route for GET /nowhere' });
    expect(await count('route="<unmatched>",status_code="404"')).toBeGreaterThanOrEqual(1);
    const wrongMethod = await fetch(`${base}/items/7`, { method: 'DELETE' });
    expect([wrongMethod.status, wrongMethod.headers.get('allow')]).toEqual([405, 'HEAD, GET']);
    const options = await fetch(`${base}/fail`, { method: 'OPTIONS' });
    expect([options.status, options.headers.get('allow')]).toEqual([200, 'POST']);
    const unknown = await fetch(`${base}/fail`, { method: 'PROPFIND' });
    expect(unknown.status).toBe(501);
  });

  it('lets a service render some paths in a dialect of its own', async () => {
    const res = await get('/dialect/x', { authorization: 'Bearer bad' });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: 'bad token' });
    const missing = await get('/dialect/y');
    expect([missing.status, await missing.json()]).toEqual([404, { error: 'No route for GET /dialect/y' }]); // the renderer's words
  });

  it('sends replyJson answers in one go with the request headers, counted and logged with their status', async () => {
    const res = await fetch(`${base}/replies`, { method: 'POST', headers: { 'x-request-id': 'reply-1' } });
    expect(res.status).toBe(201);
    expect(
      Object.fromEntries(
        ['x-request-id', 'x-content-type-options', 'etag', 'content-type', 'content-length'].map((h) => [h, res.headers.get(h)]),
      ),
    ).toEqual({
      'x-request-id': 'reply-1',
      'x-content-type-options': 'nosniff',
      etag: '"v1"',
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength('{"made":"é"}')),
    });
    expect(await res.json()).toEqual({ made: 'é' });
    expect(await count('route="/replies",status_code="201"')).toBe(1);
    expect(lines).toContainEqual(expect.objectContaining({ request_id: 'reply-1', path: '/replies', status: 201 }));
    const text = await get('/replies/text');
    expect([text.status, await text.text()]).toEqual([200, '{"ready":true}']);
    const head = await fetch(`${base}/replies/text`, { method: 'HEAD' });
    expect([head.status, head.headers.get('content-length'), await head.text()]).toEqual([200, '14', '']);
  });
});
