// Reading XGBoost's JSON model format (Booster.save_model('model.json')): the learner's parameters, the feature
// names and classes, and every tree, each field checked, with the path of a bad one in the message.

import type { ClassLabel, JsonRecord } from './json.ts';
import {
  describe,
  fail,
  isRecord,
  join,
  readArray,
  readClasses,
  readFinite,
  readIntArray,
  readNameList,
  readRecord,
  readString,
} from './json.ts';

// XGBoost keeps its parameters and split conditions in float32.
const fround = Math.fround;

export const SUPPORTED_OBJECTIVES = ['reg:squarederror', 'binary:logistic', 'multi:softprob'] as const;
export type Objective = (typeof SUPPORTED_OBJECTIVES)[number];

export interface XGBoostOverrides {
  /** Replaces the feature names stored in the model (or f0..fN-1 when it has none). */
  readonly featureNames?: unknown;
  readonly classes?: unknown;
  readonly threshold?: unknown;
  /** Prefix of paths in messages: 'model' inside an envelope, '' for a bare XGBoost file. */
  readonly path: string;
}

/** A number XGBoost wrote as a string ("5E-1"), a bracketed list ("[5E-1]", "[1E0,2E0]") or a plain number. */
function readNumberList(v: unknown, path: string): number[] {
  if (typeof v === 'number') return [readFinite(v, path)];
  if (typeof v !== 'string') fail(path, `must be a number or a numeric string, got ${describe(v)}`);
  let s = v.trim();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  const parts = s.split(',').map((t) => t.trim());
  return parts.map((t) => {
    const x = t === '' ? NaN : Number(t);
    if (!Number.isFinite(x)) fail(path, `must hold finite numbers, got ${describe(v)}`);
    return x;
  });
}

function readCount(v: unknown, path: string): number {
  const list = typeof v === 'number' || typeof v === 'string' ? readNumberList(v, path) : fail(path, `must be a count, got ${describe(v)}`);
  const x = list[0]!;
  if (list.length !== 1 || !Number.isInteger(x) || x < 0) fail(path, `must be a non-negative integer, got ${describe(v)}`);
  return x;
}

/** A path in messages: `p` under the overrides' prefix. */
export type PathOf = (p: string) => string;

interface LearnerParams {
  objective: Objective;
  numFeature: number;
  numClass: number;
  /** Output groups: the number of classes for multi:softprob, else 1. */
  groups: number;
  /** base_score as written, and the base margin per output group. */
  baseScores: number[];
  base: Float64Array;
}

/** The objective, the feature and class counts and the base margin, from learner_model_param. */
export function readObjective(learner: JsonRecord, pathOf: PathOf): LearnerParams {
  const objectiveRec = readRecord(learner['objective'], pathOf('learner.objective'));
  const objectiveName = readString(objectiveRec['name'], pathOf('learner.objective.name'));
  if (!(SUPPORTED_OBJECTIVES as readonly string[]).includes(objectiveName)) {
    fail(
      pathOf('learner.objective.name'),
      `is ${JSON.stringify(objectiveName)}, which is not supported (supported: ${SUPPORTED_OBJECTIVES.join(', ')})`,
    );
  }
  const objective = objectiveName as Objective;
  const mp = readRecord(learner['learner_model_param'], pathOf('learner.learner_model_param'));
  const numFeature = readCount(mp['num_feature'], pathOf('learner.learner_model_param.num_feature'));
  if (numFeature === 0) fail(pathOf('learner.learner_model_param.num_feature'), 'is 0: the model has no features');
  const numClass = mp['num_class'] === undefined ? 0 : readCount(mp['num_class'], pathOf('learner.learner_model_param.num_class'));
  if (mp['num_target'] !== undefined) {
    const nt = readCount(mp['num_target'], pathOf('learner.learner_model_param.num_target'));
    if (nt > 1) fail(pathOf('learner.learner_model_param.num_target'), `is ${nt}: multi-target models are not supported`);
  }
  let groups: number;
  if (objective === 'multi:softprob') {
    if (numClass < 2) fail(pathOf('learner.learner_model_param.num_class'), `is ${numClass} but multi:softprob needs at least 2 classes`);
    groups = numClass;
  } else {
    if (numClass > 1) fail(pathOf('learner.learner_model_param.num_class'), `is ${numClass} but ${objective} has a single output`);
    groups = 1;
  }
  const baseScores = readNumberList(mp['base_score'], pathOf('learner.learner_model_param.base_score'));
  if (baseScores.length !== 1 && baseScores.length !== groups) {
    fail(pathOf('learner.learner_model_param.base_score'), `has ${baseScores.length} values but the model has ${groups} outputs`);
  }
  const base = new Float64Array(groups);
  for (let g = 0; g < groups; g++) {
    const b = fround(baseScores[baseScores.length === 1 ? 0 : g]!);
    if (objective === 'binary:logistic') {
      // base_score is a probability; the margin starts at logit(base_score), computed in float32 as XGBoost does.
      if (!(b > 0 && b < 1))
        fail(pathOf('learner.learner_model_param.base_score'), `must be a probability in (0, 1) for binary:logistic, got ${b}`);
      base[g] = fround(-fround(Math.log(fround(fround(1 / b) - 1))));
    } else {
      base[g] = b;
    }
  }
  return { objective, numFeature, numClass, groups, baseScores, base };
}

