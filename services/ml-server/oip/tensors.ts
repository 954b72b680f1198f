/**
 * Open Inference Protocol (KServe v2) tensors ↔ the inference engine's rows.
 *
 * Inputs can be sent two ways:
 * 1. One tensor per input feature, named after it, shape [n] (or [n, 1]): FP64 (any numeric
 *    datatype; BOOL becomes 0/1) for numeric features, BYTES (strings) or numbers for categorical
 *    ones. A feature without a tensor is missing in every row (its default, or NaN for XGBoost, or a
 *    400 when it is required). `null` in the data marks one missing value (JSON has no NaN).
 * 2. A single numeric tensor of shape [n, F] (any name that is not a feature name, e.g. "input"),
 *    whose F columns are the model's input features in the order of the metadata's `inputs`. Only
 *    for models whose inputs are all numeric.
 * Data may be flat (row-major) or nested, as the protocol allows.
 *
 * Outputs: regression → `predict` FP64 [n]; classification → `label` (BYTES, or INT64 for numeric
 * classes) [n] and `probabilities` FP64 [n, classes] in the order of the model's classes.
 */
import type { InputSchema, OutputSchema } from '../inference/index.ts';
import type { PredictionOutput } from '../serving/predictor.ts';

export class OipRequestError extends Error {
  readonly status: number;
  constructor(message: string, status = 400) {
    super(message);
    this.status = status;
  }
}

export interface InferInputTensor {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown;
}

export interface OutputTensorData {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown[];
}

const NUMERIC = new Set(['UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64']);
const DATATYPES = new Set([...NUMERIC, 'BOOL', 'BYTES']);

function flatten(data: unknown, out: unknown[] = []): unknown[] {
  if (Array.isArray(data)) for (const item of data) flatten(item, out);
  else out.push(data);
  return out;
}

/** The values of one column for a feature, checked against the tensor's datatype and the feature's type. */
function convert(tensor: InferInputTensor, values: unknown[], type: 'numeric' | 'categorical', feature: string): unknown[] {
  const dt = tensor.datatype;
  return values.map((v, i) => {
    if (v === null) return null;
    if (dt === 'BYTES') {
      if (type === 'numeric')
        throw new OipRequestError(`input '${feature}' is numeric: send it as FP64 (or another numeric datatype), not BYTES`);
      if (typeof v !== 'string') throw new OipRequestError(`input '${tensor.name}' is BYTES but data[${i}] is not a string`);
      return v;
    }
    if (dt === 'BOOL') {
      if (typeof v !== 'boolean') throw new OipRequestError(`input '${tensor.name}' is BOOL but data[${i}] is not a boolean`);
      return type === 'numeric' ? (v ? 1 : 0) : String(v);
    }
    if (typeof v !== 'number') throw new OipRequestError(`input '${tensor.name}' is ${dt} but data[${i}] is not a number`);
    if (dt.startsWith('INT') || dt.startsWith('UINT')) {
      if (!Number.isInteger(v)) throw new OipRequestError(`input '${tensor.name}' is ${dt} but data[${i}] is not an integer`);
      if (dt.startsWith('UINT') && v < 0) throw new OipRequestError(`input '${tensor.name}' is ${dt} but data[${i}] is negative`);
    }
    return v;
  });
}

function checkTensor(t: InferInputTensor): unknown[] {
  if (!DATATYPES.has(t.datatype)) throw new OipRequestError(`input '${t.name}' has an unknown datatype ${t.datatype}`);
  if (!t.shape.every((d) => Number.isInteger(d) && d >= 0))
    throw new OipRequestError(`input '${t.name}' has an invalid shape [${t.shape.join(', ')}]`);
  const values = flatten(t.data);
  const expected = t.shape.reduce((a, b) => a * b, 1);
  if (values.length !== expected) {
    throw new OipRequestError(`input '${t.name}' has ${values.length} values but its shape [${t.shape.join(', ')}] holds ${expected}`);
  }
  return values;
}

