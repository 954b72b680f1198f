// Linear regression and logistic regression (binary sigmoid, multinomial softmax).

import type { ClassLabel, JsonRecord } from './json.ts';
import { describe, fail, join, readArray, readClasses, readFinite, readFiniteArray, readNameList, rejectUnknownKeys } from './json.ts';
import type { Core } from './model.ts';

const COMMON_KEYS = ['format', 'feature_names', 'coefficients', 'intercept', 'preprocessing', 'metadata'];

export interface LinearParts {
  readonly core: Core;
  readonly featureNames: string[];
}

export function parseLinear(a: JsonRecord): LinearParts {
  rejectUnknownKeys(a, COMMON_KEYS, '');
  const featureNames = readFeatureNames(a);
  const p = featureNames.length;
  const coef = readFiniteArray(a['coefficients'], 'coefficients');
  if (coef.length !== p) fail('coefficients', `has ${coef.length} entries but feature_names has ${p}`);
  const intercept = readFinite(a['intercept'], 'intercept');
  const core: Core = {
    format: 'linear',
    task: 'regression',
    numFeatures: p,
    float32: false,
    classes: [],
    threshold: 0.5,
    predictionWidth: 1,
    marginWidth: 1,
    approxBytes: coef.byteLength + 64,
    details: { features: p },
    run(x, rows, out) {
      for (let r = 0, off = 0; r < rows; r++, off += p) {
        let z = intercept;
        for (let j = 0; j < p; j++) z += coef[j]! * x[off + j]!;
        out[r] = z;
      }
    },
  };
  return { core, featureNames };
}

/** sigmoid without overflow for large |z|. */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

export function parseLogistic(a: JsonRecord): LinearParts {
  rejectUnknownKeys(a, [...COMMON_KEYS, 'classes', 'threshold'], '');
  const featureNames = readFeatureNames(a);
  const p = featureNames.length;
  const rawCoef = readArray(a['coefficients'], 'coefficients');
  const multinomial = rawCoef.length > 0 && Array.isArray(rawCoef[0]);
  return multinomial ? multinomialCore(a, rawCoef, featureNames) : binaryCore(a, p, featureNames);
}

function binaryCore(a: JsonRecord, p: number, featureNames: string[]): LinearParts {
  const coef = readFiniteArray(a['coefficients'], 'coefficients');
  if (coef.length !== p) fail('coefficients', `has ${coef.length} entries but feature_names has ${p}`);
  if (Array.isArray(a['intercept'])) fail('intercept', 'must be a single number for a binary model (coefficients is a vector)');
  const intercept = readFinite(a['intercept'], 'intercept');
  const classes: ClassLabel[] = a['classes'] === undefined ? [0, 1] : readClasses(a['classes'], 'classes');
  if (classes.length !== 2) {
    fail(
      'classes',
      `has ${classes.length} classes but a binary model (coefficients is a vector) needs 2; use a coefficient matrix for more`,
    );
  }
  let threshold = 0.5;
  if (a['threshold'] !== undefined) {
    threshold = readFinite(a['threshold'], 'threshold');
    if (!(threshold > 0 && threshold < 1)) fail('threshold', `must be between 0 and 1, got ${threshold}`);
  }
  const core: Core = {
    format: 'logistic',
    task: 'classification',
    numFeatures: p,
    float32: false,
    classes,
    threshold,
    predictionWidth: 2,
    marginWidth: 1,
    approxBytes: coef.byteLength + 128,
    details: { features: p, classes: 2, kind: 'binary' },
    run(x, rows, out, margin) {
      for (let r = 0, off = 0; r < rows; r++, off += p) {
        let z = intercept;
        for (let j = 0; j < p; j++) z += coef[j]! * x[off + j]!;
        if (margin) out[r] = z;
        else {
          const p1 = sigmoid(z);
          out[2 * r] = 1 - p1;
          out[2 * r + 1] = p1;
        }
      }
    },
  };
  return { core, featureNames };
}

function multinomialCore(a: JsonRecord, rawCoef: unknown[], featureNames: string[]): LinearParts {
  const p = featureNames.length;
  if (a['classes'] === undefined) fail('classes', 'is required for a multinomial model (coefficients is a matrix)');
  const classes = readClasses(a['classes'], 'classes');
  const k = classes.length;
  if (rawCoef.length !== k) fail('coefficients', `has ${rawCoef.length} rows but classes has ${k}`);
  const coef = new Float64Array(k * p);
  rawCoef.forEach((row, c) => {
    const at = join('coefficients', c);
    if (!Array.isArray(row)) fail(at, `must be an array (a row of the coefficient matrix), got ${describe(row)}`);
    if (row.length !== p) fail(at, `has ${row.length} entries but feature_names has ${p}`);
    coef.set(readFiniteArray(row, at), c * p);
  });
  if (!Array.isArray(a['intercept']))
    fail('intercept', `must be an array of ${k} numbers (one per class), got ${describe(a['intercept'])}`);
  const intercept = readFiniteArray(a['intercept'], 'intercept');
  if (intercept.length !== k) fail('intercept', `has ${intercept.length} entries but classes has ${k}`);
  if (a['threshold'] !== undefined) fail('threshold', 'only applies to binary models (coefficients as a vector)');
  const z = new Float64Array(k);
  const core: Core = {
    format: 'logistic',
    task: 'classification',
    numFeatures: p,
    float32: false,
    classes,
    threshold: 0.5,
    predictionWidth: k,
    marginWidth: k,
    approxBytes: coef.byteLength + intercept.byteLength + z.byteLength + 128,
    details: { features: p, classes: k, kind: 'multinomial' },
    run(x, rows, out, margin) {
      for (let r = 0, off = 0; r < rows; r++, off += p) {
        let max = -Infinity;
        for (let c = 0; c < k; c++) {
          let s = intercept[c]!;
          const base = c * p;
          for (let j = 0; j < p; j++) s += coef[base + j]! * x[off + j]!;
          z[c] = s;
          if (s > max) max = s;
        }
        const o = r * k;
        if (margin) {
          for (let c = 0; c < k; c++) out[o + c] = z[c]!;
          continue;
        }
        let sum = 0;
        for (let c = 0; c < k; c++) {
          const e = Math.exp(z[c]! - max);
          out[o + c] = e;
          sum += e;
        }
        for (let c = 0; c < k; c++) out[o + c] = out[o + c]! / sum;
      }
    },
  };
  return { core, featureNames };
}

function readFeatureNames(a: JsonRecord): string[] {
  const names = readNameList(a['feature_names'], 'feature_names');
  if (names.length === 0) fail('feature_names', 'must name at least one feature');
  return names;
}
