/**
 * The request metrics keep their own records and hand them to prom-client at scrape time: the
 * exposition must be exactly what prom-client's own inc() and observe() would have produced.
 */
import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { fastCounter, fastHistogram } from '../../../services/kit/observability/fast-metrics.ts';
import { createMetrics } from '../../../services/kit/observability/metrics.ts';

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const REQUESTS: Array<[string, string, number, number]> = [
  ['GET', '/api/content/:content_id', 200, 0.0004],
  ['GET', '/api/content/:content_id', 200, 0.001], // exactly on a bound: counts in that bucket
  ['GET', '/api/content/:content_id', 200, 0.03],
  ['GET', '/api/content/:content_id', 404, 0.002],
  ['POST', '/predict', 200, 12], // above every bound: +Inf only
  ['POST', '<unmatched>', 404, 0.0001],
];

/** The same requests through prom-client's own API. */
async function reference(): Promise<string> {
  const registry = new Registry();
  registry.setDefaultLabels({ service: 'svc' });
  const labelNames = ['method', 'route', 'status_code'];
  const requests = new Counter({ name: 'http_requests_total', help: 'HTTP requests handled', labelNames, registers: [registry] });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration in seconds',
    labelNames,
    buckets: BUCKETS,
    registers: [registry],
  });
  for (const [method, route, status, seconds] of REQUESTS) {
    const labels = { method, route, status_code: String(status) };
    requests.inc(labels);
    duration.observe(labels, seconds);
  }
  return registry.metrics();
}

describe('request metrics', () => {
  it('expose exactly what prom-client would', async () => {
    const metrics = createMetrics('svc', { defaultMetrics: false });
    for (const [method, route, status, seconds] of REQUESTS) metrics.record(method, route, status, seconds);
    const text = await metrics.registry.metrics();
    expect(text).toBe(await reference());
    expect(text).toContain('http_requests_total{method="GET",route="/api/content/:content_id",status_code="200",service="svc"} 3');
    // Scraping twice does not count twice.
    expect(await metrics.registry.metrics()).toBe(text);
  });

  it('count and observe, label values in labelNames order, as prom-client would, registered later too', async () => {
    const ours = new Registry();
    const counter = fastCounter({ name: 'rows_total', help: 'rows', labelNames: ['model', 'version'], registers: [] });
    const histogram = fastHistogram({ name: 'latency_seconds', help: 'latency', labelNames: ['model'], buckets: [0.1, 1], registers: [] });
    ours.registerMetric(counter.metric);
    ours.registerMetric(histogram.metric);
    counter.inc(['m', '1']);
    counter.inc(['m', '1'], 4);
    counter.inc(['n', '2'], 2);
    for (const v of [0.05, 0.1, 0.5, 3]) histogram.observe(['m'], v);

    const theirs = new Registry();
    const c = new Counter({ name: 'rows_total', help: 'rows', labelNames: ['model', 'version'], registers: [theirs] });
    const h = new Histogram({ name: 'latency_seconds', help: 'latency', labelNames: ['model'], buckets: [0.1, 1], registers: [theirs] });
    c.inc({ model: 'm', version: '1' });
    c.inc({ model: 'm', version: '1' }, 4);
    c.inc({ model: 'n', version: '2' }, 2);
    for (const v of [0.05, 0.1, 0.5, 3]) h.observe({ model: 'm' }, v);

    const text = await ours.metrics();
    expect(text).toBe(await theirs.metrics());
    expect(text).toContain('rows_total{model="m",version="1"} 5');
    expect(await ours.metrics()).toBe(text); // scraping twice does not count twice
  });
});
