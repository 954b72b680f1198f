import { describe, expect, it } from 'vitest';
import { loadModel } from '../../../services/ml-server/inference/index.ts';
import { compatibilityProblems } from '../../../services/ml-server/registry/model.ts';
import { completionFeatures, featureStats, isCompleted, type Aggregates } from '../../../services/ml-server/training/features.ts';

const base: Aggregates = {
  userId: 'u',
  courseId: 'c',
  eventCount: 12,
  activeDays: 4,
  timeSpentSeconds: 4800,
  scoreSum: 170,
  scoreCount: 2,
  lastEventAt: new Date('2026-01-01T00:00:00Z'),
  contentsTouched: 3,
  completed: 2,
  courseItems: 5,
};

describe('completion features', () => {
  it('derives the model inputs from the aggregates', () => {
    expect(completionFeatures(base, new Date('2026-01-11T00:00:00Z'))).toEqual({
      active_days: 4,
      events_per_active_day: 3,
      minutes_per_active_day: 20,
      avg_score: 85,
      days_inactive: 10,
      touched_ratio: 0.6,
    });
    const empty = completionFeatures(
      { ...base, activeDays: 0, eventCount: 0, scoreCount: 0, lastEventAt: null, courseItems: 0 },
      new Date(),
    );
    expect(empty).toMatchObject({ events_per_active_day: 0, avg_score: null, days_inactive: null, touched_ratio: 0 });
    expect(isCompleted(base)).toBe(false);
    expect(isCompleted({ ...base, completed: 5 })).toBe(true);
    expect(isCompleted({ ...base, completed: 0, courseItems: 0 })).toBe(false);
  });

  it('computes mean, population std and count, skipping missing values', () => {
    const stats = featureStats(
      [
        { x: 1, y: null },
        { x: 3, y: 4 },
      ],
      ['x', 'y'],
    );
    expect(stats).toEqual({ rows: 2, features: { x: { mean: 2, std: 1, count: 2 }, y: { mean: 4, std: 0, count: 1 } } });
  });
});

describe('artifact compatibility with the model', () => {
  const artifact = loadModel({ format: 'logistic', feature_names: ['a', 'b'], coefficients: [1, 2], intercept: 0, classes: ['no', 'yes'] });
  it('accepts a fitting artifact and names every mismatch', () => {
    expect(
      compatibilityProblems({ format: 'logistic', task: 'classification', input_schema: null, output_schema: null }, artifact),
    ).toEqual([]);
    const problems = compatibilityProblems(
      {
        format: 'xgboost',
        task: 'regression',
        input_schema: { features: [{ name: 'a', type: 'categorical' }] },
        output_schema: { classes: ['yes', 'no'] },
      },
      artifact,
    );
    expect(problems.map((p) => p.location)).toEqual([
      'body.file',
      'body.file',
      'body.file.inputs.a',
      'body.file.inputs.b',
      'body.file.classes',
    ]);
  });
});
