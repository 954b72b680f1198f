// The flattened forest and its prediction loop. All trees live in one set of typed arrays; node indices are global.
// A node is a leaf when feature[n] === -1, and value[n] is then its leaf value (XGBoost keeps the leaf value, already
// multiplied by the learning rate, in split_conditions). XGBoost works in float32: features are cast to float32, split
// conditions and leaf values are float32, and the margin is accumulated in float32 in tree order, as here.

import type { Core } from './model.ts';
import type { Objective, ParsedTree } from './xgboost-json.ts';

const fround = Math.fround;

/** The flattened model: all a prediction needs (and all a loaded model keeps). */
export interface Forest {
  readonly objective: Objective;
  readonly groups: number;
  readonly numFeatures: number;
  /** Base margin per output group. */
  readonly base: Float64Array;
  /** Left child (the right child is left + 1); -1 for a leaf. */
  readonly left: Int32Array;
  /** Child taken by a missing value. */
  readonly missing: Int32Array;
  /** Split feature; -1 marks a leaf. */
  readonly feature: Int32Array;
  /** Split condition of an internal node, leaf value of a leaf. */
  readonly value: Float32Array;
  readonly roots: Int32Array;
  readonly treeGroup: Int32Array;
}

// Built in its own function so that the closures keep only the forest, not the parsed JSON around it.
export function forestRunner(forest: Forest): Core['run'] {
  const { objective, groups, numFeatures: p, base, left, missing, feature, value, roots, treeGroup } = forest;
  const numTrees = roots.length;
  const acc = new Float64Array(groups);

  // XGBoost: left when v < split_condition, right otherwise (equal goes right). NaN compares false both ways, so it is
  // tested first and takes the default direction. Number(v >= c) is 0 or 1 without a branch.

  /** Sum of the trees' leaf values into acc (float32 accumulation, tree order), for the row at x[off..]. */
  const margins = (x: Float32Array, off: number): void => {
    for (let g = 0; g < groups; g++) acc[g] = base[g]!;
    for (let t = 0; t < numTrees; t++) {
      let n = roots[t]!;
      let f = feature[n]!;
      while (f >= 0) {
        const v = x[off + f]!;
        n = v === v ? left[n]! + Number(v >= value[n]!) : missing[n]!;
        f = feature[n]!;
      }
      const g = treeGroup[t]!;
      acc[g] = fround(acc[g]! + value[n]!);
    }
  };

  /** Single-output fast path (regression and binary): no per-tree group lookup. */
  const margin1 = (x: Float32Array, off: number): number => {
    let s = base[0]!;
    for (let t = 0; t < numTrees; t++) {
      let n = roots[t]!;
      let f = feature[n]!;
      while (f >= 0) {
        const v = x[off + f]!;
        n = v === v ? left[n]! + Number(v >= value[n]!) : missing[n]!;
        f = feature[n]!;
      }
      s = fround(s + value[n]!);
    }
    return s;
  };

  return (xIn, rows, out, wantMargin) => {
    const x = xIn instanceof Float32Array ? xIn : Float32Array.from(xIn);
    if (objective === 'reg:squarederror') {
      for (let r = 0; r < rows; r++) out[r] = margin1(x, r * p);
    } else if (objective === 'binary:logistic') {
      for (let r = 0; r < rows; r++) {
        const m = margin1(x, r * p);
        if (wantMargin) out[r] = m;
        else {
          // XGBoost's float32 sigmoid: 1 / (1 + exp(min(-x, 88.7)))
          const p1 = fround(1 / fround(fround(Math.exp(Math.min(-m, 88.7))) + 1));
          out[2 * r] = 1 - p1;
          out[2 * r + 1] = p1;
        }
      }
    } else {
      for (let r = 0; r < rows; r++) {
        margins(x, r * p);
        const o = r * groups;
        if (wantMargin) {
          for (let g = 0; g < groups; g++) out[o + g] = acc[g]!;
          continue;
        }
        // XGBoost's softmax: float32 exponentials of (x - max), summed in double.
        let max = acc[0]!;
        for (let g = 1; g < groups; g++) if (acc[g]! > max) max = acc[g]!;
        let sum = 0;
        for (let g = 0; g < groups; g++) {
          const e = fround(Math.exp(fround(acc[g]! - max)));
          out[o + g] = e;
          sum += e;
        }
        const s32 = fround(sum);
        for (let g = 0; g < groups; g++) out[o + g] = fround(out[o + g]! / s32);
      }
    }
  };
}

/**
 * Flattens the trees into one set of arrays. Each tree's reachable nodes are renumbered breadth-first so
 * that a node's right child directly follows its left child: the walk then picks the child without a
 * branch (left + (v >= threshold)). Unreachable (deleted) nodes are dropped. feature[n] === -1 marks a leaf.
 */
export function flatten(parsed: ParsedTree[]): Pick<Forest, 'left' | 'missing' | 'feature' | 'value' | 'roots'> {
  const numTrees = parsed.length;
  let reachable = 0;
  for (const t of parsed) reachable += t.order.length;
  const left = new Int32Array(reachable);
  const missing = new Int32Array(reachable);
  const feature = new Int32Array(reachable);
  const value = new Float32Array(reachable);
  const roots = new Int32Array(numTrees);
  let offset = 0;
  parsed.forEach((t, ti) => {
    roots[ti] = offset;
    const id = new Int32Array(t.left.length).fill(-1);
    id[0] = offset;
    let next = offset + 1;
    for (const i of t.order) {
      const g = id[i]!;
      value[g] = t.cond[i]!;
      const l = t.left[i]!;
      if (l === -1) {
        feature[g] = -1;
        left[g] = -1;
        missing[g] = -1;
      } else {
        id[l] = next;
        id[t.right[i]!] = next + 1;
        left[g] = next;
        missing[g] = t.defaultLeft[i] ? next : next + 1;
        feature[g] = t.feature[i]!;
        next += 2;
      }
    }
    offset = next;
  });
  return { left, missing, feature, value, roots };
}
