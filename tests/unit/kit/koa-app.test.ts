/**
 * ServiceKoa: answers written directly skip Koa's per-request on-finished listeners; every other
 * answer is sent by Koa exactly as before. Served by a real node:http server over loopback.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import Koa, { type Context } from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServiceKoa } from '../../../services/kit/http/koa-app.ts';

/** What each request saw on arrival: how many 'finish' listeners its response already had. */
const finishListeners: number[] = [];

function build(app: Koa): Koa {
  app.silent = true;
  app.use(async (ctx: Context) => {
    finishListeners.push(ctx.res.listenerCount('finish'));
    switch (ctx.path) {
      case '/direct':
        ctx.respond = false;
        ctx.res.writeHead(202, ['Content-Type', 'text/plain', 'Content-Length', '6']);
        ctx.res.end('direct');
        return;
      case '/created':
        ctx.status = 201;
        ctx.body = { made: true };
        return;
      case '/empty':
        ctx.status = 204;
        return;
      case '/stream':
        ctx.type = 'text/plain';
        ctx.body = Readable.from(['str', 'eam']);
        return;
      case '/boom':
        throw Object.assign(new Error('teapot'), { status: 418, expose: true });
      default:
        return; // nothing set: Koa's 404
    }
  });
  return app;
}

const servers: Server[] = [];
async function serve(app: Koa): Promise<string> {
  const server = createServer(app.callback());
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

let service: string;
let plain: string;
beforeAll(async () => {
  service = await serve(build(new ServiceKoa()));
  plain = await serve(build(new Koa()));
});
afterAll(() => Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve)))));

async function answer(base: string, path: string, method = 'GET') {
  const res = await fetch(`${base}${path}`, { method });
  return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
}

describe('ServiceKoa', () => {
  it('answers every kind of response exactly as Koa does', async () => {
    for (const [path, method] of [
      ['/direct', 'GET'],
      ['/created', 'GET'],
      ['/created', 'HEAD'],
      ['/empty', 'GET'],
      ['/stream', 'GET'],
      ['/boom', 'GET'],
      ['/nothing', 'GET'],
    ] as const) {
      expect(await answer(service, path, method), `${method} ${path}`).toEqual(await answer(plain, path, method));
    }
    expect(await answer(service, '/created')).toEqual({ status: 201, type: 'application/json; charset=utf-8', body: '{"made":true}' });
    expect((await answer(service, '/nothing')).status).toBe(404);
    expect((await answer(service, '/boom')).status).toBe(418);
  });

  it('adds no listener to a response before its middleware runs, where Koa adds on-finished', async () => {
    finishListeners.length = 0;
    await answer(service, '/direct');
    await answer(service, '/created');
    await answer(plain, '/direct');
    const [direct, created, koa] = finishListeners as [number, number, number];
    expect(created).toBe(direct); // node's own listener only
    expect(koa).toBeGreaterThan(direct);
  });
});
