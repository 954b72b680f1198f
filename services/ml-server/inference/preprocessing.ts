// Declarative preprocessing: turns input rows ({feature: value}) into the model's numeric feature vector.
//
// "preprocessing": {
//   "unknown_category": "error",                       // optional default for categorical features: "error" | "zeros"
//   "features": [
//     { "name": "distance_m", "type": "numeric", "default": 100, "standardize": { "mean": 120.5, "std": 40.2 } },
//     { "name": "weapon", "type": "categorical", "categories": ["rifle", "bow"], "default": "rifle", "unknown": "zeros" }
//   ]
// }
//
// Model features not produced by any listed feature are plain numeric inputs of the same name.

import { InputValidationError } from './errors.ts';
import type { JsonRecord } from './json.ts';
import { describe, fail, join, readArray, readFinite, readNonEmptyString, readRecord, readString, rejectUnknownKeys } from './json.ts';
import type { InputFeature, InputSchema } from './types.ts';

const NUMERIC = 0;
const CATEGORICAL = 1;

interface Op {
  readonly kind: typeof NUMERIC | typeof CATEGORICAL;
  readonly name: string;
  /** The name is also an Object.prototype member ('constructor', 'toString'...): read it as an own property only. */
  readonly ownOnly: boolean;
  /** What a missing value becomes: 0 = error, 1 = the default, 2 = NaN (models that route missing values natively). */
  readonly onMissing: 0 | 1 | 2;
  // numeric
  readonly slot: number;
  readonly defaultValue: number;
  readonly mean: number;
  readonly std: number;
  // categorical
  readonly slots: Int32Array;
  readonly categoryIndex: ReadonlyMap<string, number>;
  readonly defaultCategory: number;
  readonly unknownZeros: boolean;
  readonly categoryList: string;
}

export interface Vectorizer {
  readonly schema: InputSchema;
  /** Writes row `rowIndex` into `out[offset .. offset + modelFeatures.length)`. */
  fill(row: unknown, rowIndex: number, out: Float64Array | Float32Array, offset: number): void;
  readonly approxBytes: number;
}

const NO_SLOTS = new Int32Array(0);
const NO_CATEGORIES: ReadonlyMap<string, number> = new Map();

/** Category key of an input value: strings as they are, finite numbers and booleans by their string form. */
function categoryKey(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean') return String(v);
  return undefined;
}

/** Claims a model feature for an input feature: its slot in the vector. Fails when another input already produces it. */
type Claim = (modelFeature: string, input: string, at: string) => number;

interface Compiled {
  op: Op;
  feature: InputFeature;
}

/** A numeric input feature: an optional default and standardisation. */
function compileNumeric(f: JsonRecord, at: string, name: string, required: boolean, nativeMissing: boolean, claim: Claim): Compiled {
  rejectUnknownKeys(f, ['name', 'type', 'default', 'standardize', 'required'], at);
  const hasDefault = f['default'] !== undefined;
  const defaultValue = hasDefault ? readFinite(f['default'], join(at, 'default')) : NaN;
  let mean = 0;
  let std = 1;
  let standardize: InputFeature['standardize'];
  if (f['standardize'] !== undefined) {
    const s = readRecord(f['standardize'], join(at, 'standardize'));
    rejectUnknownKeys(s, ['mean', 'std'], join(at, 'standardize'));
    mean = readFinite(s['mean'], join(join(at, 'standardize'), 'mean'));
    std = readFinite(s['std'], join(join(at, 'standardize'), 'std'));
    if (!(std > 0)) fail(join(join(at, 'standardize'), 'std'), `must be > 0, got ${std}`);
    standardize = { mean, std };
  }
  const slot = claim(name, name, at);
  const onMissing = hasDefault ? 1 : nativeMissing && !required ? 2 : 0;
  return {
    op: numericOp(name, slot, onMissing, defaultValue, mean, std),
    feature: {
      name,
      type: 'numeric',
      datatype: 'FP64',
      required: onMissing === 0,
      ...(hasDefault ? { default: defaultValue } : {}),
      ...(standardize ? { standardize } : {}),
      produces: [name],
    },
  };
}

