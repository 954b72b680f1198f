/**
 * Counters and histograms for the hot paths. Each label set is a plain record found with one Map
 * lookup (its label values joined) and handed to prom-client only when Prometheus scrapes:
 * prom-client's own inc() and observe() validate and hash the label object on every call, which
 * cost a cached /predict more than the rest of its metrics (issue 14 §3). The exposition is exactly
 * prom-client's (tests/unit/kit/metrics.test.ts).
 */
import { Counter, Histogram, type Registry } from 'prom-client';

/** A client sending made-up label values must not grow a map without end: past this, start over (counters may reset). */
const MAX_SERIES = 10_000;

type Labels = Record<string, string>;

/** One label set of a histogram: its count, total and count per bucket (the last: above every bound). */
export interface HistogramSeries {
  labels: Labels;
  count: number;
  sum: number;
  buckets: number[];
}

interface MetricConfig {
  name: string;
  help: string;
  labelNames: readonly string[];
  /** As prom-client's: where to register (none: register the `metric` later). */
  registers?: Registry[];
}

export interface FastCounter {
  readonly metric: Counter;
  /** Adds `by` (default 1) to the series of these label values, in `labelNames` order. */
  inc(values: readonly string[], by?: number): void;
}

export interface FastHistogram {
  readonly metric: Histogram;
  /** Observes `value` in the series of these label values, in `labelNames` order. */
  observe(values: readonly string[], value: number): void;
}

/** The records of one metric, by joined label values. */
function seriesMap<S>(labelNames: readonly string[], create: (labels: Labels) => S) {
  const series = new Map<string, S>();
  return {
    series,
    get(values: readonly string[]): S {
      const key = values.join('\u0000');
      let s = series.get(key);
      if (!s) {
        if (series.size >= MAX_SERIES) series.clear();
        const labels: Labels = {};
        labelNames.forEach((name, i) => (labels[name] = values[i]!));
        s = create(labels);
        series.set(key, s);
      }
      return s;
    },
  };
}

export function fastCounter(config: MetricConfig): FastCounter {
  const { series, get } = seriesMap(config.labelNames, (labels) => ({ labels, value: 0 }));
  const metric = new Counter({
    ...config,
    labelNames: [...config.labelNames],
    collect() {
      this.reset();
      for (const s of series.values()) this.inc(s.labels, s.value);
    },
  });
  return {
    metric,
    inc(values, by = 1) {
      get(values).value += by;
    },
  };
}

/**
 * A histogram; `counter` also exposes each series' count as a counter of its own (the HTTP metrics'
 * http_requests_total beside http_request_duration_seconds), from the same records.
 */
export function fastHistogram(
  config: MetricConfig & { buckets: readonly number[]; counter?: { name: string; help: string } },
): FastHistogram & { readonly counter?: Counter } {
  const { buckets } = config;
  const { series, get } = seriesMap(config.labelNames, (labels) => ({
    labels,
    count: 0,
    sum: 0,
    buckets: new Array<number>(buckets.length + 1).fill(0),
  }));
  const labelNames = [...config.labelNames];
  const counter =
    config.counter &&
    new Counter({
      ...config.counter,
      labelNames,
      registers: config.registers,
      collect() {
        this.reset();
        for (const s of series.values()) this.inc(s.labels, s.count);
      },
    });
  const metric = new Histogram({
    name: config.name,
    help: config.help,
    labelNames,
    buckets: [...buckets],
    registers: config.registers,
    collect() {
      this.reset();
      // prom-client's own record of a label set (what observe() keeps): counts per bucket, not cumulative.
      const values = (this as unknown as { hashMap: Record<string, unknown> }).hashMap;
      for (const [key, s] of series) {
        values[key] = {
          labels: s.labels,
          bucketValues: Object.fromEntries(buckets.map((b, i) => [b, s.buckets[i]])),
          sum: s.sum,
          count: s.count,
        };
      }
    },
  });
  return {
    metric,
    counter,
    observe(values, value) {
      const s = get(values);
      s.count++;
      s.sum += value;
      let b = 0;
      while (b < buckets.length && value > buckets[b]!) b++;
      s.buckets[b]!++;
    },
  };
}
