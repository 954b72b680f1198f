/**
 * Prometheus metrics. Each app gets its own registry (two apps can share a test process). The route
 * label is the router's template, never the raw path, so label cardinality stays bounded.
 */
import type { Context, Next } from 'koa';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const UNMATCHED_ROUTE = '<unmatched>';
const UNMEASURED = new Set(['/metrics', '/livez', '/readyz', '/healthz']);

export interface HttpMetrics {
  registry: Registry;
  middleware: (ctx: Context, next: Next) => Promise<void>;
}

export function createMetrics(service: string, opts: { defaultMetrics?: boolean } = {}): HttpMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const labelNames = ['method', 'route', 'status_code'] as const;
  const requests = new Counter({ name: 'http_requests_total', help: 'HTTP requests handled', labelNames, registers: [registry] });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration in seconds',
    labelNames,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });

  const middleware = async (ctx: Context, next: Next) => {
    if (UNMEASURED.has(ctx.path)) return next();
    const start = process.hrtime.bigint();
    const record = () => {
      const matched = (ctx as Context & { _matchedRoute?: string | RegExp })._matchedRoute;
      const labels = {
        method: ctx.method,
        route: typeof matched === 'string' ? matched : UNMATCHED_ROUTE,
        status_code: String(ctx.status),
      };
      requests.inc(labels);
      duration.observe(labels, Number(process.hrtime.bigint() - start) / 1e9);
    };
    try {
      await next();
    } finally {
      // The error middleware sits inside this one, so ctx.status is already the final status here.
      record();
    }
  };
  return { registry, middleware };
}