/** The feature names: the overrides', the model's own, or f0..fN-1. */
export function readFeatureNames(learner: JsonRecord, o: XGBoostOverrides, numFeature: number, pathOf: PathOf): string[] {
  let featureNames: string[];
  if (o.featureNames !== undefined) {
    featureNames = readNameList(o.featureNames, 'feature_names');
    if (featureNames.length !== numFeature)
      fail('feature_names', `has ${featureNames.length} names but the model has ${numFeature} features`);
  } else if (Array.isArray(learner['feature_names']) && learner['feature_names'].length > 0) {
    featureNames = readNameList(learner['feature_names'], pathOf('learner.feature_names'));
    if (featureNames.length !== numFeature) {
      fail(pathOf('learner.feature_names'), `has ${featureNames.length} names but learner_model_param.num_feature is ${numFeature}`);
    }
  } else {
    featureNames = Array.from({ length: numFeature }, (_, i) => `f${i}`);
  }
  return featureNames;
}

/** The class labels and the decision threshold of a classifier (given in the overrides, or the defaults). */
export function readClassesAndThreshold(
  o: XGBoostOverrides,
  objective: Objective,
  numClass: number,
): { classes: ClassLabel[]; threshold: number } {
  let classes: ClassLabel[] = [];
  let threshold = 0.5;
  if (objective !== 'reg:squarederror') {
    const k = objective === 'binary:logistic' ? 2 : numClass;
    if (o.classes !== undefined) {
      classes = readClasses(o.classes, 'classes');
      if (classes.length !== k) fail('classes', `has ${classes.length} classes but the model has ${k}`);
    } else {
      classes = Array.from({ length: k }, (_, i) => i);
    }
    if (o.threshold !== undefined) {
      if (objective !== 'binary:logistic') fail('threshold', 'only applies to binary:logistic models');
      threshold = readFinite(o.threshold, 'threshold');
      if (!(threshold > 0 && threshold < 1)) fail('threshold', `must be between 0 and 1, got ${threshold}`);
    }
  } else if (o.classes !== undefined || o.threshold !== undefined) {
    fail(o.classes !== undefined ? 'classes' : 'threshold', 'does not apply to a regression model');
  }
  return { classes, threshold };
}

/** One tree as XGBoost stores it, checked; `order` lists its reachable nodes breadth-first. */
export interface ParsedTree {
  left: Int32Array;
  right: Int32Array;
  feature: Int32Array;
  cond: Float64Array;
  defaultLeft: Uint8Array;
  order: number[];
  depth: number;
}

