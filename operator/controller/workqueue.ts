/**
 * A rate-limited work queue with client-go's semantics:
 * - a key is queued at most once (dirty set), and never handed to two workers at once
 *   (processing set): a key added while processing is re-queued when `done` is called;
 * - failures back off per key exponentially (5 ms doubling up to ~1000 s), under a global token
 *   bucket (10 qps, burst 100); the larger of the two delays wins.
 */
export interface QueueMetrics {
  depth(n: number): void;
  added(): void;
  queued(seconds: number): void;
  worked(seconds: number): void;
  retried(): void;
}

const noMetrics: QueueMetrics = {
  depth: () => undefined,
  added: () => undefined,
  queued: () => undefined,
  worked: () => undefined,
  retried: () => undefined,
};

export interface RateLimiterOptions {
  baseDelayMs: number;
  maxDelayMs: number;
  qps: number;
  burst: number;
}

export const DEFAULT_RATE_LIMITS: RateLimiterOptions = { baseDelayMs: 5, maxDelayMs: 1000 * 1000, qps: 10, burst: 100 };

/** Per-key exponential backoff combined with a global token bucket, as client-go's default controller limiter. */
export class RateLimiter {
  private readonly failures = new Map<string, number>();
  private tokens: number;
  private last: number;
  private readonly opts: RateLimiterOptions;
  private readonly now: () => number;

  constructor(opts: RateLimiterOptions = DEFAULT_RATE_LIMITS, now: () => number = Date.now) {
    this.opts = opts;
    this.now = now;
    this.tokens = opts.burst;
    this.last = now();
  }

  /** The delay before `key` may be retried; each call counts as one more failure. */
  when(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    const backoff = Math.min(this.opts.baseDelayMs * 2 ** n, this.opts.maxDelayMs);
    return Math.max(backoff, this.bucketDelay());
  }

  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  /** Reserves one token; returns how long to wait for it (tokens may go negative: a reservation). */
  private bucketDelay(): number {
    const now = this.now();
    this.tokens = Math.min(this.opts.burst, this.tokens + ((now - this.last) / 1000) * this.opts.qps);
    this.last = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.opts.qps) * 1000;
  }
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly addedAt = new Map<string, number>();
  private readonly startedAt = new Map<string, number>();
  private readonly timers = new Map<string, { timer: NodeJS.Timeout; due: number }>();
  private waiters: Array<(key: string | undefined) => void> = [];
  private shuttingDown = false;
  readonly limiter: RateLimiter;
  private readonly metrics: QueueMetrics;

  constructor(limiter = new RateLimiter(), metrics: QueueMetrics = noMetrics) {
    this.limiter = limiter;
    this.metrics = metrics;
  }

  get length(): number {
    return this.queue.length;
  }

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.metrics.added();
    this.dirty.add(key);
    this.addedAt.set(key, performance.now());
    if (this.processing.has(key)) return; // re-queued by done()
    this.push(key);
  }

  private push(key: string): void {
    const waiter = this.waiters.shift();
    if (waiter) {
      this.take(key);
      waiter(key);
      return;
    }
    this.queue.push(key);
    this.metrics.depth(this.queue.length);
  }

  private take(key: string): void {
    this.dirty.delete(key);
    this.processing.add(key);
    const added = this.addedAt.get(key);
    if (added !== undefined) this.metrics.queued((performance.now() - added) / 1000);
    this.addedAt.delete(key);
    this.startedAt.set(key, performance.now());
  }

  /** Adds `key` after `ms`; a later call with a shorter delay wins. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) return this.add(key);
    const due = Date.now() + ms;
    const existing = this.timers.get(key);
    if (existing && existing.due <= due) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    timer.unref();
    this.timers.set(key, { timer, due });
  }

  addRateLimited(key: string): void {
    this.metrics.retried();
    this.addAfter(key, this.limiter.when(key));
  }

  forget(key: string): void {
    this.limiter.forget(key);
  }

  /** Waits for the next key; undefined once the queue shuts down. */
  get(): Promise<string | undefined> {
    const key = this.queue.shift();
    if (key !== undefined) {
      this.metrics.depth(this.queue.length);
      this.take(key);
      return Promise.resolve(key);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  done(key: string): void {
    this.processing.delete(key);
    const started = this.startedAt.get(key);
    if (started !== undefined) this.metrics.worked((performance.now() - started) / 1000);
    this.startedAt.delete(key);
    if (this.dirty.has(key)) this.push(key);
  }

  isProcessing(key: string): boolean {
    return this.processing.has(key);
  }

  shutDown(): void {
    this.shuttingDown = true;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    for (const waiter of this.waiters) waiter(undefined);
    this.waiters = [];
  }
}
