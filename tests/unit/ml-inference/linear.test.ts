import { describe, expect, it } from 'vitest';
import { loadModel } from '../../../services/ml-server/inference/index.ts';
import type { ClassificationPrediction, Prediction } from '../../../services/ml-server/inference/index.ts';

const cls = (p: Prediction | undefined): ClassificationPrediction => {
  if (p?.task !== 'classification') throw new Error('expected a classification prediction');
  return p;
};

describe('linear regression', () => {
  const model = loadModel(
    JSON.stringify({ format: 'linear', feature_names: ['x1', 'x2', 'x3'], coefficients: [2, -0.5, 0.25], intercept: 1 }),
  );

  it('computes intercept + coefficients · features', () => {
    expect(model.predict([{ x1: 3, x2: 4, x3: 8 }])).toEqual([{ task: 'regression', value: 1 + 6 - 2 + 2 }]);
    expect(
      model.predict([
        { x1: 0, x2: 0, x3: 0 },
        { x1: -1, x2: 2, x3: 0.5 },
      ]),
    ).toEqual([
      { task: 'regression', value: 1 },
      { task: 'regression', value: 1 - 2 - 1 + 0.125 },
    ]);
    expect(model.predict([])).toEqual([]);
  });

  it('has a regression schema and a matrix fast path', () => {
    expect(model.format).toBe('linear');
    expect(model.task).toBe('regression');
    expect(model.inputSchema.missingValues).toBe('error');
    expect(model.inputSchema.features.map((f) => ({ name: f.name, datatype: f.datatype, required: f.required }))).toEqual([
      { name: 'x1', datatype: 'FP64', required: true },
      { name: 'x2', datatype: 'FP64', required: true },
      { name: 'x3', datatype: 'FP64', required: true },
    ]);
    expect(Array.from(model.predictMatrix(Float64Array.of(3, 4, 8, 0, 0, 0), 2, 3))).toEqual([7, 1]);
    expect(() => model.predictMatrix(Float64Array.of(1, 2), 1, 2)).toThrow(
      'the model has 3 features (inputSchema.modelFeatures) but cols is 2',
    );
    expect(() => model.predictMatrix(Float64Array.of(1, 2, 3, 4), 2, 3)).toThrow('x has 4 values but rows × cols is 6');
  });

  it('rejects missing and non-numeric features by name', () => {
    expect(() => model.predict([{ x1: 1, x3: 2 }])).toThrow("row 0: feature 'x2' is required but missing (it has no default)");
    expect(() => model.predict([{ x1: 1, x2: null, x3: 2 }])).toThrow("row 0: feature 'x2' is required but null (it has no default)");
    expect(() => model.predict([{ x1: 1, x2: 2, x3: true }])).toThrow("row 0: feature 'x3' must be a finite number, got boolean");
  });
});

describe('logistic regression, binary', () => {
  // z = 0.5 + 1·a − 2·b
  const artifact = { format: 'logistic', feature_names: ['a', 'b'], coefficients: [1, -2], intercept: 0.5, classes: ['no', 'yes'] };
  const model = loadModel(artifact);

  it('gives sigmoid probabilities and the class at threshold 0.5', () => {
    const [p0, p1, p2] = model
      .predict([
        { a: 0, b: 0 },
        { a: 1.5, b: 1 },
        { a: -3, b: 0.25 },
      ])
      .map(cls);
    const s = (z: number): number => 1 / (1 + Math.exp(-z));
    expect(p0!.probabilities[1]).toBeCloseTo(s(0.5), 15);
    expect(p0!.probabilities[0]).toBeCloseTo(1 - s(0.5), 15);
    expect(p0!.label).toBe('yes');
    expect(p1!.probabilities[1]).toBe(0.5); // z = 0 exactly
    expect(p1!).toMatchObject({ label: 'yes', classIndex: 1 }); // ties go to the positive class
    expect(p2!.probabilities[1]).toBeCloseTo(s(-3), 15);
    expect(p2!).toMatchObject({ label: 'no', classIndex: 0 });
  });

  it('stays finite for huge margins', () => {
    const [hi, lo] = model
      .predict([
        { a: 1e6, b: 0 },
        { a: -1e6, b: 0 },
      ])
      .map(cls);
    expect(hi!.probabilities).toEqual([0, 1]);
    expect(lo!.probabilities[1]).toBe(0);
    expect(lo!.probabilities[0]).toBe(1);
  });

  it('honours a custom threshold and returns margins', () => {
    const strict = loadModel({ ...artifact, threshold: 0.7 });
    expect(cls(strict.predict([{ a: 0, b: 0 }])[0]).label).toBe('no'); // P = 0.62 < 0.7
    expect(Array.from(model.predictMatrix(Float64Array.of(1, 1), 1, 2, { output: 'margin' }))).toEqual([-0.5]);
    expect(model.matrixWidth('margin')).toBe(1);
    expect(model.matrixWidth()).toBe(2);
  });

  it('defaults its classes to [0, 1] and describes its outputs', () => {
    const m = loadModel({ format: 'logistic', feature_names: ['a'], coefficients: [1], intercept: 0 });
    expect(m.outputSchema).toEqual({
      task: 'classification',
      classes: [0, 1],
      outputs: [
        { name: 'label', datatype: 'INT64', shape: [-1] },
        { name: 'probabilities', datatype: 'FP64', shape: [-1, 2] },
      ],
    });
    expect(model.outputSchema.outputs[0]!.datatype).toBe('BYTES');
  });
});

describe('logistic regression, multinomial', () => {
  const model = loadModel({
    format: 'logistic',
    feature_names: ['x', 'y'],
    classes: ['deer', 'elk', 'moose'],
    coefficients: [
      [1, 0],
      [0, 1],
      [-1, -1],
    ],
    intercept: [0, 0.5, 1],
  });

  it('takes the softmax of the class scores', () => {
    // scores at (1, 2): deer 1, elk 2.5, moose −2
    const p = cls(model.predict([{ x: 1, y: 2 }])[0]);
    const e = [Math.exp(1), Math.exp(2.5), Math.exp(-2)];
    const sum = e[0]! + e[1]! + e[2]!;
    e.forEach((ek, k) => expect(p.probabilities[k]).toBeCloseTo(ek / sum, 15));
    expect(p.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 15);
    expect(p).toMatchObject({ label: 'elk', classIndex: 1 });
    // at the origin the intercepts decide: moose
    expect(cls(model.predict([{ x: 0, y: 0 }])[0])).toMatchObject({ label: 'moose', classIndex: 2 });
  });

  it('does not overflow on large scores and exposes the raw scores', () => {
    const p = cls(model.predict([{ x: 1000, y: 0 }])[0]);
    expect(p.probabilities[0]).toBe(1);
    expect(p.label).toBe('deer');
    expect(Array.from(model.predictMatrix(Float64Array.of(1, 2), 1, 2, { output: 'margin' }))).toEqual([1, 2.5, -2]);
  });
});
