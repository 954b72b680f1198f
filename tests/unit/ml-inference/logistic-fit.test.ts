import { describe, expect, it } from 'vitest';
import { loadModel } from '../../../services/ml-server/inference/index.ts';
import { auc, fitLogisticRegression, seededRandom, trainTestSplit } from '../../../services/ml-server/inference/logistic-fit.ts';

/** Standard normal from a seeded uniform source (Box-Muller). */
function normal(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

/** Separable-ish data: logit = 3·(x0 − 50)/20 − 2·x1 + 0·x2, x on very different scales, with label noise. */
function dataset(n: number, seed: number): { x: number[][]; y: number[] } {
  const r = seededRandom(seed);
  const x: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const row = [50 + 20 * normal(r), normal(r), 1000 + 300 * normal(r)];
    const logit = (3 * (row[0]! - 50)) / 20 - 2 * row[1]!;
    x.push(row);
    y.push(r() < 1 / (1 + Math.exp(-logit)) ? 1 : 0);
  }
  return { x, y };
}

const NAMES = ['distance', 'wind', 'elevation'];

describe('fitLogisticRegression', () => {
  const { x, y } = dataset(1000, 11);
  const split = trainTestSplit(
    x.map((row, i) => ({ row, label: y[i]! })),
    { seed: 5, testFraction: 0.3, stratify: (d) => d.label },
  );
  const fit = fitLogisticRegression(
    split.train.map((d) => d.row),
    split.train.map((d) => d.label),
    NAMES,
    { classes: ['miss', 'hit'] },
  );

  it('converges and separates held-out data (AUC > 0.9)', () => {
    expect(fit.converged).toBe(true);
    expect(fit.iterations).toBeLessThan(20);
    const model = loadModel(fit.artifact);
    const scores = model.predict(split.test.map((d) => Object.fromEntries(NAMES.map((n, j) => [n, d.row[j]])))).map((p) => {
      if (p.task !== 'classification') throw new Error('classification expected');
      return p.probabilities[1]!;
    });
    expect(
      auc(
        scores,
        split.test.map((d) => d.label),
      ),
    ).toBeGreaterThan(0.9);
    expect(
      auc(
        fit.trainProbabilities,
        split.train.map((d) => d.label),
      ),
    ).toBeGreaterThan(0.9);
  });

  it('recovers the signs and rough sizes of the true coefficients (standardised units)', () => {
    const [distance, wind, elevation] = fit.artifact.coefficients;
    expect(distance).toBeGreaterThan(1.5); // true value 3 per standard deviation
    expect(wind).toBeLessThan(-1); // true value −2
    expect(Math.abs(elevation!)).toBeLessThan(0.4); // no effect
  });

  it('stores the training mean and std as the preprocessing and loads back to its own probabilities', () => {
    const pre = fit.artifact.preprocessing.features;
    expect(pre.map((f) => f.name)).toEqual(NAMES);
    const rows = split.train.map((d) => d.row);
    const mean0 = rows.reduce((s, r) => s + r[0]!, 0) / rows.length;
    const std0 = Math.sqrt(rows.reduce((s, r) => s + (r[0]! - mean0) ** 2, 0) / rows.length);
    expect(pre[0]!.standardize.mean).toBeCloseTo(mean0, 9);
    expect(pre[0]!.standardize.std).toBeCloseTo(std0, 9);
    expect(fit.artifact.classes).toEqual(['miss', 'hit']);
    const model = loadModel(JSON.stringify(fit.artifact));
    const preds = model.predict(rows.slice(0, 50).map((r) => ({ distance: r[0], wind: r[1], elevation: r[2] })));
    preds.forEach((p, i) => {
      if (p.task !== 'classification') throw new Error('classification expected');
      expect(p.probabilities[1]).toBeCloseTo(fit.trainProbabilities[i]!, 12);
      expect(p.label).toBe(fit.trainProbabilities[i]! >= 0.5 ? 'hit' : 'miss');
    });
  });

  it('reaches the optimum: the penalised gradient is zero', () => {
    const l2 = 2;
    const small = dataset(200, 3);
    const f = fitLogisticRegression(small.x, small.y, NAMES, { l2 });
    const a = f.artifact;
    const d = NAMES.length;
    const grad = new Array<number>(d + 1).fill(0);
    small.x.forEach((row, i) => {
      const z = row.map((v, j) => (v - a.preprocessing.features[j]!.standardize.mean) / a.preprocessing.features[j]!.standardize.std);
      const m = a.intercept + z.reduce((s, v, j) => s + v * a.coefficients[j]!, 0);
      const r = 1 / (1 + Math.exp(-m)) - small.y[i]!;
      grad[0]! += r;
      z.forEach((v, j) => (grad[j + 1]! += r * v));
    });
    a.coefficients.forEach((w, j) => (grad[j + 1]! += l2 * w));
    for (const g of grad) expect(Math.abs(g)).toBeLessThan(1e-6);
  });

  it('shrinks coefficients as l2 grows, and is deterministic', () => {
    const norm = (l2: number): number => {
      const f = fitLogisticRegression(x.slice(0, 300), y.slice(0, 300), NAMES, { l2 });
      return Math.hypot(...f.artifact.coefficients);
    };
    expect(norm(100)).toBeLessThan(norm(1));
    expect(norm(1)).toBeLessThan(norm(0.01) + 1e-12);
    const a = fitLogisticRegression(x.slice(0, 300), y.slice(0, 300), NAMES);
    const b = fitLogisticRegression(x.slice(0, 300), y.slice(0, 300), NAMES);
    expect(b.artifact).toEqual(a.artifact);
  });

  it('stays finite on perfectly separable data', () => {
    const xs = [[0], [1], [2], [3], [4], [5]];
    const ys = [0, 0, 0, 1, 1, 1];
    const f = fitLogisticRegression(xs, ys, ['x'], { l2: 0.01 });
    expect(Number.isFinite(f.artifact.coefficients[0]!)).toBe(true);
    expect(auc(f.trainProbabilities, ys)).toBe(1);
    expect(f.trainProbabilities[2]!).toBeLessThan(0.5);
    expect(f.trainProbabilities[3]!).toBeGreaterThan(0.5);
  });

  it('imputes NaN with the mean when asked, and records it as the default', () => {
    const xs = [
      [1, 0],
      [NaN, 1],
      [3, 0],
      [5, 1],
      [NaN, 0],
      [2, 1],
    ];
    const ys = [0, 1, 0, 1, 0, 1];
    expect(() => fitLogisticRegression(xs, ys, ['a', 'b'])).toThrow("row 1, feature 'a' is NaN (set imputeMissing to impute NaN)");
    const f = fitLogisticRegression(xs, ys, ['a', 'b'], { imputeMissing: true });
    expect(f.artifact.preprocessing.features[0]!.default).toBe(11 / 4);
    expect(f.artifact.preprocessing.features[0]!.standardize.mean).toBe(11 / 4);
    const model = loadModel(f.artifact);
    expect(model.predict([{ b: 1 }])).toEqual(model.predict([{ a: 11 / 4, b: 1 }]));
  });

  it('rejects unusable training data', () => {
    expect(() => fitLogisticRegression([[1], [2]], [1, 1], ['a'])).toThrow('y needs both classes');
    expect(() => fitLogisticRegression([[1], [2, 3]], [0, 1], ['a'])).toThrow('row 1 has 2 values but there are 1 features');
    expect(() => fitLogisticRegression([[1], [2]], [0, 2], ['a'])).toThrow('y[1] must be 0, 1, true or false, got 2');
    expect(() => fitLogisticRegression([[1], [2]], [0, 1], ['a'], { l2: -1 })).toThrow('l2 must be a finite number >= 0');
  });
});