/** A categorical input feature, one-hot encoded into one model feature per category (`name=category`). */
function compileCategorical(
  f: JsonRecord,
  at: string,
  name: string,
  required: boolean,
  nativeMissing: boolean,
  unknownDefault: 'error' | 'zeros',
  claim: Claim,
): Compiled {
  rejectUnknownKeys(f, ['name', 'type', 'default', 'categories', 'unknown', 'required'], at);
  const cats = readArray(f['categories'], join(at, 'categories'));
  if (cats.length === 0) fail(join(at, 'categories'), 'must list at least one category');
  const categories: string[] = [];
  const categoryIndex = new Map<string, number>();
  const slots = new Int32Array(cats.length);
  cats.forEach((c, j) => {
    const key = categoryKey(c);
    if (key === undefined) fail(join(join(at, 'categories'), j), `must be a string or a finite number, got ${describe(c)}`);
    if (categoryIndex.has(key)) fail(join(join(at, 'categories'), j), `repeats the category ${JSON.stringify(key)}`);
    categoryIndex.set(key, j);
    categories.push(key);
    slots[j] = claim(`${name}=${key}`, name, at);
  });
  let defaultCategory = -1;
  if (f['default'] !== undefined) {
    const key = categoryKey(f['default']);
    const idx = key === undefined ? undefined : categoryIndex.get(key);
    if (idx === undefined) fail(join(at, 'default'), `must be one of the categories, got ${describe(f['default'])}`);
    defaultCategory = idx;
  }
  const unknown = f['unknown'] === undefined ? unknownDefault : readUnknownPolicy(f['unknown'], join(at, 'unknown'));
  const onMissing = defaultCategory >= 0 ? 1 : nativeMissing && !required ? 2 : 0;
  const op: Op = {
    kind: CATEGORICAL,
    name,
    ownOnly: name in Object.prototype,
    onMissing,
    slot: -1,
    defaultValue: NaN,
    mean: 0,
    std: 1,
    slots,
    categoryIndex,
    defaultCategory,
    unknownZeros: unknown === 'zeros',
    categoryList: categories.length <= 20 ? categories.join(', ') : `${categories.slice(0, 20).join(', ')}, …`,
  };
  return {
    op,
    feature: {
      name,
      type: 'categorical',
      datatype: 'BYTES',
      required: onMissing === 0,
      ...(defaultCategory >= 0 ? { default: categories[defaultCategory] } : {}),
      categories,
      unknownCategory: unknown,
      produces: categories.map((c) => `${name}=${c}`),
    },
  };
}

/** Compiles the listed input features of a preprocessing spec; `claim` records which model features they produce. */
function compileSpec(spec: JsonRecord, path: string, nativeMissing: boolean, claim: Claim, inputNames: Set<string>): Compiled[] {
  rejectUnknownKeys(spec, ['features', 'unknown_category'], path);
  let unknownDefault: 'error' | 'zeros' = 'error';
  if (spec['unknown_category'] !== undefined) unknownDefault = readUnknownPolicy(spec['unknown_category'], join(path, 'unknown_category'));
  const list = readArray(spec['features'], join(path, 'features'));
  return list.map((raw, i) => {
    const at = join(join(path, 'features'), i);
    const f = readRecord(raw, at);
    const name = readNonEmptyString(f['name'], join(at, 'name'));
    if (inputNames.has(name)) fail(join(at, 'name'), `repeats the input feature ${JSON.stringify(name)}`);
    inputNames.add(name);
    const type = readString(f['type'], join(at, 'type'));
    const required = f['required'] === undefined ? false : readBoolean(f['required'], join(at, 'required'));
    if (required && f['default'] !== undefined) fail(at, 'cannot be both required and have a default');
    if (type === 'numeric') return compileNumeric(f, at, name, required, nativeMissing, claim);
    if (type === 'categorical') return compileCategorical(f, at, name, required, nativeMissing, unknownDefault, claim);
    return fail(join(at, 'type'), `must be "numeric" or "categorical", got ${describe(type)}`);
  });
}

/**
 * Compiles the preprocessing spec (or none) against the model's feature names.
 * `nativeMissing`: the model handles NaN itself, so a missing feature without default becomes NaN instead of an error.
 */
export function buildVectorizer(spec: unknown, modelFeatures: readonly string[], nativeMissing: boolean, path: string): Vectorizer {
  const slotOf = new Map<string, number>();
  modelFeatures.forEach((name, i) => slotOf.set(name, i));
  const producedBy = new Map<string, string>();
  const inputNames = new Set<string>();

  const claim: Claim = (modelFeature, input, at) => {
    const slot = slotOf.get(modelFeature);
    if (slot === undefined) fail(at, `produces the feature ${JSON.stringify(modelFeature)}, which is not one of the model's features`);
    const other = producedBy.get(modelFeature);
    if (other !== undefined)
      fail(at, `produces the feature ${JSON.stringify(modelFeature)}, which ${JSON.stringify(other)} already produces`);
    producedBy.set(modelFeature, input);
    return slot;
  };

  const compiled = spec !== undefined && spec !== null ? compileSpec(readRecord(spec, path), path, nativeMissing, claim, inputNames) : [];
  const ops = compiled.map((c) => c.op);
  const features = compiled.map((c) => c.feature);

  // Whatever the preprocessing does not produce is a plain numeric input of the same name.
  modelFeatures.forEach((name, slot) => {
    if (producedBy.has(name)) return;
    if (inputNames.has(name)) {
      fail(join(path, 'features'), `defines the input ${JSON.stringify(name)} but does not produce the model feature of that name`);
    }
    inputNames.add(name);
    const onMissing = nativeMissing ? 2 : 0;
    ops.push(numericOp(name, slot, onMissing, NaN, 0, 1));
    features.push({ name, type: 'numeric', datatype: 'FP64', required: onMissing === 0, produces: [name] });
  });

  const schema: InputSchema = { features, modelFeatures: [...modelFeatures], missingValues: nativeMissing ? 'native' : 'error' };
  let bytes = 256;
  for (const f of features) bytes += 160 + 2 * f.name.length + f.produces.reduce((n, p) => n + 48 + 4 * p.length, 0);
  return { schema, fill: filler(ops), approxBytes: bytes };
}

