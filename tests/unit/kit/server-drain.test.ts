/**
 * Graceful shutdown with keep-alive clients: for the drain period a stopping server answers with
 * `Connection: close`, so a client reusing a connection is told to stop rather than finding it closed
 * under a request it is sending (what a rolling update showed as one failed request in hundreds).
 */
import { Agent, request } from 'node:http';
import Koa from 'koa';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createHealth } from '../../../services/kit/http/health.ts';
import { listen, type RunningServer } from '../../../services/kit/http/server.ts';

let running: RunningServer | undefined;
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
afterEach(async () => {
  await running?.shutdown('test finished');
  agent.destroy();
});

function get(port: number): Promise<{ status: number; connection: string | undefined; socket: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection, socket: req.socket }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function start(drainMs: number): Promise<number> {
  const app = new Koa();
  app.use((ctx) => {
    ctx.body = 'ok';
  });
  running = await listen({
    app,
    health: createHealth({}),
    logger: pino({ level: 'silent' }),
    port: 0,
    host: '127.0.0.1',
    graceMs: 2000,
    drainMs,
    closers: [],
  });
  return running.port;
}

describe('shutdown with keep-alive clients', () => {
  it('answers on the kept-alive connection during the drain, telling the client to close it', async () => {
    const port = await start(500);
    const first = await get(port);
    expect(first.connection).toBe('keep-alive');
    const stopping = running!.shutdown('test');
    const during = await get(port);
    expect(during.status).toBe(200);
    expect(during.socket).toBe(first.socket); // the same connection, not a new one
    expect(during.connection).toBe('close');
    await stopping;
  });

  it('without a drain closes at once: the next request on that connection has nothing to answer it', async () => {
    const port = await start(0);
    await get(port);
    const stopping = running!.shutdown('test');
    await expect(get(port)).rejects.toThrow();
    await stopping;
  });
});
