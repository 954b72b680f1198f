/**
 * Prometheus metrics. Each app gets its own registry (two apps can share a test process). The route
 * label is the router's template, never the raw path, so label cardinality stays bounded.
 *
 * The per-request counter and histogram are kept here, one plain record per label set found with a
 * single Map lookup, and handed to prom-client when Prometheus scrapes: prom-client's own inc() and
 * observe() validate and hash the labels on every call, which cost more than the rest of the metrics.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const UNMATCHED_ROUTE = '<unmatched>';
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** A client sending made-up methods must not grow the map without end: past this, start over (counters may reset). */
const MAX_SERIES = 10_000;

export interface HttpMetrics {
  registry: Registry;
  /** Counts one request (the request pipeline calls it once the response is decided). */
  record(method: string, route: string, status: number, seconds: number): void;
}

type Labels = { method: string; route: string; status_code: string };

/** One label set's requests: their count, total seconds and count per bucket (the last: above every bound). */
interface Series {
  labels: Labels;
  count: number;
  sum: number;
  buckets: number[];
}

export function createMetrics(service: string, opts: { defaultMetrics?: boolean } = {}): HttpMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const labelNames = ['method', 'route', 'status_code'] as const;
  const series = new Map<string, Series>();

  new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests handled',
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const s of series.values()) this.inc(s.labels, s.count);
    },
  });
  new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration in seconds',
    labelNames,
    buckets: BUCKETS,
    registers: [registry],
    collect() {
      this.reset();
      // prom-client's own record of a label set (what observe() keeps): counts per bucket, not cumulative.
      const values = (this as unknown as { hashMap: Record<string, unknown> }).hashMap;
      for (const [key, s] of series) {
        values[key] = {
          labels: s.labels,
          bucketValues: Object.fromEntries(BUCKETS.map((b, i) => [b, s.buckets[i]])),
          sum: s.sum,
          count: s.count,
        };
      }
    },
  });

  const record = (method: string, route: string, status: number, seconds: number) => {
    const key = `${method} ${status} ${route}`;
    let s = series.get(key);
    if (!s) {
      if (series.size >= MAX_SERIES) series.clear();
      s = {
        labels: { method, route, status_code: String(status) },
        count: 0,
        sum: 0,
        buckets: new Array<number>(BUCKETS.length + 1).fill(0),
      };
      series.set(key, s);
    }
    s.count++;
    s.sum += seconds;
    let b = 0;
    while (b < BUCKETS.length && seconds > BUCKETS[b]!) b++;
    s.buckets[b]!++;
  };

  return { registry, record };
}