/** A required feature is absent, null or NaN. */
const missingValue = (op: Op, v: unknown, rowIndex: number) =>
  new InputValidationError(
    `row ${rowIndex}: feature '${op.name}' is required but ${v === undefined ? 'missing' : describe(v)} (it has no default)`,
    op.name,
    rowIndex,
    'missing',
  );

/** Writes a numeric input value `v` (standardised, or its default) into its slot. */
function fillNumeric(op: Op, v: unknown, rowIndex: number, out: Float64Array | Float32Array, offset: number): void {
  let x: number;
  if (typeof v === 'number' && v === v) {
    if (v === Infinity || v === -Infinity) {
      throw new InputValidationError(
        `row ${rowIndex}: feature '${op.name}' must be a finite number, got ${v}`,
        op.name,
        rowIndex,
        'not_finite',
      );
    }
    x = v;
  } else if (v === undefined || v === null || typeof v === 'number') {
    // absent, null or NaN
    if (op.onMissing === 1) x = op.defaultValue;
    else if (op.onMissing === 2) {
      out[offset + op.slot] = NaN;
      return;
    } else {
      throw missingValue(op, v, rowIndex);
    }
  } else {
    throw new InputValidationError(
      `row ${rowIndex}: feature '${op.name}' must be a finite number, got ${describe(v)}`,
      op.name,
      rowIndex,
      'wrong_type',
    );
  }
  out[offset + op.slot] = (x - op.mean) / op.std;
}

/** Writes a categorical input value `v` one-hot into its slots. */
function fillCategorical(op: Op, v: unknown, rowIndex: number, out: Float64Array | Float32Array, offset: number): void {
  const slots = op.slots;
  let hit: number;
  if (v === undefined || v === null || (typeof v === 'number' && v !== v)) {
    if (op.onMissing === 1) hit = op.defaultCategory;
    else if (op.onMissing === 2) {
      for (let j = 0; j < slots.length; j++) out[offset + slots[j]!] = NaN;
      return;
    } else {
      throw missingValue(op, v, rowIndex);
    }
  } else {
    const key = categoryKey(v);
    if (key === undefined) {
      throw new InputValidationError(
        `row ${rowIndex}: feature '${op.name}' must be a category (string), got ${describe(v)}`,
        op.name,
        rowIndex,
        'wrong_type',
      );
    }
    const idx = op.categoryIndex.get(key);
    if (idx === undefined) {
      if (!op.unknownZeros) {
        throw new InputValidationError(
          `row ${rowIndex}: feature '${op.name}' has the unknown category ${describe(key)} (known: ${op.categoryList})`,
          op.name,
          rowIndex,
          'unknown_category',
        );
      }
      hit = -1;
    } else hit = idx;
  }
  for (let j = 0; j < slots.length; j++) out[offset + slots[j]!] = j === hit ? 1 : 0;
}

function filler(ops: readonly Op[]): Vectorizer['fill'] {
  return (row, rowIndex, out, offset) => {
    if (typeof row !== 'object' || row === null || Array.isArray(row)) {
      throw new InputValidationError(
        `row ${rowIndex} must be an object of feature values, got ${describe(row)}`,
        '',
        rowIndex,
        'not_an_object',
      );
    }
    const r = row as JsonRecord;
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      const v = op.ownOnly && !Object.hasOwn(r, op.name) ? undefined : r[op.name];
      if (op.kind === NUMERIC) fillNumeric(op, v, rowIndex, out, offset);
      else fillCategorical(op, v, rowIndex, out, offset);
    }
  };
}

function numericOp(name: string, slot: number, onMissing: 0 | 1 | 2, defaultValue: number, mean: number, std: number): Op {
  return {
    kind: NUMERIC,
    name,
    ownOnly: name in Object.prototype,
    onMissing,
    slot,
    defaultValue,
    mean,
    std,
    slots: NO_SLOTS,
    categoryIndex: NO_CATEGORIES,
    defaultCategory: -1,
    unknownZeros: false,
    categoryList: '',
  };
}

function readUnknownPolicy(v: unknown, path: string): 'error' | 'zeros' {
  if (v !== 'error' && v !== 'zeros') fail(path, `must be "error" or "zeros", got ${describe(v)}`);
  return v;
}

function readBoolean(v: unknown, path: string): boolean {
  if (typeof v !== 'boolean') fail(path, `must be true or false, got ${describe(v)}`);
  return v;
}
