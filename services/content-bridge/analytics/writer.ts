/**
 * The durable write path with group commit. Requests enqueue their (already validated) events and
 * wait; a flusher takes everything queued (whole requests, up to `maxRows` rows) and writes it with
 * ONE statement, which is its own transaction: a multi-row INSERT ... ON CONFLICT (event_id) DO
 * NOTHING fed from a single jsonb parameter, with the aggregates updated for exactly the newly
 * inserted rows (RETURNING) in the same statement. Each request's promise settles only after that
 * statement has committed.
 *
 * All-or-nothing holds per request, not per group. The flusher first plans optimistically: within
 * the group, an id claimed by an earlier request with another body rejects the later request (409).
 * The statement then checks every row it could not insert against the stored body hash; if one
 * differs (a conflict with a stored event) or is not visible yet (a concurrent writer committed it
 * meanwhile), it raises, which aborts the whole statement, so nothing of the group is kept. The
 * flusher then reads the stored hashes of the group's ids, rejects exactly the requests that
 * conflict, and runs the statement again for the others. Deadlocks and serialization failures are
 * retried the same way. The common case (no conflict) costs one round trip per group.
 */
import type { Database } from '../../kit/deps/database.ts';
import { DependencyUnavailableError } from '../../kit/deps/errors.ts';
import type { Logger } from '../../kit/observability/logger.ts';
import { INSERT_EVENTS_SQL, INSERT_EVENTS_STATEMENT, toRow } from './insert-statement.ts';
import type { PreparedEvent } from './model.ts';

export type WriteOutcome = { status: 'ok'; accepted: string[] } | { status: 'conflict'; conflicting: string[] };

export interface WriterStats {
  /** Requests submitted and settled. */
  requests: number;
  /** Transactions committed (one per flushed group). */
  flushes: number;
  /** Events written new / found already stored with the same body. */
  inserted: number;
  duplicates: number;
  /** Requests rejected with 409. */
  conflicts: number;
  /** Groups rolled back and retried (race, deadlock, serialization failure). */
  retries: number;
  /** The most requests committed by one flush. */
  maxGroupRequests: number;
  /** Wall-clock milliseconds spent in committed flushes (BEGIN to COMMIT), summed. */
  flushMillis: number;
}

export interface EventWriter {
  submit(events: PreparedEvent[], ids: string[]): Promise<WriteOutcome>;
  readonly stats: Readonly<WriterStats>;
  /** Events waiting for a flush. */
  readonly queuedEvents: number;
  stop(): Promise<void>;
}

interface Pending {
  events: PreparedEvent[];
  ids: string[];
  resolve(outcome: WriteOutcome): void;
  reject(err: unknown): void;
}

/** Raised by content.analytics_reject_conflicts (migration 0010). */
const CONFLICT_CODE = 'HMA01';
const RETRYABLE_CODES = new Set([CONFLICT_CODE, '40P01', '40001']);
const MAX_ATTEMPTS = 5;

interface Plan {
  outcomes: WriteOutcome[];
  rows: PreparedEvent[];
  /** Events already stored (per `stored`) with the same body. */
  known: number;
}

/**
 * Decides per request, in queue order: a request is rejected when one of its ids is stored (per
 * `stored`) or claimed by an earlier accepted request of the group with another body.
 */
function plan(group: Pending[], stored: ReadonlyMap<string, string>): Plan {
  const claimed = new Map(stored);
  const rows: PreparedEvent[] = [];
  const outcomes: WriteOutcome[] = [];
  let known = 0;
  for (const req of group) {
    const conflicting = req.events.filter((e) => claimed.has(e.event.event_id) && claimed.get(e.event.event_id) !== e.hash);
    if (conflicting.length) {
      outcomes.push({ status: 'conflict', conflicting: conflicting.map((e) => e.event.event_id) });
      continue;
    }
    for (const e of req.events) {
      if (claimed.has(e.event.event_id)) {
        if (stored.has(e.event.event_id)) known++;
        continue;
      }
      claimed.set(e.event.event_id, e.hash);
      rows.push(e);
    }
    outcomes.push({ status: 'ok', accepted: req.ids });
  }
  return { outcomes, rows, known };
}

async function storedHashes(db: Database, group: Pending[]): Promise<Map<string, string>> {
  const ids = [...new Set(group.flatMap((r) => r.events.map((e) => e.event.event_id)))];
  const { rows } = await db.query<{ event_id: string; body_hash: string }>(
    'SELECT event_id, body_hash FROM content.learning_events WHERE event_id = ANY($1::text[])',
    [ids],
  );
  return new Map(rows.map((r) => [r.event_id, r.body_hash]));
}

export interface WriterOptions {
  /** A flush takes whole requests until it holds this many rows (at least one request). */
  maxRows?: number;
  /** Flushes in flight at once while full groups wait (default 4); otherwise one at a time. */
  concurrency?: number;
  /** Back-pressure: beyond this many queued rows, new requests get a 503 instead of waiting. */
  maxQueuedRows?: number;
  /** Told about every committed group (metrics). */
  onCommit?: (commit: { requests: number; rows: number; seconds: number }) => void;
}

