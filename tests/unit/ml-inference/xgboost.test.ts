import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InputValidationError, loadModel, ModelArtifactError } from '../../../services/ml-server/inference/index.ts';
import type { ClassificationPrediction, Prediction, RegressionPrediction } from '../../../services/ml-server/inference/index.ts';

const FIXTURES = new URL('../../fixtures/xgboost/', import.meta.url);
const NAMES = ['regression', 'binary', 'multiclass', 'missing'] as const;

interface Expected {
  model: string;
  xgboost_version: string;
  objective: string;
  feature_names: string[];
  rows: Record<string, number | null>[];
  predictions: number[] | number[][];
  margins: number[] | number[][];
}

function fixture(name: string): { bytes: Buffer; json: any; expected: Expected } {
  const bytes = readFileSync(new URL(`${name}.json`, FIXTURES));
  const expected = JSON.parse(readFileSync(new URL(`${name}.expected.json`, FIXTURES), 'utf8')) as Expected;
  return { bytes, json: JSON.parse(bytes.toString('utf8')), expected };
}

/** XGBoost works in float32: 1e-6 relative to the magnitude (absolute below 1, where probabilities live). */
function expectClose(got: number, want: number, what: string): void {
  const tol = 1e-6 * Math.max(1, Math.abs(want));
  if (!(Math.abs(got - want) <= tol))
    throw new Error(`${what}: got ${got}, XGBoost gave ${want} (|diff| ${Math.abs(got - want)} > ${tol})`);
}

const asRegression = (p: Prediction): RegressionPrediction => {
  if (p.task !== 'regression') throw new Error('expected a regression prediction');
  return p;
};
const asClass = (p: Prediction): ClassificationPrediction => {
  if (p.task !== 'classification') throw new Error('expected a classification prediction');
  return p;
};

