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
});
