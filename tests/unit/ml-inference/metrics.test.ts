import { describe, expect, it } from 'vitest';
import { accuracy, auc, logLoss, seededRandom, trainTestSplit } from '../../../services/ml-server/inference/logistic-fit.ts';

describe('auc', () => {
  it('matches hand-computed examples', () => {
    // positives 0.35, 0.8 against negatives 0.1, 0.4: pairs won 0.35>0.1, 0.8>0.1, 0.8>0.4 → 3 of 4
    expect(auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBe(0.75);
    // a tie between a positive and a negative counts one half: (0.5 + 1 + 1 + 1) / 4
    expect(auc([0.5, 0.5, 0.2, 0.9], [1, 0, 0, 1])).toBe(0.875);
    expect(auc([1, 2, 3], [false, true, true])).toBe(1);
    expect(auc([3, 2, 1], [0, 1, 1])).toBe(0);
    expect(auc([7, 7, 7, 7], [0, 1, 0, 1])).toBe(0.5);
  });

  it('agrees with counting pairs on random data', () => {
    const r = seededRandom(7);
    const scores = Array.from({ length: 300 }, () => Math.round(r() * 20) / 20); // many ties
    const labels = scores.map((s) => (r() < s ? 1 : 0));
    let won = 0;
    let pairs = 0;
    scores.forEach((si, i) =>
      scores.forEach((sj, j) => {
        if (labels[i] === 1 && labels[j] === 0) {
          pairs++;
          won += si > sj ? 1 : si === sj ? 0.5 : 0;
        }
      }),
    );
    expect(auc(scores, labels)).toBeCloseTo(won / pairs, 12);
  });

  it('rejects inputs it cannot score', () => {
    expect(() => auc([0.1, 0.2], [1, 1])).toThrow('at least one positive and one negative');
    expect(() => auc([0.1], [1, 0])).toThrow('1 scores but 2 labels');
    expect(() => auc([NaN, 1], [1, 0])).toThrow('scores[0] is NaN');
    expect(() => auc([0, 1], [1, 2])).toThrow('labels[1] must be 0, 1, true or false, got 2');
  });
});

describe('accuracy and logLoss', () => {
  it('computes the share of matches', () => {
    expect(accuracy(['a', 'b', 'c', 'a'], ['a', 'b', 'a', 'b'])).toBe(0.5);
    expect(accuracy([1, 0, 1], [1, 0, 1])).toBe(1);
    expect(() => accuracy([1], [1, 2])).toThrow('1 predictions but 2 labels');
  });

  it('computes the mean negative log-likelihood', () => {
    expect(logLoss([0.8, 0.4], [1, 0])).toBeCloseTo(-(Math.log(0.8) + Math.log(0.6)) / 2, 15);
    expect(Number.isFinite(logLoss([0, 1], [1, 0]))).toBe(true);
  });
});

describe('trainTestSplit', () => {
  const items = Array.from({ length: 100 }, (_, i) => ({ id: i, label: i % 4 === 0 ? 1 : 0 }));

  it('is deterministic for a seed, disjoint and complete', () => {
    const a = trainTestSplit(items, { seed: 42, testFraction: 0.25 });
    const b = trainTestSplit(items, { seed: 42, testFraction: 0.25 });
    expect(a.testIndices).toEqual(b.testIndices);
    expect(a.test).toHaveLength(25);
    expect(a.train).toHaveLength(75);
    expect([...a.trainIndices, ...a.testIndices].sort((x, y) => x - y)).toEqual(items.map((x) => x.id));
    expect(a.test.map((x) => x.id)).toEqual(a.testIndices);
    expect(a.testIndices).toEqual([...a.testIndices].sort((x, y) => x - y));
    const c = trainTestSplit(items, { seed: 43, testFraction: 0.25 });
    expect(c.testIndices).not.toEqual(a.testIndices);
    // not simply the first or last items
    expect(a.testIndices).not.toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(a.testIndices).not.toEqual(Array.from({ length: 25 }, (_, i) => 75 + i));
  });

  it('stratifies by a key', () => {
    const s = trainTestSplit(items, { seed: 1, testFraction: 0.2, stratify: (x) => x.label });
    expect(s.test.filter((x) => x.label === 1)).toHaveLength(5); // 20% of the 25 positives
    expect(s.test.filter((x) => x.label === 0)).toHaveLength(15); // 20% of the 75 negatives
  });

  it('uses a default of 20% and validates its options', () => {
    expect(trainTestSplit(items, { seed: 3 }).test).toHaveLength(20);
    expect(() => trainTestSplit(items, { seed: 3, testFraction: 1.5 })).toThrow('testFraction must be in [0, 1], got 1.5');
  });

  it('seededRandom gives the same sequence for a seed, in [0, 1)', () => {
    const a = seededRandom(99);
    const b = seededRandom(99);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(new Set(xs).size).toBeGreaterThan(990);
  });
});
