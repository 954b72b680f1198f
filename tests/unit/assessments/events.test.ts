import { describe, expect, it } from 'vitest';
import type { Queryable, QueryResult } from '../../../services/kit/deps/database.ts';
import { outboxLearningEventSink, toApiEvent, type LearningEvent } from '../../../services/content-bridge/assessments/events.ts';

const event: LearningEvent = {
  event_type: 'assessment_complete',
  event_id: '6f1c1b57-7d2b-4c1e-9a0e-6a3c2f7d8e90',
  user_id: '3a9d8f1e-2b7c-4d6e-8f90-1a2b3c4d5e6f',
  course_id: 'c0c0c0c0-1111-4222-8333-444455556666',
  content_id: null,
  occurred_at: '2025-11-22T02:00:00.000Z',
  data: {
    assessment_id: 'aaaaaaaa-1111-4222-8333-444455556666',
    attempt_id: '6f1c1b57-7d2b-4c1e-9a0e-6a3c2f7d8e90',
    score: 80,
    points: 8,
    max_points: 10,
    passed: true,
    passing_score: 70,
    attempt_number: 1,
  },
};

/** A fake transaction: answers by the first matching pattern and records every statement. */
function fakeTx(opts: { alreadyRecorded?: boolean; failInsert?: boolean } = {}) {
  const log: Array<{ sql: string; params: unknown[] | undefined }> = [];
  const tx: Queryable = {
    async query<R>(sql: string, params?: unknown[]): Promise<QueryResult<R>> {
      log.push({ sql: sql.replace(/\s+/g, ' ').trim(), params });
      const rows = (r: unknown[]) => ({ rows: r as R[], rowCount: r.length });
      if (sql.includes('INSERT INTO content.assessment_events_outbox')) return rows(opts.alreadyRecorded ? [] : [{ id: '7' }]);
      if (sql.includes('jsonb_to_recordset') && opts.failInsert) throw new Error('null value in column "body_hash"');
      return rows([]);
    },
  };
  return { tx, log, statements: () => log.map((l) => l.sql.split(' ').slice(0, 3).join(' ')) };
}

/** The one row handed to the learning-events writer's statement. */
const forwardedRow = (log: Array<{ sql: string; params: unknown[] | undefined }>) => {
  const insert = log.find((l) => l.sql.includes('jsonb_to_recordset'))!;
  return (JSON.parse(insert.params![0] as string) as Array<Record<string, unknown>>)[0]!;
};

describe('outboxLearningEventSink', () => {
  it('records the event in the outbox, then through the learning-events writer, and marks it forwarded', async () => {
    const { tx, log, statements } = fakeTx();
    await outboxLearningEventSink().record(tx, event);
    expect(statements()).toEqual([
      'INSERT INTO content.assessment_events_outbox',
      'SAVEPOINT assessment_event_forward',
      'WITH input AS',
      'UPDATE content.assessment_events_outbox SET',
      'RELEASE SAVEPOINT assessment_event_forward',
    ]);
    const row = forwardedRow(log);
    expect(row).toMatchObject({
      event_id: event.event_id,
      event_type: 'assessment_complete',
      user_id: event.user_id,
      course_id: event.course_id,
    });
    expect(row.event_data).toEqual({
      score: 80,
      custom_fields: {
        assessment_id: event.data.assessment_id,
        attempt_id: event.data.attempt_id,
        points: 8,
        max_points: 10,
        passed: true,
        passing_score: 70,
        attempt_number: 1,
      },
    });
    expect(row.body_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('hashes the same event the same way whatever the key order', async () => {
    const a = fakeTx();
    const b = fakeTx();
    await outboxLearningEventSink().record(a.tx, event);
    await outboxLearningEventSink().record(b.tx, {
      ...event,
      data: Object.fromEntries(Object.entries(event.data).reverse()) as LearningEvent['data'],
    });
    expect(forwardedRow(a.log).body_hash).toBe(forwardedRow(b.log).body_hash);
  });

  it('rolls back to the savepoint and keeps the outbox row unforwarded when the copy fails', async () => {
    const warnings: unknown[] = [];
    const logger = { warn: (...args: unknown[]) => warnings.push(args) } as never;
    const { tx, statements } = fakeTx({ failInsert: true });
    await expect(outboxLearningEventSink(logger).record(tx, event)).resolves.toBeUndefined();
    expect(statements()).toEqual([
      'INSERT INTO content.assessment_events_outbox',
      'SAVEPOINT assessment_event_forward',
      'WITH input AS',
      'ROLLBACK TO SAVEPOINT',
    ]);
    expect(warnings).toHaveLength(1);
  });

  it('does nothing more when the event was already recorded', async () => {
    const { tx, statements } = fakeTx({ alreadyRecorded: true });
    await outboxLearningEventSink().record(tx, event);
    expect(statements()).toEqual(['INSERT INTO content.assessment_events_outbox']);
  });
});

describe('toApiEvent', () => {
  it('puts course and content in the context and leaves out what is unknown', () => {
    expect(toApiEvent(event)).toMatchObject({
      event_id: event.event_id,
      timestamp: event.occurred_at,
      context: { course_id: event.course_id },
      data: { score: 80 },
    });
    expect(toApiEvent(event).context).not.toHaveProperty('content_id');
  });
});
