/**
 * The Koa app every service starts from: request ids and access logs, metrics, problem+json
 * errors, probes, `/metrics`, `/openapi.json`, authentication and the declared routes.
 */
import { randomUUID } from 'node:crypto';
import Koa, { type Context, type Middleware } from 'koa';
import { Gauge } from 'prom-client';
import type { Logger } from '../observability/logger.ts';
import { accessLogWriter } from '../observability/access-log.ts';
import { createMetrics, type HttpMetrics } from '../observability/metrics.ts';
import { errorMiddleware } from './errors.ts';
import { createHealth, type Health, type ReadinessCheck } from './health.ts';
import { buildOpenApi } from './openapi.ts';
import { routesMiddleware, type RouteSpec } from './routes.ts';

export interface ServiceAppOptions {
  name: string;
  version: string;
  description: string;
  logger: Logger;
  routes: RouteSpec[];
  readiness: Record<string, ReadinessCheck>;
  authenticate?: Middleware;
  maxJsonBodyBytes: number;
}

export interface ServiceApp {
  app: Koa;
  health: Health;
  metrics: HttpMetrics;
  openapi: object;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * `ctx.state` of every request: its id, and `log`, a child logger carrying that id, built only if a
 * handler logs (most requests never do).
 */
class RequestState {
  readonly #logger: Logger;
  #child: Logger | undefined;
  readonly requestId: string;
  [key: string]: unknown;
  constructor(logger: Logger, requestId: string) {
    this.#logger = logger;
    this.requestId = requestId;
  }
  get log(): Logger {
    return (this.#child ??= this.#logger.child({ request_id: this.requestId }));
  }
}
const UNLOGGED_PATHS = new Set(['/livez', '/readyz', '/healthz', '/metrics']);

export function createServiceApp(opts: ServiceAppOptions): ServiceApp {
  const app = new Koa({ proxy: true });
  const health = createHealth(opts.readiness);
  const metrics = createMetrics(opts.name);
  // Checked when Prometheus scrapes, so a dashboard panel and an alert can name the dependency.
  const dependencyUp: Gauge = new Gauge({
    name: 'hma_dependency_up',
    help: 'Whether a dependency (postgres, redis, object-store) answered its readiness check at scrape time (1) or not (0)',
    labelNames: ['dependency'],
    registers: [metrics.registry],
    async collect() {
      for (const [dependency, result] of Object.entries(await health.check())) dependencyUp.set({ dependency }, result === 'ok' ? 1 : 0);
    },
  });
  const openapi = buildOpenApi({ title: opts.name, version: opts.version, description: opts.description }, opts.routes);

  // Koa's default handler prints stack traces; the error middleware already logged what matters.
  app.silent = true;
  const writeAccess = accessLogWriter(opts.logger);

  app.use(async (ctx, next) => {
    const incoming = ctx.get('x-request-id');
    const requestId = REQUEST_ID.test(incoming) ? incoming : randomUUID();
    ctx.state = new RequestState(opts.logger, requestId);
    ctx.set('X-Request-Id', requestId);
    ctx.set('X-Content-Type-Options', 'nosniff');
    const started = performance.now();
    try {
      await next();
    } finally {
      if (writeAccess && !UNLOGGED_PATHS.has(ctx.path)) {
        writeAccess({ requestId, method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(performance.now() - started) });
      }
    }
  });
  app.use(metrics.middleware);
  app.use(errorMiddleware(opts.logger));

  // The service's own endpoints, found with one lookup rather than a router walked by every request.
  const system = new Map<string, (ctx: Context) => unknown>([
    ['/livez', (ctx) => health.livez(ctx)],
    ['/healthz', (ctx) => health.livez(ctx)],
    ['/readyz', (ctx) => health.readyz(ctx)],
    [
      '/metrics',
      async (ctx) => {
        ctx.type = metrics.registry.contentType;
        ctx.body = await metrics.registry.metrics();
      },
    ],
    [
      '/openapi.json',
      (ctx) => {
        ctx.body = openapi;
      },
    ],
    [
      '/',
      (ctx) => {
        ctx.body = { service: opts.name, version: opts.version, status: health.shuttingDown ? 'shutting-down' : 'healthy' };
      },
    ],
  ]);
  app.use(async (ctx, next) => {
    const handler = ctx.method === 'GET' || ctx.method === 'HEAD' ? system.get(ctx.path) : undefined;
    if (!handler) return next();
    (ctx as Context & { _matchedRoute?: string })._matchedRoute = ctx.path; // the metrics' route label, as a router sets it
    await handler(ctx);
  });

  if (opts.authenticate) app.use(opts.authenticate);
  app.use(routesMiddleware(opts.routes, { maxJsonBodyBytes: opts.maxJsonBodyBytes }));
  return { app, health, metrics, openapi };
}
