/**
 * The prediction log, kept off the request path. Every request is counted in memory (exact counts
 * per model version and hour); a SAMPLE of requests (PREDICTION_LOG_SAMPLE_RATE) is also kept with
 * its inputs, outputs and latency, for latency percentiles and drift. A background timer writes both
 * to PostgreSQL in batches. The sample buffer is bounded: when it is full the oldest records are
 * dropped (and counted), so a slow or unavailable database costs memory only up to the bound and
 * never slows predictions down.
 */
import type { Database } from '../../kit/deps/database.ts';
import type { Logger } from '../../kit/observability/logger.ts';

export interface PredictionEvent {
  modelId: string;
  modelName: string;
  version: number;
  rows: number;
  cached: boolean;
  latencyMs: number;
  /** The input rows (only referenced; truncated to `maxRows` when sampled). */
  inputs: readonly unknown[];
  /** The outputs, or a function producing them (called only when the request is sampled). */
  outputs: readonly unknown[] | null | (() => readonly unknown[]);
  error: string | null;
  userId: string | null;
}

interface SampledRecord {
  model_id: string;
  model_name: string;
  version: number;
  rows: number;
  cached: boolean;
  latency_ms: number;
  inputs: readonly unknown[];
  outputs: readonly unknown[] | null;
  error: string | null;
  user_id: string | null;
  created_at: string;
}

interface Counter {
  model_id: string;
  version: number;
  bucket: string;
  requests: number;
  rows: number;
  cached: number;
  errors: number;
}

export interface PredictionLogOptions {
  db: Pick<Database, 'query'>;
  logger: Logger;
  sampleRate: number;
  flushMs: number;
  bufferSize: number;
  batchSize: number;
  maxRows: number;
  random?: () => number;
  onDrop?: (n: number) => void;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A FIFO queue with O(1) push and shift, bounded by the caller. */
class Deque<T> {
  #items: (T | undefined)[] = [];
  #head = 0;
  get length(): number {
    return this.#items.length - this.#head;
  }
  push(item: T): void {
    this.#items.push(item);
  }
  shift(): T | undefined {
    if (this.length === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }
  take(n: number): T[] {
    const out: T[] = [];
    while (out.length < n && this.length > 0) out.push(this.shift()!);
    return out;
  }
}

export class PredictionLog {
  readonly #opts: PredictionLogOptions;
  readonly #random: () => number;
  readonly #buffer = new Deque<SampledRecord>();
  #counters = new Map<string, Counter>();
  /** The counter the last record went to, and the map it is in (a flush starts a new one). */
  #last: Counter | undefined;
  #lastIn: Map<string, Counter> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;
  #soon: NodeJS.Immediate | undefined;
  #hour = -1;
  #bucket = '';
  /** Sampled records dropped because the buffer was full or a write failed. */
  dropped = 0;
  /** Sampled records written. */
  written = 0;

  constructor(opts: PredictionLogOptions) {
    this.#opts = opts;
    this.#random = opts.random ?? Math.random;
  }

  get buffered(): number {
    return this.#buffer.length;
  }

  /** Counts the request and, for a sample, buffers it. Synchronous and cheap: nothing is awaited. */
  record(e: PredictionEvent): void {
    const nowMs = Date.now();
    const hour = Math.floor(nowMs / 3_600_000);
    if (hour !== this.#hour) {
      this.#hour = hour;
      this.#bucket = new Date(hour * 3_600_000).toISOString();
    }
    const bucket = this.#bucket;
    // The same model version as the last request (the common case): its counter without building a key.
    let counter = this.#last;
    if (
      !counter ||
      counter.model_id !== e.modelId ||
      counter.version !== e.version ||
      counter.bucket !== bucket ||
      this.#counters !== this.#lastIn
    ) {
      const key = `${e.modelId}|${e.version}|${bucket}`;
      counter = this.#counters.get(key);
      if (!counter) {
        counter = { model_id: e.modelId, version: e.version, bucket, requests: 0, rows: 0, cached: 0, errors: 0 };
        this.#counters.set(key, counter);
      }
      this.#last = counter;
      this.#lastIn = this.#counters;
    }
    counter.requests++;
    counter.rows += e.rows;
    if (e.cached) counter.cached++;
    if (e.error) counter.errors++;

