/**
 * Listens and shuts down gracefully: on SIGTERM readiness turns 503, the server stops accepting,
 * in-flight requests finish (up to a grace period), then the pools close and the process exits 0.
 */
import { createServer, type Server } from 'node:http';
import type Koa from 'koa';
import type { Logger } from '../observability/logger.ts';
import type { Health } from './health.ts';
import { shutdownTracing } from '../observability/tracing.ts';

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
  /** Closed after the server, in order: e.g. background workers, then pools. */
  closers: Array<() => Promise<void>>;
  /** Exit the process after shutdown (false in tests). */
  exitProcess?: boolean;
}

export async function listen(opts: ListenOptions): Promise<RunningServer> {
  const server = createServer(opts.app.callback());
  server.keepAliveTimeout = 65_000; // longer than common load balancer idle timeouts
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
