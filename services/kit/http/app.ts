/**
 * The Koa app every service starts from: one request pipeline (request ids, probes, `/metrics`,
 * `/openapi.json`, authentication, the declared routes, problem+json errors, metrics and access logs)
 * that services may mount middleware after, reached when no route matches.
 */
import type Koa from 'koa';
import type { Context } from 'koa';
import { Gauge } from 'prom-client';
import type { Logger } from '../observability/logger.ts';
import { createMetrics, type HttpMetrics } from '../observability/metrics.ts';
import { createHealth, type Health, type ReadinessCheck } from './health.ts';
import { ServiceKoa } from './koa-app.ts';
import { buildOpenApi } from './openapi.ts';
import { requestPipeline, type Authenticator, type ErrorRenderer, type SystemEndpoint } from './pipeline.ts';
import { compileRoutes, type RouteSpec } from './routes.ts';

export interface ServiceAppOptions {
  name: string;
  version: string;
  description: string;
  logger: Logger;
  routes: RouteSpec[];
  readiness: Record<string, ReadinessCheck>;
  authenticate?: Authenticator;
  /** Errors some paths answer in a dialect of their own, not problem+json. */
  renderError?: ErrorRenderer;
  maxJsonBodyBytes: number;
}

export interface ServiceApp {
  app: Koa;
  health: Health;
  metrics: HttpMetrics;
  openapi: object;
}

export function createServiceApp(opts: ServiceAppOptions): ServiceApp {
  const app = new ServiceKoa({ proxy: true });
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

  // Koa's default handler prints stack traces; the pipeline already logged what matters.
  app.silent = true;
  const system = new Map<string, SystemEndpoint>([
    ['/livez', (ctx) => health.livez(ctx)],
    ['/healthz', (ctx) => health.livez(ctx)],
    ['/readyz', (ctx) => health.readyz(ctx)],
    [
      '/metrics',
      async (ctx: Context) => {
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
  app.use(
    requestPipeline({
      logger: opts.logger,
      metrics,
      system,
      authenticate: opts.authenticate,
      routes: compileRoutes(opts.routes, { maxJsonBodyBytes: opts.maxJsonBodyBytes }),
      renderError: opts.renderError,
    }),
  );
  return { app, health, metrics, openapi };
}
