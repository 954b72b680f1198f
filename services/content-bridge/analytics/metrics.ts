/**
 * Prometheus metrics of event ingestion and the outbound stream. Totals are read from the writer's
 * and forwarder's own counters when Prometheus scrapes; the group-commit histograms are fed per
 * commit. Created unregistered, then registered on the app's registry (two apps can share a test
 * process).
 */
import { Counter, Gauge, Histogram, type Metric, type Registry } from 'prom-client';
import type { Forwarder } from './forwarder.ts';
import type { EventWriter } from './writer.ts';

export interface CommitObservation {
  requests: number;
  rows: number;
  seconds: number;
}

/** A counter's `collect`: its values are read from `source` when Prometheus scrapes (they only grow). */
function readFrom(source: () => Array<[Record<string, string>, number]>) {
  return function (this: Counter<string>) {
    this.reset();
    for (const [labels, value] of source()) this.inc(labels, value);
  };
}

export function createAnalyticsMetrics() {
  const commitRequests = new Histogram({
    name: 'hma_analytics_commit_requests',
    help: 'Requests acknowledged by one group commit of learning events',
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500],
    registers: [],
  });
  const commitDuration = new Histogram({
    name: 'hma_analytics_commit_duration_seconds',
    help: 'Time of one group commit of learning events (one INSERT statement), in seconds',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [],
  });
  return {
    observeCommit(c: CommitObservation) {
      commitRequests.observe(c.requests);
      commitDuration.observe(c.seconds);
    },
    register(registry: Registry, writer: EventWriter, forwarder: Forwarder | undefined) {
      const w = writer.stats;
      const metrics: Metric[] = [
        commitRequests,
        commitDuration,
        new Counter({
          name: 'hma_analytics_events_written_total',
          help: 'Learning events committed, by result (inserted, or duplicate of a stored event)',
          labelNames: ['result'],
          registers: [],
          collect: readFrom(() => [
            [{ result: 'inserted' }, w.inserted],
            [{ result: 'duplicate' }, w.duplicates],
          ]),
        }),
        new Counter({
          name: 'hma_analytics_requests_conflicted_total',
          help: 'Event requests refused with 409 (an id stored with another body)',
          registers: [],
          collect: readFrom(() => [[{}, w.conflicts]]),
        }),
        new Counter({
          name: 'hma_analytics_commit_retries_total',
          help: 'Group commits rolled back and retried (race, deadlock, serialization failure)',
          registers: [],
          collect: readFrom(() => [[{}, w.retries]]),
        }),
        new Gauge({
          name: 'hma_analytics_queued_events',
          help: 'Learning events waiting for a group commit',
          registers: [],
          collect() {
            this.set(writer.queuedEvents);
          },
        }),
      ];
      // Exported without a forwarder too (0: nothing is delivered), so the dashboard's panel and the
      // alert see a series on every platform rather than no data.
      const f = forwarder?.stats;
      metrics.push(
        new Counter({
          name: 'hma_analytics_forwarded_events_total',
          help: 'Learning events delivered to the analytics module (2xx); 0 when no module is configured',
          registers: [],
          collect: readFrom(() => [[{}, f?.eventsSent ?? 0]]),
        }),
        new Counter({
          name: 'hma_analytics_forward_failures_total',
          help: 'Failed deliveries to the analytics module (each is retried); 0 when no module is configured',
          registers: [],
          collect: readFrom(() => [[{}, f?.failures ?? 0]]),
        }),
      );
      for (const metric of metrics) registry.registerMetric(metric);
    },
  };
}

export type AnalyticsMetrics = ReturnType<typeof createAnalyticsMetrics>;