function readTree(raw: unknown, at: string, numFeature: number): ParsedTree {
  const tree = readRecord(raw, at);
  const left = readIntArray(tree['left_children'], join(at, 'left_children'));
  const n = left.length;
  if (n === 0) fail(join(at, 'left_children'), 'is empty: a tree needs at least a root');
  const sameLength = (key: string): unknown[] => {
    const arr = readArray(tree[key], join(at, key));
    if (arr.length !== n) fail(join(at, 'left_children'), `has ${n} entries but ${key} has ${arr.length}`);
    return arr;
  };
  sameLength('right_children');
  sameLength('split_indices');
  sameLength('split_conditions');
  sameLength('default_left');
  if (tree['base_weights'] !== undefined) sameLength('base_weights');
  const right = readIntArray(tree['right_children'], join(at, 'right_children'));
  const feature = readIntArray(tree['split_indices'], join(at, 'split_indices'));
  const condRaw = tree['split_conditions'] as unknown[];
  const cond = new Float64Array(n);
  const defaultLeft = new Uint8Array(n);
  const dl = tree['default_left'] as unknown[];
  if (tree['split_type'] !== undefined) {
    const st = sameLength('split_type');
    st.forEach((s, i) => {
      if (s !== 0) fail(join(join(at, 'split_type'), i), `is ${describe(s)}: categorical splits are not supported`);
    });
  }
  const tp = tree['tree_param'];
  if (isRecord(tp)) {
    if (tp['num_nodes'] !== undefined) {
      const declared = readCount(tp['num_nodes'], join(at, 'tree_param.num_nodes'));
      if (declared !== n) fail(join(at, 'tree_param.num_nodes'), `is ${declared} but left_children has ${n} entries`);
    }
    if (tp['size_leaf_vector'] !== undefined) {
      const s = readCount(tp['size_leaf_vector'], join(at, 'tree_param.size_leaf_vector'));
      if (s > 1) fail(join(at, 'tree_param.size_leaf_vector'), `is ${s}: vector-leaf (multi-target) trees are not supported`);
    }
  }
  for (let i = 0; i < n; i++) {
    const l = left[i]!;
    const r = right[i]!;
    const c = condRaw[i];
    if (typeof c !== 'number' || !Number.isFinite(c)) {
      fail(join(join(at, 'split_conditions'), i), `must be a finite number, got ${describe(c)}`);
    }
    cond[i] = fround(c);
    const d = dl[i];
    if (d === 1 || d === true) defaultLeft[i] = 1;
    else if (!(d === 0 || d === false)) fail(join(join(at, 'default_left'), i), `must be 0, 1, true or false, got ${describe(d)}`);
    if (l === -1) {
      if (r !== -1) fail(join(join(at, 'right_children'), i), `is ${r} but left_children[${i}] is -1 (a leaf has no children)`);
      continue;
    }
    if (l < 0 || l >= n) fail(join(join(at, 'left_children'), i), `is ${l}, outside the tree's ${n} nodes`);
    if (r < 0 || r >= n) fail(join(join(at, 'right_children'), i), `is ${r}, outside the tree's ${n} nodes`);
    const f = feature[i]!;
    if (f < 0 || f >= numFeature) fail(join(join(at, 'split_indices'), i), `is ${f} but the model has ${numFeature} features`);
  }
  // Every node reachable from the root exactly once: no cycles, no shared children. `order` is breadth-first.
  let depth = 0;
  const seen = new Uint8Array(n);
  const depthOf = new Int32Array(n);
  const order = [0];
  seen[0] = 1;
  for (let q = 0; q < order.length; q++) {
    const i = order[q]!;
    if (depthOf[i]! > depth) depth = depthOf[i]!;
    if (left[i] === -1) continue;
    for (const c of [left[i]!, right[i]!]) {
      if (seen[c]) fail(at, `is not a tree: node ${c} is reached twice (from node ${i})`);
      seen[c] = 1;
      depthOf[c] = depthOf[i]! + 1;
      order.push(c);
    }
  }
  return { left, right, feature, cond, defaultLeft, order, depth };
}

/** The booster's trees, each checked, and the output group of each. */
export function readTrees(
  learner: JsonRecord,
  groups: number,
  numFeature: number,
  pathOf: PathOf,
): { trees: ParsedTree[]; treeInfo: Int32Array } {
  const gb = readRecord(learner['gradient_booster'], pathOf('learner.gradient_booster'));
  const gbName = readString(gb['name'], pathOf('learner.gradient_booster.name'));
  if (gbName !== 'gbtree')
    fail(pathOf('learner.gradient_booster.name'), `is ${JSON.stringify(gbName)}; only "gbtree" boosters are supported`);
  const modelPath = pathOf('learner.gradient_booster.model');
  const model = readRecord(gb['model'], modelPath);
  const treesRaw = readArray(model['trees'], join(modelPath, 'trees'));
  const treeInfo = readIntArray(model['tree_info'], join(modelPath, 'tree_info'));
  if (treeInfo.length !== treesRaw.length) {
    fail(join(modelPath, 'tree_info'), `has ${treeInfo.length} entries but trees has ${treesRaw.length}`);
  }
  if (isRecord(model['gbtree_model_param']) && model['gbtree_model_param']['num_trees'] !== undefined) {
    const declared = readCount(model['gbtree_model_param']['num_trees'], join(modelPath, 'gbtree_model_param.num_trees'));
    if (declared !== treesRaw.length)
      fail(join(modelPath, 'gbtree_model_param.num_trees'), `is ${declared} but trees has ${treesRaw.length}`);
  }
  treeInfo.forEach((g, t) => {
    if (g < 0 || g >= groups) fail(join(join(modelPath, 'tree_info'), t), `is ${g} but the model has ${groups} output group(s)`);
  });
  const trees = treesRaw.map((raw, t) => readTree(raw, join(join(modelPath, 'trees'), t), numFeature));
  return { trees, treeInfo };
}
