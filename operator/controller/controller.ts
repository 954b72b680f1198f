/**
 * Runs a reconciler over a work queue with a fixed number of workers. Level-triggered: the
 * reconciler is given only a key and reads the current state itself. Every error retries with per-key
 * backoff; success forgets the key's failures; `requeueAfterMs` schedules a later look.
 */
import type { Logger } from 'pino';
import type { OperatorMetrics } from './metrics.ts';
import { RateLimiter, WorkQueue } from './workqueue.ts';

export interface ReconcileResult {
  requeueAfterMs?: number;
}

export type ReconcileFn = (key: string) => Promise<ReconcileResult | void>;

export interface ControllerOptions {
  name: string;
  reconcile: ReconcileFn;
  concurrency: number;
  metrics: OperatorMetrics;
  logger: Logger;
  limiter?: RateLimiter;
}

export class Controller {
  readonly queue: WorkQueue;
  private readonly o: ControllerOptions;
  private workers: Promise<void>[] = [];
  private active = 0;

  constructor(o: ControllerOptions) {
    this.o = o;
    this.queue = new WorkQueue(o.limiter ?? new RateLimiter(), o.metrics.queue);
    o.metrics.maxWorkers.set({ controller: o.name }, o.concurrency);
  }

  private async worker(): Promise<void> {
    const { name, metrics, logger } = this.o;
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      this.active++;
      metrics.activeWorkers.set({ controller: name }, this.active);
      const end = metrics.reconcileTime.startTimer({ controller: name });
      try {
        const result = await this.o.reconcile(key);
        this.queue.forget(key);
        if (result?.requeueAfterMs) {
          this.queue.addAfter(key, result.requeueAfterMs);
          metrics.reconcileTotal.inc({ controller: name, result: 'requeue_after' });
        } else {
          metrics.reconcileTotal.inc({ controller: name, result: 'success' });
        }
      } catch (err) {
        metrics.reconcileTotal.inc({ controller: name, result: 'error' });
        metrics.reconcileErrors.inc({ controller: name });
        logger.warn(
          { key, err: (err as Error).message, retries: this.queue.limiter.retries(key) },
          'reconcile failed; retrying with backoff',
        );
        this.queue.addRateLimited(key);
      } finally {
        end();
        this.active--;
        metrics.activeWorkers.set({ controller: name }, this.active);
        this.queue.done(key);
      }
    }
  }

  start(): void {
    for (let i = 0; i < this.o.concurrency; i++) this.workers.push(this.worker());
  }

  /** Stops taking keys and waits for in-flight reconciles to finish. */
  async stop(): Promise<void> {
    this.queue.shutDown();
    await Promise.all(this.workers);
    this.workers = [];
  }
}