    if (this.#opts.sampleRate <= 0 || this.#random() >= this.#opts.sampleRate) return;
    const max = this.#opts.maxRows;
    const outputs = typeof e.outputs === 'function' ? e.outputs() : e.outputs;
    this.#buffer.push({
      model_id: e.modelId,
      model_name: e.modelName,
      version: e.version,
      rows: e.rows,
      cached: e.cached,
      latency_ms: e.latencyMs,
      inputs: e.inputs.length > max ? e.inputs.slice(0, max) : e.inputs,
      outputs: outputs && outputs.length > max ? outputs.slice(0, max) : outputs,
      error: e.error,
      user_id: e.userId && UUID.test(e.userId) ? e.userId : null,
      created_at: new Date(nowMs).toISOString(),
    });
    let over = this.#buffer.length - this.#opts.bufferSize;
    if (over > 0) {
      this.dropped += over;
      this.#opts.onDrop?.(over);
      while (over-- > 0) this.#buffer.shift();
    }
    if (this.#buffer.length >= this.#opts.batchSize && !this.#soon) {
      this.#soon = setImmediate(() => {
        this.#soon = undefined;
        void this.flush();
      });
    }
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.flush(), this.#opts.flushMs);
    this.#timer.unref();
  }

  /** Stops the timer and writes what is buffered. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#soon) clearImmediate(this.#soon);
    this.#soon = undefined;
    await this.flush();
  }

  /** Writes the counters and the buffered sample; concurrent calls share one flush. */
  flush(): Promise<void> {
    if (this.#flushing) return this.#flushing.then(() => this.flush());
    this.#flushing = this.#flushOnce().finally(() => {
      this.#flushing = undefined;
    });
    return this.#flushing;
  }

  async #flushOnce(): Promise<void> {
    const counters = [...this.#counters.values()];
    this.#counters = new Map();
    if (counters.length) {
      try {
        await this.#opts.db.query(
          `INSERT INTO ml.prediction_counts (model_id, version, bucket, requests, rows, cached, errors)
           SELECT model_id, version, bucket, requests, rows, cached, errors
             FROM jsonb_to_recordset($1::jsonb) AS r(model_id uuid, version integer, bucket timestamptz, requests bigint, rows bigint, cached bigint, errors bigint)
           ON CONFLICT (model_id, version, bucket) DO UPDATE SET
             requests = ml.prediction_counts.requests + EXCLUDED.requests,
             rows = ml.prediction_counts.rows + EXCLUDED.rows,
             cached = ml.prediction_counts.cached + EXCLUDED.cached,
             errors = ml.prediction_counts.errors + EXCLUDED.errors`,
          [JSON.stringify(counters)],
        );
      } catch (err) {
        // Counters are tiny: keep them for the next flush instead of losing counts.
        for (const c of counters) {
          const key = `${c.model_id}|${c.version}|${c.bucket}`;
          const current = this.#counters.get(key);
          if (!current) this.#counters.set(key, c);
          else {
            current.requests += c.requests;
            current.rows += c.rows;
            current.cached += c.cached;
            current.errors += c.errors;
          }
        }
        this.#opts.logger.warn({ err }, 'prediction counters not written; will retry');
        return;
      }
    }
    while (this.#buffer.length > 0) {
      const batch = this.#buffer.take(this.#opts.batchSize);
      try {
        await this.#opts.db.query(
          `INSERT INTO ml.predictions (model_id, model_name, version, rows, cached, latency_ms, inputs, outputs, error, user_id, created_at)
           SELECT model_id, model_name, version, rows, cached, latency_ms, inputs, outputs, error, user_id, created_at
             FROM jsonb_to_recordset($1::jsonb) AS r(model_id uuid, model_name text, version integer, rows integer, cached boolean,
                  latency_ms double precision, inputs jsonb, outputs jsonb, error text, user_id uuid, created_at timestamptz)`,
          [JSON.stringify(batch)],
        );
        this.written += batch.length;
      } catch (err) {
        this.dropped += batch.length;
        this.#opts.onDrop?.(batch.length);
        this.#opts.logger.warn({ err, records: batch.length }, 'prediction log batch dropped');
        return;
      }
    }
  }
}
