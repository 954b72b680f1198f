// Fits a binary logistic regression (L2-regularised, Newton's method with a backtracking line search) and returns
// it as a `logistic` artifact whose preprocessing standardises each feature with the training data's mean and std.
// Pure: no I/O, deterministic.

import type { ClassLabel } from './json.ts';
import { sigmoid } from './linear.ts';

export { accuracy, auc, logLoss, seededRandom, trainTestSplit } from './metrics.ts';
export type { TrainTestSplit, TrainTestSplitOptions } from './metrics.ts';

export interface LogisticArtifact {
  format: 'logistic';
  feature_names: string[];
  /** In standardised units: the preprocessing standardises each input first. */
  coefficients: number[];
  intercept: number;
  classes: [ClassLabel, ClassLabel];
  preprocessing: {
    features: { name: string; type: 'numeric'; standardize: { mean: number; std: number }; default?: number }[];
  };
  metadata: { trainer: 'fitLogisticRegression'; l2: number; rows: number; iterations: number; converged: boolean; train_log_loss: number };
}

export interface LogisticFitOptions {
  /** L2 penalty λ on the (standardised) coefficients, not on the intercept: objective = Σ log-loss + λ/2 ‖w‖². Default 1. */
  readonly l2?: number;
  /** Newton iterations at most; default 100. */
  readonly maxIterations?: number;
  /** Stops when the largest gradient component, divided by the number of rows, is below this; default 1e-9. */
  readonly tolerance?: number;
  /** Labels of class 0 and class 1 in the artifact; default [0, 1]. */
  readonly classes?: readonly [ClassLabel, ClassLabel];
  /**
   * NaN in x: false (default) rejects it; true replaces it by the feature's mean (of the other rows) and records that
   * mean as the feature's default, so the model also accepts a missing input.
   */
  readonly imputeMissing?: boolean;
}

export interface LogisticFitResult {
  readonly artifact: LogisticArtifact;
  readonly iterations: number;
  readonly converged: boolean;
  /** Mean log loss on the training data (without the penalty). */
  readonly trainLogLoss: number;
  /** P(class 1) for each training row. */
  readonly trainProbabilities: Float64Array;
}

function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

/** Solves A s = b for a symmetric positive-definite d×d matrix A (row-major) by Cholesky; null when A is not SPD. */
function choleskySolve(a: Float64Array, b: Float64Array, d: number): Float64Array | null {
  const l = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * d + j]!;
      for (let k = 0; k < j; k++) s -= l[i * d + k]! * l[j * d + k]!;
      if (i === j) {
        if (!(s > 0)) return null;
        l[i * d + i] = Math.sqrt(s);
      } else {
        l[i * d + j] = s / l[j * d + j]!;
      }
    }
  }
  const y = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= l[i * d + k]! * y[k]!;
    y[i] = s / l[i * d + i]!;
  }
  const x = new Float64Array(d);
  for (let i = d - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let k = i + 1; k < d; k++) s -= l[k * d + i]! * x[k]!;
    x[i] = s / l[i * d + i]!;
  }
  return x;
}

/**
 * Fits P(class 1 | x) = sigmoid(b + w · standardise(x)). `x` has one array of feature values per row, in the order of
 * `featureNames`; `y` holds 0/1 (or false/true) labels, both classes present.
 */
