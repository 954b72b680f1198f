import { describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../services/kit/observability/logger.ts';
import { PredictionLog, type PredictionEvent } from '../../../services/ml-server/serving/prediction-log.ts';

const logger = createLogger({ service: 'test', level: 'silent' });

function fakeDb(fail = false) {
  const calls: Array<{ sql: string; rows: any[] }> = [];
  return {
    calls,
    fail,
    async query(sql: string, params?: unknown[]) {
      if (this.fail) throw new Error('database down');
      calls.push({ sql, rows: JSON.parse(String(params?.[0])) });
      return { rows: [], rowCount: 0 };
    },
  };
}

const event = (i: number, extra: Partial<PredictionEvent> = {}): PredictionEvent => ({
  modelId: '00000000-0000-4000-8000-000000000001',
  modelName: 'm',
  version: 1,
  rows: 1,
  cached: i % 2 === 0,
  latencyMs: i,
  inputs: [{ x: i }],
  outputs: [{ value: i }],
  error: null,
  userId: 'not-a-uuid',
  ...extra,
});

describe('PredictionLog', () => {
  it('counts every request and buffers only the sample', async () => {
    const db = fakeDb();
    let r = 0;
    const values = [0.05, 0.5, 0.09, 0.95];
    const log = new PredictionLog({
      db,
      logger,
      sampleRate: 0.1,
      flushMs: 1000,
      bufferSize: 10,
      batchSize: 10,
      maxRows: 5,
      random: () => values[r++ % 4]!,
    });
    for (let i = 0; i < 4; i++) log.record(event(i));
    expect(log.buffered).toBe(2);
    await log.flush();
    const counts = db.calls.find((c) => c.sql.includes('prediction_counts'))!;
    expect(counts.rows).toEqual([expect.objectContaining({ requests: 4, rows: 4, cached: 2, errors: 0, version: 1 })]);
    const sampled = db.calls.find((c) => c.sql.includes('ml.predictions'))!;
    expect(sampled.rows.map((x) => x.latency_ms)).toEqual([0, 2]);
    expect(sampled.rows[0].user_id).toBeNull(); // only UUIDs are kept
    expect(log.written).toBe(2);
  });

  it('drops the oldest records when the buffer is full', async () => {
    const db = fakeDb();
    const log = new PredictionLog({ db, logger, sampleRate: 1, flushMs: 1000, bufferSize: 3, batchSize: 100, maxRows: 5 });
    for (let i = 0; i < 5; i++) log.record(event(i));
    expect(log.buffered).toBe(3);
    expect(log.dropped).toBe(2);
    await log.flush();
    expect(db.calls.find((c) => c.sql.includes('ml.predictions'))!.rows.map((x) => x.latency_ms)).toEqual([2, 3, 4]);
  });

  it('truncates large batches and evaluates lazy outputs only when sampled', async () => {
    const db = fakeDb();
    let evaluated = 0;
    const log = new PredictionLog({ db, logger, sampleRate: 1, flushMs: 1000, bufferSize: 10, batchSize: 10, maxRows: 2 });
    log.record(event(1, { rows: 4, inputs: [1, 2, 3, 4], outputs: () => (evaluated++, [5, 6, 7, 8]) }));
    await log.flush();
    const row = db.calls.find((c) => c.sql.includes('ml.predictions'))!.rows[0];
    expect(row).toMatchObject({ rows: 4, inputs: [1, 2], outputs: [5, 6] });
    expect(evaluated).toBe(1);

    const none = new PredictionLog({ db, logger, sampleRate: 0, flushMs: 1000, bufferSize: 10, batchSize: 10, maxRows: 2 });
    none.record(event(1, { outputs: () => (evaluated++, []) }));
    expect(evaluated).toBe(1);
  });

  it('keeps counters for the next flush when the database is down', async () => {
    const db = fakeDb(true);
    const log = new PredictionLog({ db, logger, sampleRate: 0, flushMs: 1000, bufferSize: 10, batchSize: 10, maxRows: 2 });
    log.record(event(1, { error: 'bad input' }));
    await log.flush();
    log.record(event(2));
    db.fail = false;
    await log.flush();
    expect(db.calls[0]!.rows).toEqual([expect.objectContaining({ requests: 2, errors: 1 })]);
  });

  it('flushes on a timer and on stop', async () => {
    const db = fakeDb();
    const log = new PredictionLog({ db, logger, sampleRate: 1, flushMs: 10, bufferSize: 10, batchSize: 100, maxRows: 2 });
    log.start();
    log.record(event(1));
    await vi.waitFor(() => expect(log.written).toBe(1), { timeout: 10_000, interval: 5 });
    log.record(event(2));
    await log.stop();
    expect(log.written).toBe(2);
  });
});
