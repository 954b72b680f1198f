/**
 * Listens and shuts down gracefully: on SIGTERM readiness turns 503; for a drain period every answer
 * says `Connection: close`, so clients stop reusing their keep-alive connections themselves; then
 * the server stops accepting, in-flight requests finish (up to a grace period), the pools close and
 * the process exits 0. Without the drain, closing a client's idle keep-alive connection from this
 * side races with a request the client is already sending on it (seen as a reset in a rolling update).
 */
import { createServer, STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type Koa from 'koa';
import type { Logger } from '../observability/logger.ts';
import type { Health } from './health.ts';
import { shutdownTracing } from '../observability/tracing-config.ts';
import { ProblemError } from './problem.ts';

export interface RunningServer {
  server: Server;
  port: number;
  shutdown(reason: string): Promise<void>;
}

export interface ListenOptions {
  app: Koa;
  health: Health;
  logger: Logger;
  port: number;
  host: string;
  graceMs: number;
  /** How long to answer with `Connection: close` before closing (default 0: close at once). */
  drainMs?: number;
  /** Closed after the server, in order: e.g. background workers, then pools. */
  closers: Array<() => Promise<void>>;
  /** Exit the process after shutdown (false in tests). */
  exitProcess?: boolean;
}

export async function listen(opts: ListenOptions): Promise<RunningServer> {
  const handle = opts.app.callback();
  let draining = false;
  // One request listener (an emitter with two copies its listener list on every request).
  const server = createServer((req, res) => {
    if (draining) res.setHeader('Connection', 'close'); // before the app answers
    return handle(req, res);
  });
  server.keepAliveTimeout = 65_000; // longer than common load balancer idle timeouts
  server.on('clientError', answerUnparsableRequest);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;

  let closing: Promise<void> | undefined;
  const shutdown = (reason: string) =>
    (closing ??= (async () => {
      opts.logger.info({ reason }, 'shutting down');
      opts.health.markShuttingDown();
      if (opts.drainMs) {
        draining = true;
        await new Promise((resolve) => setTimeout(resolve, opts.drainMs));
      }
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const forced = setTimeout(() => server.closeAllConnections(), opts.graceMs);
      await closed;
      clearTimeout(forced);
      for (const close of opts.closers) {
        await close().catch((err) => opts.logger.warn({ err }, 'error while closing'));
      }
      await shutdownTracing();
      opts.logger.info('shutdown complete');
      if (opts.exitProcess) process.exit(0);
    })());

  if (opts.exitProcess) {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => void shutdown(signal));
  }
  return { server, port, shutdown };
}

/**
 * Requests Node's parser refuses never reach Koa (a URL or headers over the 16 KiB limit, a broken
 * request line): Node would answer a bare 431 or 400 with no body. Answer them as problem+json like
 * every other error, then close the connection, whose stream can no longer be trusted.
 */
function answerUnparsableRequest(err: Error & { code?: string; rawPacket?: Buffer }, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'HPE_REQUEST_TIMEOUT' ? 408 : 400;
  const detail =
    status === 431
      ? 'The request line or headers exceed the server limit'
      : status === 408
        ? 'The request took too long'
        : 'The request is malformed';
  // The path from the request line, without its query string (it may hold secrets), as the access log keeps it.
  const target = /^[A-Z]+ ([^ ?]{1,1024})/.exec(err.rawPacket?.toString('latin1', 0, 1100) ?? '')?.[1] ?? '/';
  const body = JSON.stringify(new ProblemError({ status, title: STATUS_CODES[status], detail }).body(target));
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/problem+json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