export function createEventWriter(db: Database, logger: Logger, opts: WriterOptions = {}): EventWriter {
  const maxRows = opts.maxRows ?? 1000;
  const concurrency = opts.concurrency ?? 4;
  const maxQueuedRows = opts.maxQueuedRows ?? 50_000;
  let queuedRows = 0;
  const stats: WriterStats = {
    requests: 0,
    flushes: 0,
    inserted: 0,
    duplicates: 0,
    conflicts: 0,
    retries: 0,
    maxGroupRequests: 0,
    flushMillis: 0,
  };
  const queue: Pending[] = [];
  const running = new Set<Promise<void>>();
  let scheduled = false;
  let stopped = false;

  const take = (): Pending[] => {
    const group: Pending[] = [];
    let rows = 0;
    while (queue.length) {
      const next = queue[0]!;
      if (group.length && rows + next.events.length > maxRows) break;
      group.push(queue.shift()!);
      rows += next.events.length;
      queuedRows -= next.events.length;
    }
    return group;
  };

  /**
   * Writes one group and returns how to settle its requests, without settling them: the caller
   * starts the next group first, so PostgreSQL works on it while this process answers these.
   */
  async function flush(group: Pending[]): Promise<() => void> {
    // Optimistic first: nothing is assumed stored; the statement tells if something was.
    let stored: Map<string, string> = new Map();
    for (let attempt = 1; ; attempt++) {
      try {
        const p = plan(group, stored);
        const started = performance.now();
        let inserted = 0;
        let duplicates = p.known;
        if (p.rows.length) {
          const { rows } = await db.query<{ inserted: number; duplicates: number }>(
            INSERT_EVENTS_SQL,
            [JSON.stringify(p.rows.map(toRow))],
            {
              prepare: INSERT_EVENTS_STATEMENT,
            },
          );
          inserted = rows[0]!.inserted;
          duplicates += rows[0]!.duplicates;
        }
        const millis = performance.now() - started;
        stats.flushMillis += millis;
        opts.onCommit?.({ requests: group.length, rows: p.rows.length, seconds: millis / 1000 });
        stats.flushes++;
        stats.requests += group.length;
        stats.inserted += inserted;
        stats.duplicates += duplicates;
        stats.maxGroupRequests = Math.max(stats.maxGroupRequests, group.length);
        return () =>
          p.outcomes.forEach((outcome, i) => {
            if (outcome.status === 'conflict') stats.conflicts++;
            group[i]!.resolve(outcome);
          });
      } catch (err) {
        let failure: unknown = err;
        const code = (err as { code?: string }).code;
        if (code !== undefined && RETRYABLE_CODES.has(code) && attempt < MAX_ATTEMPTS) {
          stats.retries++;
          logger.debug({ attempt, code }, 'analytics event group aborted; deciding again with the stored bodies');
          if (code !== CONFLICT_CODE) await new Promise((r) => setTimeout(r, Math.random() * 10 * attempt));
          try {
            stored = await storedHashes(db, group);
            continue;
          } catch (readErr) {
            failure = readErr;
          }
        }
        stats.requests += group.length;
        return () => {
          for (const req of group) req.reject(failure);
        };
      }
    }
  }

  /**
   * One flush at a time, and more (up to `concurrency`) only while a full group waits. Concurrent
   * statements of small groups wait on each other's locks on the same aggregate rows and pay the
   * statement's fixed cost again; one at a time, with the next started before the last one's requests
   * are answered, PostgreSQL and this process work side by side (issue 14 §3: single events +14 %).
   */
  const mayStart = () => queue.length > 0 && (running.size === 0 || (running.size < concurrency && queuedRows >= maxRows));

  function pump(): void {
    scheduled = false;
    while (mayStart()) {
      const group = take();
      const p: Promise<void> = flush(group)
        .catch((err: unknown) => () => group.forEach((req) => req.reject(err)))
        .then((settle) => {
          running.delete(p);
          pump(); // the next group goes to PostgreSQL before this one's requests are answered
          settle();
        });
      running.add(p);
    }
  }

  return {
    stats,
    get queuedEvents() {
      return queuedRows;
    },
    submit(events, ids) {
      if (stopped) return Promise.reject(new DependencyUnavailableError('analytics-writer', new Error('shutting down')));
      if (queuedRows > 0 && queuedRows + events.length > maxQueuedRows) {
        return Promise.reject(new DependencyUnavailableError('analytics-writer', new Error(`${queuedRows} events already waiting`)));
      }
      return new Promise<WriteOutcome>((resolve, reject) => {
        queue.push({ events, ids, resolve, reject });
        queuedRows += events.length;
        // Wait for the current I/O phase to end, so requests arriving together share a flush.
        if (!scheduled && mayStart()) {
          scheduled = true;
          setImmediate(pump);
        }
      });
    },
    async stop() {
      stopped = true;
      while (queue.length || running.size) {
        if (!running.size) pump();
        await Promise.all([...running]);
      }
    },
  };
}