export function inputsToRows(inputs: InferInputTensor[], schema: InputSchema, maxRows: number): Record<string, unknown>[] {
  if (inputs.length === 0) throw new OipRequestError('the request has no inputs');
  const features = schema.features;
  const byName = new Map(features.map((f) => [f.name, f]));
  const seen = new Set<string>();
  for (const t of inputs) {
    if (seen.has(t.name)) throw new OipRequestError(`input '${t.name}' appears twice`);
    seen.add(t.name);
  }

  const only = inputs[0]!;
  if (inputs.length === 1 && !byName.has(only.name) && only.shape.length === 2) {
    // Packed: one [n, F] numeric tensor, columns in the order of the model's input features.
    const values = checkTensor(only);
    const [n, width] = only.shape as [number, number];
    if (only.datatype === 'BYTES')
      throw new OipRequestError(`packed input '${only.name}' must be numeric; send categorical features as their own BYTES tensors`);
    if (width !== features.length) {
      throw new OipRequestError(
        `packed input '${only.name}' has ${width} columns but the model has ${features.length} input features (${features.map((f) => f.name).join(', ')})`,
      );
    }
    const categorical = features.find((f) => f.type === 'categorical');
    if (categorical)
      throw new OipRequestError(
        `packed input needs all-numeric features, but '${categorical.name}' is categorical; send one tensor per feature`,
      );
    if (n > maxRows) throw new OipRequestError(`at most ${maxRows} rows per request, got ${n}`);
    const columns = features.map((f, j) =>
      convert(
        only,
        values.filter((_, k) => k % width === j),
        f.type,
        f.name,
      ),
    );
    const rows: Record<string, unknown>[] = [];
    for (let i = 0; i < n; i++) {
      const row: Record<string, unknown> = {};
      features.forEach((f, j) => (row[f.name] = columns[j]![i]));
      rows.push(row);
    }
    return rows;
  }

  let n: number | undefined;
  const columns: Array<[string, unknown[]]> = [];
  for (const t of inputs) {
    const feature = byName.get(t.name);
    if (!feature) {
      throw new OipRequestError(
        `unknown input '${t.name}'; the model's inputs are ${features.map((f) => f.name).join(', ')} (or one packed [n, ${features.length}] tensor)`,
      );
    }
    if (!(t.shape.length === 1 || (t.shape.length === 2 && t.shape[1] === 1))) {
      throw new OipRequestError(`input '${t.name}' must have shape [n] or [n, 1], got [${t.shape.join(', ')}]`);
    }
    const values = checkTensor(t);
    if (n === undefined) n = t.shape[0]!;
    else if (t.shape[0] !== n) throw new OipRequestError(`input '${t.name}' has ${t.shape[0]} rows but '${inputs[0]!.name}' has ${n}`);
    columns.push([feature.name, convert(t, values, feature.type, feature.name)]);
  }
  if (!n) throw new OipRequestError('the inputs have no rows');
  if (n > maxRows) throw new OipRequestError(`at most ${maxRows} rows per request, got ${n}`);
  const rows: Record<string, unknown>[] = [];
  for (let i = 0; i < n; i++) {
    const row: Record<string, unknown> = {};
    for (const [name, column] of columns) row[name] = column[i];
    rows.push(row);
  }
  return rows;
}

export function outputsToTensors(
  outputs: PredictionOutput[],
  schema: OutputSchema,
  requested?: Array<{ name: string }>,
): OutputTensorData[] {
  const n = outputs.length;
  const all: OutputTensorData[] = [];
  if (schema.task === 'regression') {
    all.push({ name: 'predict', datatype: 'FP64', shape: [n], data: outputs.map((o) => (o as { value: number }).value) });
  } else {
    const classes = schema.classes.map(String);
    const labelType = schema.outputs.find((o) => o.name === 'label')?.datatype ?? 'BYTES';
    const labels = outputs.map((o) => (o as { label: string | number }).label);
    all.push({ name: 'label', datatype: labelType, shape: [n], data: labelType === 'BYTES' ? labels.map(String) : labels });
    const probabilities: number[] = [];
    for (const o of outputs) {
      const p = (o as { probabilities: Record<string, number> }).probabilities;
      for (const c of classes) probabilities.push(p[c]!);
    }
    all.push({ name: 'probabilities', datatype: 'FP64', shape: [n, classes.length], data: probabilities });
  }
  if (!requested?.length) return all;
  return requested.map(({ name }) => {
    const tensor = all.find((t) => t.name === name);
    if (!tensor) throw new OipRequestError(`unknown output '${name}'; the model's outputs are ${all.map((t) => t.name).join(', ')}`);
    return tensor;
  });
}

/** Metadata tensors of a version, from the schemas the engine reported at upload. */
export function metadataTensors(inputSchema: InputSchema, outputSchema: OutputSchema) {
  return {
    inputs: inputSchema.features.map((f) => ({ name: f.name, datatype: f.datatype, shape: [-1] })),
    outputs: outputSchema.outputs.map((o) => ({ name: o.name, datatype: o.datatype, shape: [...o.shape] })),
  };
}
