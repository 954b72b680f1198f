/** The condition changes the operator logs: once per change of status or reason, warnings for failures. */
import { describe, expect, it } from 'vitest';
import { conditionTransitions } from '../../../operator/reconcile/transitions.ts';
import type { Condition } from '../../../operator/specs/index.ts';

const c = (type: string, status: Condition['status'], reason: string, message = `${type} ${reason}`): Condition => ({
  type,
  status,
  reason,
  message,
  lastTransitionTime: '2026-03-01T10:00:00Z',
});

describe('conditionTransitions', () => {
  it('reports new conditions and changed status or reason, not a message that only counts replicas', () => {
    const before = [c('Ready', 'False', 'NotReady', '1/2'), c('MigrationsComplete', 'False', 'MigrationRunning')];
    expect(
      conditionTransitions(before, [c('Ready', 'False', 'NotReady', '2/2'), c('MigrationsComplete', 'False', 'MigrationRunning')]),
    ).toEqual([]);
    const after = [c('Ready', 'False', 'NotReady'), c('MigrationsComplete', 'False', 'MigrationFailed', 'Job x failed (attempt 1)')];
    expect(conditionTransitions(before, after)).toEqual([
      {
        type: 'MigrationsComplete',
        from: 'False/MigrationRunning',
        status: 'False',
        reason: 'MigrationFailed',
        message: 'Job x failed (attempt 1)',
        level: 'warn',
      },
    ]);
    expect(conditionTransitions(undefined, [c('Ready', 'False', 'NotCreated')])).toEqual([
      { type: 'Ready', status: 'False', reason: 'NotCreated', message: 'Ready NotCreated', level: 'info' },
    ]);
  });

  it('warns when Degraded turns True or a condition names a failure, informs otherwise', () => {
    const levels = (next: Condition[]) => conditionTransitions([], next).map((t) => `${t.type}:${t.level}`);
    expect(
      levels([
        c('Degraded', 'True', 'ReconcileError'),
        c('ObjectStorageReady', 'False', 'BucketCreationFailed'),
        c('PostgresReady', 'False', 'SecretMissing'),
        c('Ready', 'True', 'Ready'),
        c('Degraded', 'False', 'AsExpected'),
      ]),
    ).toEqual(['Degraded:warn', 'ObjectStorageReady:warn', 'PostgresReady:warn', 'Ready:info', 'Degraded:info']);
  });
});
