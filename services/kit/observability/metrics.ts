/**
 * Prometheus metrics. Each app gets its own registry (two apps can share a test process). The route
 * label is the router's template, never the raw path, so label cardinality stays bounded. The request
 * counter and histogram are one set of records (fast-metrics.ts), handed to prom-client at scrape time.
 */
import { Registry, collectDefaultMetrics } from 'prom-client';
import { fastHistogram } from './fast-metrics.ts';

export const UNMATCHED_ROUTE = '<unmatched>';
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface HttpMetrics {
  registry: Registry;
  /** Counts one request (the request pipeline calls it once the response is decided). */
  record(method: string, route: string, status: number, seconds: number): void;
}

export function createMetrics(service: string, opts: { defaultMetrics?: boolean } = {}): HttpMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const requests = fastHistogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration in seconds',
    labelNames: ['method', 'route', 'status_code'],
    buckets: BUCKETS,
    counter: { name: 'http_requests_total', help: 'HTTP requests handled' },
    registers: [registry],
  });
  return {
    registry,
    record: (method, route, status, seconds) => requests.observe([method, route, String(status)], seconds),
  };
}
