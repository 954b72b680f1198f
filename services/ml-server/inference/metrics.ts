// Evaluation helpers for training jobs: AUC, accuracy, log loss, and a seeded train/test split.

function isPositive(label: unknown, i: number): boolean {
  if (label === 1 || label === true) return true;
  if (label === 0 || label === false) return false;
  throw new RangeError(`labels[${i}] must be 0, 1, true or false, got ${String(label)}`);
}

/**
 * Area under the ROC curve: the probability that a random positive scores above a random negative, ties counting
 * one half (Mann-Whitney U with average ranks). Labels are 1/true (positive) or 0/false (negative).
 */
export function auc(scores: ArrayLike<number>, labels: ArrayLike<number | boolean>): number {
  const n = scores.length;
  if (labels.length !== n) throw new RangeError(`auc: ${n} scores but ${labels.length} labels`);
  const order = new Array<number>(n);
  let positives = 0;
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(scores[i])) throw new RangeError(`auc: scores[${i}] is NaN`);
    if (isPositive(labels[i], i)) positives++;
    order[i] = i;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) throw new RangeError('auc: needs at least one positive and one negative label');
  order.sort((a, b) => scores[a]! - scores[b]!);
  let rankSum = 0; // sum of the (1-based, tie-averaged) ranks of the positives
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]!] === scores[order[i]!]) j++;
    const rank = (i + j + 2) / 2;
    for (let k = i; k <= j; k++) if (isPositive(labels[order[k]!], order[k]!)) rankSum += rank;
    i = j + 1;
  }
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Fraction of positions where predicted and actual are the same value (===). */
export function accuracy<T>(predicted: ArrayLike<T>, actual: ArrayLike<T>): number {
  const n = predicted.length;
  if (actual.length !== n) throw new RangeError(`accuracy: ${n} predictions but ${actual.length} labels`);
  if (n === 0) throw new RangeError('accuracy: no predictions');
  let hits = 0;
  for (let i = 0; i < n; i++) if (predicted[i] === actual[i]) hits++;
  return hits / n;
}

/** Mean negative log-likelihood of binary labels under probabilities p (clipped to [1e-15, 1 - 1e-15]). */
export function logLoss(probabilities: ArrayLike<number>, labels: ArrayLike<number | boolean>): number {
  const n = probabilities.length;
  if (labels.length !== n) throw new RangeError(`logLoss: ${n} probabilities but ${labels.length} labels`);
  if (n === 0) throw new RangeError('logLoss: no predictions');
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const p = Math.min(Math.max(probabilities[i]!, 1e-15), 1 - 1e-15);
    sum -= isPositive(labels[i], i) ? Math.log(p) : Math.log(1 - p);
  }
  return sum / n;
}

/** A deterministic PRNG (mulberry32) giving floats in [0, 1); the same seed gives the same sequence everywhere. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface TrainTestSplit<T> {
  readonly train: T[];
  readonly test: T[];
  /** Indices into the input, ascending. */
  readonly trainIndices: number[];
  readonly testIndices: number[];
}

export interface TrainTestSplitOptions<T> {
  /** Seed of the shuffle: the same seed and input give the same split. */
  readonly seed: number;
  /** Share of the items (per stratum when stratified) that go to the test set; default 0.2. */
  readonly testFraction?: number;
  /** Stratifies the split by this key (e.g. the label), so each stratum is split in the same proportion. */
  readonly stratify?: (item: T, index: number) => string | number | boolean;
}

/**
 * Deterministic shuffle-split. Each stratum (or the whole input) of n items puts round(n × testFraction) of them in
 * the test set. Both sets keep the input order.
 */
export function trainTestSplit<T>(items: readonly T[], options: TrainTestSplitOptions<T>): TrainTestSplit<T> {
  const fraction = options.testFraction ?? 0.2;
  if (!(fraction >= 0 && fraction <= 1)) throw new RangeError(`trainTestSplit: testFraction must be in [0, 1], got ${fraction}`);
  if (!Number.isFinite(options.seed)) throw new RangeError(`trainTestSplit: seed must be a finite number, got ${options.seed}`);
  const strata = new Map<string, number[]>();
  items.forEach((item, i) => {
    const key = options.stratify ? `${typeof options.stratify(item, i)}:${String(options.stratify(item, i))}` : '';
    let list = strata.get(key);
    if (!list) strata.set(key, (list = []));
    list.push(i);
  });
  const random = seededRandom(options.seed);
  const isTest = new Uint8Array(items.length);
  const keys = [...strata.keys()].sort();
  for (const key of keys) {
    const idx = strata.get(key)!;
    for (let i = idx.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      const t = idx[i]!;
      idx[i] = idx[j]!;
      idx[j] = t;
    }
    const nTest = Math.round(idx.length * fraction);
    for (let i = 0; i < nTest; i++) isTest[idx[i]!] = 1;
  }
  const trainIndices: number[] = [];
  const testIndices: number[] = [];
  for (let i = 0; i < items.length; i++) (isTest[i] ? testIndices : trainIndices).push(i);
  return {
    train: trainIndices.map((i) => items[i]!),
    test: testIndices.map((i) => items[i]!),
    trainIndices,
    testIndices,
  };
}