describe('XGBoost fixtures: predictions match XGBoost', () => {
  it.each(NAMES)('%s', (name) => {
    const { bytes, expected } = fixture(name);
    const model = loadModel(bytes);
    expect(model.format).toBe('xgboost');
    expect(model.details['objective']).toBe(expected.objective);
    expect(model.inputSchema.modelFeatures).toEqual(expected.feature_names);
    const preds = model.predict(expected.rows);
    expect(preds).toHaveLength(expected.rows.length);
    expect(expected.rows.length).toBeGreaterThanOrEqual(24);
    preds.forEach((p, i) => {
      const want = expected.predictions[i]!;
      if (expected.objective === 'reg:squarederror') {
        expect(model.task).toBe('regression');
        expectClose(asRegression(p).value, want as number, `${name} row ${i}`);
      } else if (expected.objective === 'binary:logistic') {
        const c = asClass(p);
        expectClose(c.probabilities[1]!, want as number, `${name} row ${i} P(1)`);
        expectClose(c.probabilities[0]!, 1 - (want as number), `${name} row ${i} P(0)`);
        expect(c.label).toBe((want as number) >= 0.5 ? 1 : 0);
      } else {
        const c = asClass(p);
        const w = want as number[];
        expect(c.probabilities).toHaveLength(3);
        w.forEach((wk, k) => expectClose(c.probabilities[k]!, wk, `${name} row ${i} P(${k})`));
        expect(c.classIndex).toBe(w.indexOf(Math.max(...w)));
        expect(c.label).toBe(c.classIndex);
      }
    });
  });

  it.each(NAMES)('%s: margins through predictMatrix', (name) => {
    const { bytes, expected } = fixture(name);
    const model = loadModel(bytes);
    const cols = expected.feature_names.length;
    const x = new Float64Array(expected.rows.length * cols);
    expected.rows.forEach((row, i) => expected.feature_names.forEach((f, j) => (x[i * cols + j] = row[f] ?? NaN)));
    const margins = model.predictMatrix(x, expected.rows.length, cols, { output: 'margin' });
    const width = model.matrixWidth('margin');
    expect(margins.length).toBe(expected.rows.length * width);
    expected.margins.forEach((m, i) => {
      const want = Array.isArray(m) ? m : [m];
      expect(want).toHaveLength(width);
      want.forEach((wk, k) => expectClose(margins[i * width + k]!, wk, `${name} margin row ${i}[${k}]`));
    });
    // and the prediction matrix agrees with predict()
    const probs = model.predictMatrix(x, expected.rows.length, cols);
    const preds = model.predict(expected.rows);
    const pw = model.matrixWidth();
    preds.forEach((p, i) => {
      const row = p.task === 'regression' ? [p.value] : p.probabilities;
      expect(Array.from(probs.subarray(i * pw, (i + 1) * pw))).toEqual(row);
    });
  });

  it.each(['regression', 'missing'] as const)('%s: float32 accumulation in tree order reproduces XGBoost bit for bit', (name) => {
    // Regression outputs involve no exp/log, so emulating XGBoost's float32 arithmetic gives its exact numbers.
    const { bytes, expected } = fixture(name);
    const values = loadModel(bytes)
      .predict(expected.rows)
      .map((p) => asRegression(p).value);
    expect(values).toEqual(expected.predictions);
  });

  it.each(['regression', 'multiclass', 'missing'] as const)("%s: the margins are XGBoost's to the last bit", (name) => {
    // Margins are float32 sums of leaves in tree order, per class; no exp/log is involved.
    const { bytes, expected } = fixture(name);
    const model = loadModel(bytes);
    const cols = expected.feature_names.length;
    const x = Float64Array.from(expected.rows.flatMap((r) => expected.feature_names.map((f) => r[f] ?? NaN)));
    const margins = Array.from(model.predictMatrix(x, expected.rows.length, cols, { output: 'margin' }));
    expect(margins).toEqual(expected.margins.flat());
  });

  it('the fixtures hold rows where comparing in float64 instead of float32 takes another branch', () => {
    // The fixture script put values on, or a float64 hair below, root split conditions. Compared in float64 (input and
    // the decimal reading of the condition), those rows take other branches than in float32, as XGBoost compares;
    // the tests above show the model matches XGBoost on them, so the model really compares in float32.
    for (const name of ['regression', 'binary', 'multiclass'] as const) {
      const { json, expected } = fixture(name);
      const trees = json.learner.gradient_booster.model.trees as any[];
      const leaves = (row: Record<string, number | null>, float32: boolean): string =>
        trees
          .map((t) => {
            let n = 0;
            while (t.left_children[n] !== -1) {
              const v = row[expected.feature_names[t.split_indices[n]]!] as number;
              const c = t.split_conditions[n] as number;
              n = (float32 ? Math.fround(v) < Math.fround(c) : v < c) ? t.left_children[n] : t.right_children[n];
            }
            return n;
          })
          .join(',');
      const astray = expected.rows.filter((row) => leaves(row, true) !== leaves(row, false));
      expect(astray.length, `${name}: rows on which float64 comparisons take another branch`).toBeGreaterThanOrEqual(3);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Hand-built models with hand-computed answers

interface TreeSpec {
  left: number[];
  right: number[];
  feature: number[];
  cond: number[];
  defaultLeft: number[];
}

function tree(t: TreeSpec, id = 0): Record<string, unknown> {
  const n = t.left.length;
  return {
    base_weights: new Array(n).fill(0),
    categories: [],
    categories_nodes: [],
    categories_segments: [],
    categories_sizes: [],
    default_left: [...t.defaultLeft],
    id,
    left_children: [...t.left],
    loss_changes: new Array(n).fill(0),
    parents: new Array(n).fill(0),
    right_children: [...t.right],
    split_conditions: [...t.cond],
    split_indices: [...t.feature],
    split_type: new Array(n).fill(0),
    sum_hessian: new Array(n).fill(1),
    tree_param: { num_deleted: '0', num_feature: '2', num_nodes: String(n), size_leaf_vector: '0' },
  };
}

const leaf = (v: number): TreeSpec => ({ left: [-1], right: [-1], feature: [0], cond: [v], defaultLeft: [0] });

function xgbDoc(o: { objective: string; baseScore: string; numClass?: number; trees: TreeSpec[]; treeInfo?: number[] }): any {
  return {
    learner: {
      attributes: {},
      feature_names: ['a', 'b'],
      feature_types: [],
      gradient_booster: {
        model: {
          gbtree_model_param: { num_parallel_tree: '1', num_trees: String(o.trees.length), size_leaf_vector: '0' },
          tree_info: o.treeInfo ?? o.trees.map(() => 0),
          trees: o.trees.map((t, i) => tree(t, i)),
        },
        name: 'gbtree',
      },
      learner_model_param: {
        base_score: o.baseScore,
        boost_from_average: '1',
        num_class: String(o.numClass ?? 0),
        num_feature: '2',
        num_target: '1',
      },
      objective: { name: o.objective },
    },
    version: [1, 7, 4],
  };
}

// Tree 0: node 0 splits a < 1.5 (missing goes right) into node 2 (leaf -0.25) and node 1, which splits b < 0 (missing
// goes left) into leaves 1 (node 3) and 2 (node 4). The children are deliberately not in breadth-first order.
const TREE0: TreeSpec = {
  left: [2, 3, -1, -1, -1],
  right: [1, 4, -1, -1, -1],
  feature: [0, 1, 0, 0, 0],
  cond: [1.5, 0, -0.25, 1, 2],
  defaultLeft: [0, 1, 0, 0, 0],
};

describe('XGBoost: hand-built models', () => {
  const regression = loadModel(xgbDoc({ objective: 'reg:squarederror', baseScore: '5E-1', trees: [TREE0, leaf(0.125)] }));

  it('routes left when value < split_condition, right when equal, and missing values by default_left', () => {
    const value = (row: Record<string, unknown>): number => asRegression(regression.predict([row])[0]!).value;
    expect(value({ a: 1, b: 5 })).toBe(0.5 - 0.25 + 0.125);
    expect(value({ a: 1.5, b: -1 })).toBe(0.5 + 1 + 0.125); // equal goes right
    expect(value({ a: 2, b: 0 })).toBe(0.5 + 2 + 0.125);
    expect(value({ b: 3 })).toBe(0.5 + 2 + 0.125); // a missing: right; b = 3 >= 0: right
    expect(value({ a: null, b: null })).toBe(0.5 + 1 + 0.125); // b missing: left
    expect(value({ a: NaN })).toBe(0.5 + 1 + 0.125);
    expect(value({ a: -1e300, b: 1e300 })).toBe(0.5 - 0.25 + 0.125);
  });

  it('casts features to float32 before comparing, as XGBoost does', () => {
    const below = 1.5 - 2 ** -40; // < 1.5 in float64, but 1.5 in float32
    expect(below).toBeLessThan(1.5);
    expect(asRegression(regression.predict([{ a: below, b: 1 }])[0]!).value).toBe(0.5 + 2 + 0.125);
    const clearlyBelow = 1.5 - 2 ** -20; // stays below in float32
    expect(asRegression(regression.predict([{ a: clearlyBelow, b: 1 }])[0]!).value).toBe(0.5 - 0.25 + 0.125);
  });

  it('reports its schema and details', () => {
    expect(regression.task).toBe('regression');
    expect(regression.inputSchema.missingValues).toBe('native');
    expect(regression.inputSchema.features.map((f) => [f.name, f.type, f.required])).toEqual([
      ['a', 'numeric', false],
      ['b', 'numeric', false],
    ]);
    expect(regression.outputSchema).toEqual({ task: 'regression', outputs: [{ name: 'predict', datatype: 'FP64', shape: [-1] }] });
    expect(regression.details).toMatchObject({ trees: 2, nodes: 6, maxDepth: 2, objective: 'reg:squarederror' });
    expect(regression.approxBytes).toBeGreaterThan(6 * 17);
  });

  it('binary:logistic starts from logit(base_score), in the 1.x ("2E-1") and 2.x ("[2E-1]") spellings', () => {
    for (const baseScore of ['2E-1', '[2E-1]', '0.2']) {
      const m = loadModel(xgbDoc({ objective: 'binary:logistic', baseScore, trees: [leaf(0), leaf(Math.log(3))] }));
      const p = asClass(m.predict([{ a: 0, b: 0 }])[0]!);
      // logit(0.2) + ln 3 = ln(0.25 × 3) = ln 0.75, so P = 0.75 / 1.75 = 3/7
      expectClose(p.probabilities[1]!, 3 / 7, `P(1) with base_score ${baseScore}`);
      expectClose(p.probabilities[0]!, 4 / 7, `P(0) with base_score ${baseScore}`);
      expect(p.label).toBe(0);
      expectClose(m.predictMatrix(new Float64Array(2), 1, 2, { output: 'margin' })[0]!, Math.log(0.75), 'margin');
    }
  });

  it('multi:softprob adds each tree to its class (tree_info) and takes the softmax', () => {
    const m = loadModel(
      xgbDoc({
        objective: 'multi:softprob',
        baseScore: '5E-1',
        numClass: 3,
        trees: [leaf(1), leaf(2), leaf(3), TREE0, leaf(0), leaf(0)],
        treeInfo: [0, 1, 2, 2, 0, 1],
      }),
    );
    const p = asClass(m.predict([{ a: 1, b: 0 }])[0]!); // TREE0 gives -0.25 to class 2
    const z = [1, 2, 3 - 0.25];
    const e = z.map(Math.exp);
    const sum = e[0]! + e[1]! + e[2]!;
    e.forEach((ek, k) => expectClose(p.probabilities[k]!, ek / sum, `P(${k})`));
    expect(p.classIndex).toBe(2);
    expect(m.outputSchema).toMatchObject({ task: 'classification', classes: [0, 1, 2] });
    const margins = m.predictMatrix(Float64Array.of(1, 0), 1, 2, { output: 'margin' });
    expect(Array.from(margins)).toEqual([1.5, 2.5, 3.25]);
  });

  it('accepts an envelope that renames features and classes, sets a threshold and adds preprocessing', () => {
    const m = loadModel({
      format: 'xgboost',
      model: xgbDoc({ objective: 'binary:logistic', baseScore: '5E-1', trees: [TREE0] }),
      feature_names: ['range=short', 'wind'],
      classes: ['miss', 'hit'],
      threshold: 0.4,
      preprocessing: {
        features: [
          { name: 'range', type: 'categorical', categories: ['short'], unknown: 'zeros' },
          { name: 'wind', type: 'numeric', default: -3 },
        ],
      },
    });
    expect(m.inputSchema.features.map((f) => f.name)).toEqual(['range', 'wind']);
    const [short, long, missing] = m.predict([{ range: 'short', wind: 4 }, { range: 'long' }, {}]).map(asClass);
    // short → range=short 1 < 1.5 → leaf -0.25; long → 0 → also left; missing → NaN → right, wind default -3 < 0 → leaf 1
    expectClose(short!.probabilities[1]!, 1 / (1 + Math.exp(0.25)), 'short');
    expect(short!.label).toBe('hit'); // 0.438 >= threshold 0.4
    expect(long!.probabilities).toEqual(short!.probabilities);
    expectClose(missing!.probabilities[1]!, 1 / (1 + Math.exp(-1)), 'missing');
    expect(missing!.label).toBe('hit');
  });

  it('treats absent, null and NaN alike, and rejects infinities and non-numbers by feature name', () => {
    const { bytes, expected } = fixture('missing');
    const m = loadModel(bytes);
    const row = expected.rows[0]!; // all features missing (null)
    expect(Object.values(row).every((v) => v === null)).toBe(true);
    const viaNull = m.predict([row]);
    expect(m.predict([{}])).toEqual(viaNull);
    expect(m.predict([{ f0: NaN, f1: NaN, f2: NaN, f3: NaN, f4: NaN }])).toEqual(viaNull);
    expectClose(asRegression(viaNull[0]!).value, expected.predictions[0] as number, 'all missing');
    expect(() => m.predict([{ f2: Infinity }])).toThrow(InputValidationError);
    expect(() => m.predict([{ f2: Infinity }])).toThrow("row 0: feature 'f2' must be a finite number, got Infinity");
    expect(() => m.predict([{}, { f3: '12' }])).toThrow('row 1: feature \'f3\' must be a finite number, got "12"');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Corrupt or unsupported XGBoost artifacts

function corrupt(mutate: (doc: any) => void): any {
  const doc = xgbDoc({ objective: 'reg:squarederror', baseScore: '5E-1', trees: [leaf(0.5), TREE0] });
  mutate(doc);
  return doc;
}

const T1 = 'learner.gradient_booster.model.trees[1]';

describe('XGBoost: corrupt artifacts are rejected with a precise message', () => {
  const cases: [string, (doc: any) => void, string][] = [
    [
      'array lengths differ',
      (d) => d.learner.gradient_booster.model.trees[1].split_indices.push(0, 0),
      `${T1}.left_children has 5 entries but split_indices has 7`,
    ],
    [
      'split_conditions too short',
      (d) => d.learner.gradient_booster.model.trees[1].split_conditions.pop(),
      `${T1}.left_children has 5 entries but split_conditions has 4`,
    ],
    [
      'unknown objective',
      (d) => (d.learner.objective.name = 'rank:pairwise'),
      'learner.objective.name is "rank:pairwise", which is not supported (supported: reg:squarederror, binary:logistic, multi:softprob)',
    ],
    [
      'child out of range',
      (d) => (d.learner.gradient_booster.model.trees[1].left_children[1] = 9),
      `${T1}.left_children[1] is 9, outside the tree's 5 nodes`,
    ],
    [
      'a cycle',
      (d) => (d.learner.gradient_booster.model.trees[1].right_children[1] = 0),
      `${T1} is not a tree: node 0 is reached twice (from node 1)`,
    ],
    [
      'a leaf with a right child',
      (d) => (d.learner.gradient_booster.model.trees[1].right_children[2] = 3),
      `${T1}.right_children[2] is 3 but left_children[2] is -1 (a leaf has no children)`,
    ],
    [
      'split feature out of range',
      (d) => (d.learner.gradient_booster.model.trees[1].split_indices[1] = 2),
      `${T1}.split_indices[1] is 2 but the model has 2 features`,
    ],
    [
      'a non-numeric split condition',
      (d) => (d.learner.gradient_booster.model.trees[1].split_conditions[3] = null),
      `${T1}.split_conditions[3] must be a finite number, got null`,
    ],
    [
      'a bad default_left',
      (d) => (d.learner.gradient_booster.model.trees[1].default_left[0] = 2),
      `${T1}.default_left[0] must be 0, 1, true or false, got 2`,
    ],
    [
      'tree_info of the wrong length',
      (d) => d.learner.gradient_booster.model.tree_info.push(0),
      'learner.gradient_booster.model.tree_info has 3 entries but trees has 2',
    ],
    [
      'a tree_info class out of range',
      (d) => (d.learner.gradient_booster.model.tree_info[1] = 1),
      'learner.gradient_booster.model.tree_info[1] is 1 but the model has 1 output group(s)',
    ],
    [
      'num_trees disagreeing',
      (d) => (d.learner.gradient_booster.model.gbtree_model_param.num_trees = '3'),
      'learner.gradient_booster.model.gbtree_model_param.num_trees is 3 but trees has 2',
    ],
    [
      'num_nodes disagreeing',
      (d) => (d.learner.gradient_booster.model.trees[1].tree_param.num_nodes = '7'),
      `${T1}.tree_param.num_nodes is 7 but left_children has 5 entries`,
    ],
    [
      'a categorical split',
      (d) => (d.learner.gradient_booster.model.trees[1].split_type[1] = 1),
      `${T1}.split_type[1] is 1: categorical splits are not supported`,
    ],
    [
      'a dart booster',
      (d) => (d.learner.gradient_booster.name = 'dart'),
      'learner.gradient_booster.name is "dart"; only "gbtree" boosters are supported',
    ],
    [
      'a multi-target model',
      (d) => (d.learner.learner_model_param.num_target = '2'),
      'learner.learner_model_param.num_target is 2: multi-target models are not supported',
    ],
    [
      'an unreadable base_score',
      (d) => (d.learner.learner_model_param.base_score = 'abc'),
      'learner.learner_model_param.base_score must hold finite numbers, got "abc"',
    ],
    [
      'a vector base_score for one output',
      (d) => (d.learner.learner_model_param.base_score = '[1E0,2E0]'),
      'learner.learner_model_param.base_score has 2 values but the model has 1 outputs',
    ],
    [
      'num_class on a regression',
      (d) => (d.learner.learner_model_param.num_class = '3'),
      'learner.learner_model_param.num_class is 3 but reg:squarederror has a single output',
    ],
    [
      'feature names of the wrong count',
      (d) => d.learner.feature_names.push('c'),
      'learner.feature_names has 3 names but learner_model_param.num_feature is 2',
    ],
    [
      'no trees array',
      (d) => delete d.learner.gradient_booster.model.trees,
      'learner.gradient_booster.model.trees must be an array, got undefined',
    ],
    [
      'an empty tree',
      (d) => (d.learner.gradient_booster.model.trees[0].left_children = []),
      'learner.gradient_booster.model.trees[0].left_children is empty: a tree needs at least a root',
    ],
  ];

  it.each(cases)('%s', (_name, mutate, message) => {
    const doc = corrupt(mutate);
    let error: unknown;
    try {
      loadModel(doc);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ModelArtifactError);
    expect((error as Error).message).toBe(message);
    // the same through the bytes of the JSON
    if (!JSON.stringify(doc).includes('null')) expect(() => loadModel(Buffer.from(JSON.stringify(doc)))).toThrow(message);
  });

  it('binary:logistic needs base_score strictly between 0 and 1', () => {
    const doc = xgbDoc({ objective: 'binary:logistic', baseScore: '1E0', trees: [leaf(0)] });
    expect(() => loadModel(doc)).toThrow(
      'learner.learner_model_param.base_score must be a probability in (0, 1) for binary:logistic, got 1',
    );
  });

  it('multi:softprob needs num_class >= 2', () => {
    const doc = xgbDoc({ objective: 'multi:softprob', baseScore: '5E-1', numClass: 1, trees: [leaf(0)] });
    expect(() => loadModel(doc)).toThrow('learner.learner_model_param.num_class is 1 but multi:softprob needs at least 2 classes');
  });

  it('names paths inside an envelope with the model. prefix', () => {
    const doc = corrupt((d) => d.learner.gradient_booster.model.trees[1].split_indices.pop());
    expect(() => loadModel({ format: 'xgboost', model: doc })).toThrow(`model.${T1}.left_children has 5 entries but split_indices has 4`);
    expect(() => loadModel({ format: 'xgboost', model: corrupt(() => {}), feature_names: ['x'] })).toThrow(
      'feature_names has 1 names but the model has 2 features',
    );
    expect(() => loadModel({ format: 'xgboost', model: corrupt(() => {}), classes: ['a', 'b'] })).toThrow(
      'classes does not apply to a regression model',
    );
  });

  it('rejects a truncated fixture and UBJSON bytes', () => {
    const { bytes } = fixture('binary');
    expect(() => loadModel(bytes.subarray(0, bytes.length >> 1))).toThrow(
      /^artifact is not valid JSON: .*\(the artifact looks truncated\)$/,
    );
    expect(() => loadModel(Buffer.from([0x7b, 0x4c, 0, 0, 0, 0, 0, 0, 0, 7, 0x6c, 0x65, 0x61]))).toThrow(/looks like UBJSON/);
  });
});