export function fitLogisticRegression(
  x: ReadonlyArray<ArrayLike<number>>,
  y: ArrayLike<number | boolean>,
  featureNames: readonly string[],
  options: LogisticFitOptions = {},
): LogisticFitResult {
  const l2 = options.l2 ?? 1;
  const maxIterations = options.maxIterations ?? 100;
  const tolerance = options.tolerance ?? 1e-9;
  const impute = options.imputeMissing ?? false;
  if (!(l2 >= 0 && Number.isFinite(l2))) throw new RangeError(`fitLogisticRegression: l2 must be a finite number >= 0, got ${l2}`);
  if (!(Number.isInteger(maxIterations) && maxIterations >= 1)) throw new RangeError(`fitLogisticRegression: maxIterations must be >= 1`);
  const n = x.length;
  const p = featureNames.length;
  if (p === 0) throw new RangeError('fitLogisticRegression: featureNames is empty');
  if (new Set(featureNames).size !== p) throw new RangeError('fitLogisticRegression: featureNames has duplicates');
  if (y.length !== n) throw new RangeError(`fitLogisticRegression: ${n} rows but ${y.length} labels`);

  // Labels
  const t = new Float64Array(n);
  let positives = 0;
  for (let i = 0; i < n; i++) {
    const v = y[i];
    if (v === 1 || v === true) t[i] = 1;
    else if (!(v === 0 || v === false))
      throw new RangeError(`fitLogisticRegression: y[${i}] must be 0, 1, true or false, got ${String(v)}`);
    positives += t[i]!;
  }
  if (positives === 0 || positives === n) throw new RangeError('fitLogisticRegression: y needs both classes');

  // Standardisation from the training data (NaN-aware when imputing)
  const mean = new Float64Array(p);
  const std = new Float64Array(p);
  const count = new Float64Array(p);
  for (let i = 0; i < n; i++) {
    const row = x[i]!;
    if (row.length !== p) throw new RangeError(`fitLogisticRegression: row ${i} has ${row.length} values but there are ${p} features`);
    for (let j = 0; j < p; j++) {
      const v = row[j]!;
      if (Number.isNaN(v) && impute) continue;
      if (!Number.isFinite(v)) {
        throw new RangeError(`fitLogisticRegression: row ${i}, feature '${featureNames[j]}' is ${v} (set imputeMissing to impute NaN)`);
      }
      mean[j] = mean[j]! + v;
      count[j] = count[j]! + 1;
    }
  }
  for (let j = 0; j < p; j++) {
    if (count[j] === 0) throw new RangeError(`fitLogisticRegression: feature '${featureNames[j]}' has no value in any row`);
    mean[j] = mean[j]! / count[j]!;
  }
  for (let i = 0; i < n; i++) {
    const row = x[i]!;
    for (let j = 0; j < p; j++) {
      const v = row[j]!;
      if (!Number.isNaN(v)) std[j] = std[j]! + (v - mean[j]!) ** 2;
    }
  }
  for (let j = 0; j < p; j++) {
    const s = Math.sqrt(std[j]! / count[j]!);
    std[j] = s > 1e-12 * Math.max(1, Math.abs(mean[j]!)) ? s : 1; // a constant feature keeps std 1 (its coefficient goes to 0)
  }
  // Design matrix with a leading 1 for the intercept: n × d
  const d = p + 1;
  const z = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const row = x[i]!;
    z[i * d] = 1;
    for (let j = 0; j < p; j++) {
      const v = row[j]!;
      z[i * d + 1 + j] = Number.isNaN(v) ? 0 : (v - mean[j]!) / std[j]!;
    }
  }

  const beta = new Float64Array(d);
  const rate = positives / n;
  beta[0] = Math.log(rate / (1 - rate));
  const margin = new Float64Array(n);
  const objective = (b: Float64Array): number => {
    let s = 0;
    for (let i = 0; i < n; i++) {
      let m = 0;
      for (let k = 0; k < d; k++) m += z[i * d + k]! * b[k]!;
      margin[i] = m;
      s += softplus(m) - t[i]! * m;
    }
    for (let k = 1; k < d; k++) s += 0.5 * l2 * b[k]! ** 2;
    return s;
  };

  let loss = objective(beta);
  let iterations = 0;
  let converged = false;
  const grad = new Float64Array(d);
  const hess = new Float64Array(d * d);
  const candidate = new Float64Array(d);
  while (iterations < maxIterations) {
    // margin[] holds the margins of beta (objective was last evaluated at beta)
    grad.fill(0);
    hess.fill(0);
    for (let i = 0; i < n; i++) {
      const pi = sigmoid(margin[i]!);
      const r = pi - t[i]!;
      const w = pi * (1 - pi);
      const o = i * d;
      for (let a = 0; a < d; a++) {
        const za = z[o + a]!;
        grad[a] = grad[a]! + r * za;
        const wz = w * za;
        for (let b = 0; b <= a; b++) hess[a * d + b] = hess[a * d + b]! + wz * z[o + b]!;
      }
    }
    let gmax = 0;
    for (let k = 0; k < d; k++) {
      if (k > 0) {
        grad[k] = grad[k]! + l2 * beta[k]!;
        hess[k * d + k] = hess[k * d + k]! + l2;
      }
      gmax = Math.max(gmax, Math.abs(grad[k]!));
      for (let b = 0; b < k; b++) hess[b * d + k] = hess[k * d + b]!;
    }
    if (gmax / n < tolerance) {
      converged = true;
      break;
    }
    iterations++;
    let step: Float64Array | null = null;
    for (let jitter = 1e-10; step === null && jitter < 1e6; jitter *= 100) {
      const h = Float64Array.from(hess);
      for (let k = 0; k < d; k++) h[k * d + k] = h[k * d + k]! + jitter * Math.max(1, h[k * d + k]!);
      step = choleskySolve(h, grad, d);
    }
    if (step === null) step = Float64Array.from(grad, (g) => g / n); // gradient step as a last resort
    let slope = 0;
    for (let k = 0; k < d; k++) slope += grad[k]! * step[k]!;
    // Backtracking (Armijo) line search along -step
    let tStep = 1;
    let next = Infinity;
    for (; tStep > 1e-12; tStep /= 2) {
      for (let k = 0; k < d; k++) candidate[k] = beta[k]! - tStep * step[k]!;
      next = objective(candidate);
      if (next <= loss - 1e-4 * tStep * slope) break;
    }
    if (!(next < loss)) {
      objective(beta); // restore margin[] for beta
      converged = Math.abs(slope) / n < Math.sqrt(tolerance);
      break;
    }
    beta.set(candidate);
    loss = next;
  }
  if (iterations === maxIterations && !converged) objective(beta);

  const trainProbabilities = new Float64Array(n);
  let ll = 0;
  for (let i = 0; i < n; i++) {
    trainProbabilities[i] = sigmoid(margin[i]!);
    ll += softplus(margin[i]!) - t[i]! * margin[i]!;
  }
  const trainLogLoss = ll / n;
  const classes: [ClassLabel, ClassLabel] = options.classes ? [options.classes[0], options.classes[1]] : [0, 1];
  const artifact: LogisticArtifact = {
    format: 'logistic',
    feature_names: [...featureNames],
    coefficients: Array.from(beta.subarray(1)),
    intercept: beta[0]!,
    classes,
    preprocessing: {
      features: featureNames.map((name, j) => ({
        name,
        type: 'numeric' as const,
        standardize: { mean: mean[j]!, std: std[j]! },
        ...(impute ? { default: mean[j]! } : {}),
      })),
    },
    metadata: { trainer: 'fitLogisticRegression', l2, rows: n, iterations, converged, train_log_loss: trainLogLoss },
  };
  return { artifact, iterations, converged, trainLogLoss, trainProbabilities };
}
