/**
 * The outbound stream to the analytics module: a background task that claims unsynced events with
 * `FOR UPDATE SKIP LOCKED` inside a transaction, POSTs them as one JSON batch to
 * `${HMA_ANALYTICS_API_URL}/events/batch`, and marks them synced only after a 2xx, in the same
 * transaction. A failure (non-2xx, timeout, network, database) rolls the transaction back, so the
 * rows stay unsynced, and the next attempt waits an exponential, capped, jittered backoff.
 *
 * Delivery is at least once: all state is in PostgreSQL, so a restart resumes where the last commit
 * left off, and a batch the module received but whose answer was lost is sent again. Replicas never
 * send the same rows at the same time: SKIP LOCKED hands each one a disjoint set.
 */
import { randomUUID } from 'node:crypto';
import type { Database } from '../../kit/deps/database.ts';
import type { Logger } from '../../kit/observability/logger.ts';
import type { BackgroundTask } from '../../kit/lifecycle.ts';
import type { LearningEvent } from './model.ts';

export const BATCH_PATH = '/events/batch';

export interface ForwarderOptions {
  url: string;
  batchSize: number;
  flushIntervalMs: number;
  requestTimeoutMs: number;
  maxBackoffMs: number;
  serviceToken?: string | undefined;
  /** How long stop() lets an in-flight batch finish before abandoning it. */
  stopGraceMs?: number;
}

export interface ForwarderStats {
  batchesSent: number;
  eventsSent: number;
  failures: number;
  consecutiveFailures: number;
  lastError: string | null;
  lastSuccessAt: string | null;
}

export interface Forwarder extends BackgroundTask {
  readonly stats: Readonly<ForwarderStats>;
}

/** Full-jitter-ish exponential backoff: between half and all of min(max, base·2^(n-1)). */
export function backoffDelay(failures: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, Math.min(failures - 1, 30)));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

interface EventRow {
  id: string;
  event_id: string;
  event_type: LearningEvent['event_type'];
  user_id: string;
  course_id: string | null;
  content_id: string | null;
  session_id: string | null;
  event_data: LearningEvent['data'];
  context_data: Record<string, string>;
  occurred_at: Date;
}

/** A stored row back in the API's event shape, as the analytics module receives it. */
export function rowToEvent(row: EventRow): LearningEvent {
  return {
    event_id: row.event_id,
    event_type: row.event_type,
    user_id: row.user_id,
    ...(row.session_id ? { session_id: row.session_id } : {}),
    timestamp: row.occurred_at.toISOString(),
    context: {
      ...(row.course_id ? { course_id: row.course_id } : {}),
      ...(row.content_id ? { content_id: row.content_id } : {}),
      ...row.context_data,
    },
    data: row.event_data,
  };
}

export function createForwarder(db: Database, logger: Logger, opts: ForwarderOptions): Forwarder {
  const endpoint = `${opts.url.replace(/\/+$/, '')}${BATCH_PATH}`;
  const log = logger.child({ component: 'analytics-forwarder' });
  const stats: ForwarderStats = {
    batchesSent: 0,
    eventsSent: 0,
    failures: 0,
    consecutiveFailures: 0,
    lastError: null,
    lastSuccessAt: null,
  };
  let stopping = false;
  let loop: Promise<void> | undefined;
  let abortInFlight: AbortController | undefined;
  let wake: (() => void) | undefined;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });

  async function post(events: LearningEvent[], signal: AbortSignal): Promise<void> {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'hma-content-bridge/analytics-forwarder' };
    if (opts.serviceToken) headers['x-service-token'] = opts.serviceToken;
    const body = JSON.stringify({ batch_id: randomUUID(), sent_at: new Date().toISOString(), source: 'hma-content-bridge', events });
    const res = await fetch(endpoint, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.any([signal, AbortSignal.timeout(opts.requestTimeoutMs)]),
    });
    await res.arrayBuffer().catch(() => undefined); // drain, so the connection can be reused
    if (res.status < 200 || res.status > 299) throw new Error(`analytics module answered ${res.status}`);
  }

  /** One claim-send-mark cycle; returns how many events were delivered. */
  async function sendBatch(): Promise<number> {
    const controller = new AbortController();
    abortInFlight = controller;
    try {
      return await db.transaction(async (tx) => {
        const { rows } = await tx.query<EventRow>(
          `SELECT id, event_id, event_type, user_id, course_id, content_id, session_id, event_data, context_data, occurred_at
             FROM content.learning_events
            WHERE NOT synced_to_analytics
            ORDER BY id
            LIMIT $1
            FOR UPDATE SKIP LOCKED`,
          [opts.batchSize],
        );
        if (!rows.length) return 0;
        await post(rows.map(rowToEvent), controller.signal);
        await tx.query('UPDATE content.learning_events SET synced_to_analytics = true, synced_at = now() WHERE id = ANY($1::bigint[])', [
          rows.map((r) => r.id),
        ]);
        return rows.length;
      });
    } finally {
      abortInFlight = undefined;
    }
  }

  async function run(): Promise<void> {
    const baseBackoffMs = Math.min(1000, opts.flushIntervalMs);
    while (!stopping) {
      let sent: number;
      try {
        sent = await sendBatch();
      } catch (err) {
        if (stopping) break;
        stats.failures++;
        stats.consecutiveFailures++;
        stats.lastError = (err as Error).message;
        const delay = backoffDelay(stats.consecutiveFailures, baseBackoffMs, opts.maxBackoffMs);
        log.warn(
          { err: (err as Error).message, failures: stats.consecutiveFailures, retry_in_ms: delay },
          'analytics batch not delivered; will retry',
        );
        await sleep(delay);
        continue;
      }
      if (sent > 0) {
        stats.batchesSent++;
        stats.eventsSent += sent;
        stats.lastSuccessAt = new Date().toISOString();
        if (stats.consecutiveFailures) log.info({ after_failures: stats.consecutiveFailures }, 'analytics stream recovered');
      }
      stats.consecutiveFailures = 0;
      // A full batch means more may be waiting: go again at once; otherwise wait for the interval.
      if (sent < opts.batchSize && !stopping) await sleep(opts.flushIntervalMs);
    }
  }

  return {
    name: 'analytics-forwarder',
    stats,
    start() {
      if (loop) return;
      stopping = false;
      log.info({ endpoint, batch_size: opts.batchSize, flush_interval_ms: opts.flushIntervalMs }, 'analytics forwarder started');
      loop = run().catch((err) => log.error({ err }, 'analytics forwarder crashed'));
    },
    async stop() {
      stopping = true;
      wake?.();
      if (!loop) return;
      // Let an in-flight batch finish briefly; then abandon it: the rollback leaves it unsynced.
      const grace = setTimeout(() => abortInFlight?.abort(new Error('forwarder stopping')), opts.stopGraceMs ?? 2000);
      await loop;
      clearTimeout(grace);
      loop = undefined;
    },
  };
}
