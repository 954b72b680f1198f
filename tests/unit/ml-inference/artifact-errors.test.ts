import { describe, expect, it } from 'vitest';
import { loadModel, ModelArtifactError } from '../../../services/ml-server/inference/index.ts';

function errorOf(artifact: Uint8Array | string | object): ModelArtifactError {
  try {
    loadModel(artifact);
  } catch (err) {
    if (err instanceof ModelArtifactError) return err;
    throw err;
  }
  throw new Error('loadModel accepted the artifact');
}

const linear = { format: 'linear', feature_names: ['a', 'b'], coefficients: [1, 2], intercept: 0 };
const multinomial = {
  format: 'logistic',
  feature_names: ['a', 'b'],
  classes: ['x', 'y', 'z'],
  coefficients: [
    [1, 2],
    [3, 4],
    [5, 6],
  ],
  intercept: [0, 0, 0],
};

describe('loadModel rejects corrupt artifacts', () => {
  it('truncated, empty, non-JSON and non-UTF-8 input', () => {
    const text = JSON.stringify(linear);
    expect(errorOf(text.slice(0, 30)).message).toMatch(/^artifact is not valid JSON: .+ \(the artifact looks truncated\)$/);
    expect(errorOf(Buffer.from(text.slice(0, 30))).message).toMatch(/looks truncated/);
    expect(errorOf('').message).toMatch(/^artifact is not valid JSON: .+ \(the artifact is empty\)$/);
    expect(errorOf('{"format": linear}').message).toMatch(/^artifact is not valid JSON: /);
    expect(errorOf(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])).message).toBe('artifact is not valid UTF-8 text');
    expect(errorOf('[1, 2]').message).toBe('artifact must be a JSON object, got an array of 2');
    expect(errorOf('null').message).toBe('artifact must be a JSON object, got null');
  });

  it('an unknown or absent format', () => {
    expect(errorOf({ ...linear, format: 'svm' }).message).toBe(
      'format is "svm", which is not supported (formats: linear, logistic, xgboost)',
    );
    const { format: _format, ...noFormat } = linear;
    expect(errorOf(noFormat).message).toBe(
      'format is missing and the artifact is not an XGBoost JSON model (no "learner"); formats: linear, logistic, xgboost',
    );
  });

  it('NaN, null and non-numeric coefficients', () => {
    expect(errorOf({ ...linear, coefficients: [1, NaN] }).message).toBe('coefficients[1] must be a finite number, got NaN');
    // JSON.stringify writes NaN as null
    expect(errorOf(JSON.stringify({ ...linear, coefficients: [NaN, 1] })).message).toBe(
      'coefficients[0] must be a finite number, got null',
    );
    expect(errorOf({ ...linear, coefficients: [1, '2'] }).message).toBe('coefficients[1] must be a finite number, got "2"');
    expect(errorOf({ ...linear, intercept: Infinity }).message).toBe('intercept must be a finite number, got Infinity');
    const e = errorOf({
      ...multinomial,
      coefficients: [
        [1, 2],
        [3, NaN],
        [5, 6],
      ],
    });
    expect([e.message, e.path]).toEqual(['coefficients[1][1] must be a finite number, got NaN', 'coefficients[1][1]']);
  });

  it('mismatched lengths', () => {
    expect(errorOf({ ...linear, coefficients: [1, 2, 3] }).message).toBe('coefficients has 3 entries but feature_names has 2');
    expect(
      errorOf({
        ...multinomial,
        coefficients: [
          [1, 2],
          [3, 4],
        ],
      }).message,
    ).toBe('coefficients has 2 rows but classes has 3');
    expect(errorOf({ ...multinomial, coefficients: [[1, 2], [3], [5, 6]] }).message).toBe(
      'coefficients[1] has 1 entries but feature_names has 2',
    );
    expect(errorOf({ ...multinomial, intercept: [0, 0] }).message).toBe('intercept has 2 entries but classes has 3');
    expect(errorOf({ ...multinomial, intercept: 0 }).message).toBe('intercept must be an array of 3 numbers (one per class), got 0');
    expect(errorOf({ ...multinomial, classes: undefined }).message).toBe(
      'classes is required for a multinomial model (coefficients is a matrix)',
    );
    expect(errorOf({ format: 'logistic', feature_names: ['a'], coefficients: [1], intercept: 0, classes: ['x', 'y', 'z'] }).message).toBe(
      'classes has 3 classes but a binary model (coefficients is a vector) needs 2; use a coefficient matrix for more',
    );
  });

  it('bad names, classes and fields', () => {
    expect(errorOf({ ...linear, feature_names: ['a', 'a'] }).message).toBe('feature_names[1] repeats the name "a"');
    expect(errorOf({ ...linear, feature_names: ['a', ''] }).message).toBe('feature_names[1] must not be empty');
    expect(errorOf({ ...linear, feature_names: [], coefficients: [] }).message).toBe('feature_names must name at least one feature');
    expect(errorOf({ ...multinomial, classes: ['x', 'y', 'x'] }).message).toBe('classes[2] repeats the class "x"');
    expect(errorOf({ ...multinomial, classes: ['x'] }).message).toBe('classes must list at least 2 classes, got 1');
    expect(errorOf({ ...linear, intercepts: [0] }).message).toBe(
      'intercepts is not a known field (known: format, feature_names, coefficients, intercept, preprocessing, metadata)',
    );
    expect(errorOf({ format: 'logistic', feature_names: ['a'], coefficients: [1], intercept: 0, threshold: 1.5 }).message).toBe(
      'threshold must be between 0 and 1, got 1.5',
    );
    expect(errorOf({ format: 'xgboost', model: 'x' }).message).toBe('model must be the XGBoost JSON model (an object), got "x"');
  });

  it('accepts the same artifact as an object, a string and bytes', () => {
    for (const form of [
      linear,
      JSON.stringify(linear),
      Buffer.from(JSON.stringify(linear)),
      new TextEncoder().encode(JSON.stringify(linear)),
    ]) {
      expect(loadModel(form).predict([{ a: 1, b: 1 }])).toEqual([{ task: 'regression', value: 3 }]);
    }
  });
});
