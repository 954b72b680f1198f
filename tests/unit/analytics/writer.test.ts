import { describe, expect, it } from 'vitest';
import type { Database } from '../../../services/kit/deps/database.ts';
import { DependencyUnavailableError } from '../../../services/kit/deps/errors.ts';
import { createLogger } from '../../../services/kit/observability/logger.ts';
import type { PreparedEvent } from '../../../services/content-bridge/analytics/model.ts';
import { createEventWriter } from '../../../services/content-bridge/analytics/writer.ts';

const logger = createLogger({ service: 'test', level: 'silent' });

/** A database whose statements wait until released; records each statement's row count. */
function fakeDb() {
  const statements: number[] = [];
  const waiting: Array<() => void> = [];
  const db = {
    driver: 'fake',
    async query(_sql: string, params?: unknown[]) {
      const rows = JSON.parse(params![0] as string) as unknown[];
      statements.push(rows.length);
      await new Promise<void>((resolve) => waiting.push(resolve));
      return { rows: [{ inserted: rows.length, duplicates: 0 }], rowCount: 1 };
    },
  } as unknown as Database;
  const releaseAll = async () => {
    while (waiting.length) waiting.shift()!();
    await new Promise((r) => setTimeout(r, 5));
  };
  return { db, statements, releaseAll };
}

let n = 0;
const events = (count: number): PreparedEvent[] =>
  Array.from({ length: count }, () => {
    const id = `e-${++n}`;
    return {
      event: { event_id: id, event_type: 'login', user_id: 'u', timestamp: '2025-01-01T00:00:00.000Z', context: {}, data: {} },
      hash: id,
      source: 'api',
      submittedBy: null,
    };
  });

const submit = (writer: ReturnType<typeof createEventWriter>, evs: PreparedEvent[]) =>
  writer.submit(
    evs,
    evs.map((e) => e.event.event_id),
  );

describe('event writer', () => {
  it('coalesces requests queued together into one statement, and never splits a request', async () => {
    const { db, statements, releaseAll } = fakeDb();
    const writer = createEventWriter(db, logger, { maxRows: 10, concurrency: 1 });
    const done = [submit(writer, events(4)), submit(writer, events(4)), submit(writer, events(4)), submit(writer, events(1))];
    await new Promise((r) => setImmediate(r));
    expect(statements).toEqual([8]);
    await releaseAll();
    expect(statements).toEqual([8, 5]);
    await releaseAll();
    expect((await Promise.all(done)).map((o) => o.status)).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(writer.stats).toMatchObject({ requests: 4, flushes: 2, inserted: 13, maxGroupRequests: 2 });
  });

  it('answers 503 (dependency unavailable) instead of queueing without bound, and after stop', async () => {
    const { db, releaseAll } = fakeDb();
    const writer = createEventWriter(db, logger, { maxRows: 5, concurrency: 1, maxQueuedRows: 6 });
    const first = submit(writer, events(5));
    await new Promise((r) => setImmediate(r)); // in flight, no longer queued
    const queued = submit(writer, events(5));
    await expect(submit(writer, events(2))).rejects.toBeInstanceOf(DependencyUnavailableError);
    const stopping = writer.stop();
    await expect(submit(writer, events(1))).rejects.toBeInstanceOf(DependencyUnavailableError);
    await releaseAll();
    await releaseAll();
    await stopping;
    expect((await Promise.all([first, queued])).map((o) => o.status)).toEqual(['ok', 'ok']);
  });

  it('keeps one statement in flight while groups are small, and starts more only while a full group waits', async () => {
    const { db, statements, releaseAll } = fakeDb();
    const writer = createEventWriter(db, logger, { maxRows: 10, concurrency: 3 });
    const small = [submit(writer, events(2))];
    await new Promise((r) => setImmediate(r));
    small.push(submit(writer, events(2)), submit(writer, events(3)));
    await new Promise((r) => setImmediate(r));
    expect(statements).toEqual([2]); // the later small requests wait for the first statement
    const full = [submit(writer, events(5)), submit(writer, events(5))];
    await new Promise((r) => setImmediate(r));
    expect(statements).toEqual([2, 10]); // 15 rows waiting: a full group (2 + 3 + 5) goes beside it, the last 5 wait
    await releaseAll();
    expect(statements).toEqual([2, 10, 5]);
    await releaseAll();
    expect((await Promise.all([...small, ...full])).every((o) => o.status === 'ok')).toBe(true);
  });

  it('sends the next group to the database before it answers the requests of the last one', async () => {
    const order: string[] = [];
    const waiting: Array<() => void> = [];
    const db = {
      driver: 'fake',
      async query(_sql: string, params?: unknown[]) {
        const rows = JSON.parse(params![0] as string) as Array<{ event_id: string }>;
        order.push(`statement ${rows.map((r) => r.event_id).join(',')}`);
        await new Promise<void>((resolve) => waiting.push(resolve));
        return { rows: [{ inserted: rows.length, duplicates: 0 }], rowCount: 1 };
      },
    } as unknown as Database;
    const writer = createEventWriter(db, logger, { concurrency: 1 });
    const [a, b] = [events(1), events(1)];
    const first = submit(writer, a).then(() => order.push(`answered ${a[0]!.event.event_id}`));
    await new Promise((r) => setImmediate(r));
    const second = submit(writer, b).then(() => order.push(`answered ${b[0]!.event.event_id}`));
    waiting.shift()!();
    await first;
    expect(order).toEqual([`statement ${a[0]!.event.event_id}`, `statement ${b[0]!.event.event_id}`, `answered ${a[0]!.event.event_id}`]);
    waiting.shift()!();
    await second;
  });
});
