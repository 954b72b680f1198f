// The LoadedModel shared by every format: input validation and preprocessing around a numeric core.

import type { ClassLabel } from './json.ts';
import type { Vectorizer } from './preprocessing.ts';
import type {
  ClassificationPrediction,
  InputSchema,
  LoadedModel,
  ModelFormat,
  OutputSchema,
  Prediction,
  PredictMatrixOptions,
  RegressionPrediction,
  Task,
} from './types.ts';
import { InputValidationError } from './errors.ts';

/** The numeric heart of a model: feature vectors in, predictions or margins out. */
export interface Core {
  readonly format: ModelFormat;
  readonly task: Task;
  readonly numFeatures: number;
  /** The core reads float32 inputs (XGBoost compares float32 features with float32 thresholds). */
  readonly float32: boolean;
  /** Class labels (classification only). */
  readonly classes: readonly ClassLabel[];
  /** Binary models: probability of classes[1] from which classes[1] is predicted. */
  readonly threshold: number;
  /** Columns per row: 1 for regression, one probability per class for classification. */
  readonly predictionWidth: number;
  readonly marginWidth: number;
  readonly approxBytes: number;
  readonly details: Readonly<Record<string, string | number | boolean>>;
  /** `x` holds `rows` × numFeatures values, row-major; writes `rows` × width values to `out`. */
  run(x: Float64Array | Float32Array, rows: number, out: Float64Array, margin: boolean): void;
}

/** Batches up to this many values reuse the model's scratch buffers instead of allocating. */
const SCRATCH_LIMIT = 1 << 16;

export class Model implements LoadedModel {
  readonly format: ModelFormat;
  readonly task: Task;
  readonly inputSchema: InputSchema;
  readonly outputSchema: OutputSchema;
  readonly approxBytes: number;
  readonly details: Readonly<Record<string, string | number | boolean>>;
  readonly #core: Core;
  readonly #vectorizer: Vectorizer;
  #xScratch: Float64Array | Float32Array;
  #outScratch: Float64Array;

  constructor(core: Core, vectorizer: Vectorizer) {
    this.#core = core;
    this.#vectorizer = vectorizer;
    this.format = core.format;
    this.task = core.task;
    this.inputSchema = vectorizer.schema;
    this.details = core.details;
    this.outputSchema =
      core.task === 'regression'
        ? { task: 'regression', outputs: [{ name: 'predict', datatype: 'FP64', shape: [-1] }] }
        : {
            task: 'classification',
            classes: [...core.classes],
            outputs: [
              { name: 'label', datatype: core.classes.every((c) => typeof c === 'number') ? 'INT64' : 'BYTES', shape: [-1] },
              { name: 'probabilities', datatype: 'FP64', shape: [-1, core.classes.length] },
            ],
          };
    this.#xScratch = core.float32 ? new Float32Array(core.numFeatures) : new Float64Array(core.numFeatures);
    this.#outScratch = new Float64Array(Math.max(core.predictionWidth, core.marginWidth));
    this.approxBytes = core.approxBytes + vectorizer.approxBytes + 512;
  }

  matrixWidth(output: 'prediction' | 'margin' = 'prediction'): number {
    return output === 'margin' ? this.#core.marginWidth : this.#core.predictionWidth;
  }

  predict(rows: readonly unknown[]): Prediction[] {
    if (!Array.isArray(rows)) {
      throw new InputValidationError('the input must be an array of rows', '', -1, 'not_an_array');
    }
    const core = this.#core;
    const n = rows.length;
    const p = core.numFeatures;
    const w = core.predictionWidth;
    const x = this.#inputBuffer(n * p);
    const fill = this.#vectorizer.fill;
    for (let i = 0; i < n; i++) fill(rows[i], i, x, i * p);
    const out = this.#outputBuffer(n * w);
    core.run(x, n, out, false);

    const result: Prediction[] = new Array<Prediction>(n);
    if (core.task === 'regression') {
      for (let i = 0; i < n; i++) result[i] = { task: 'regression', value: out[i]! } satisfies RegressionPrediction;
      return result;
    }
    const classes = core.classes;
    for (let i = 0; i < n; i++) {
      const probabilities = new Array<number>(w);
      let best = 0;
      for (let k = 0; k < w; k++) {
        const pk = out[i * w + k]!;
        probabilities[k] = pk;
        if (pk > probabilities[best]!) best = k;
      }
      if (w === 2) best = probabilities[1]! >= core.threshold ? 1 : 0;
      result[i] = { task: 'classification', label: classes[best]!, classIndex: best, probabilities } satisfies ClassificationPrediction;
    }
    return result;
  }

  predictMatrix(x: Float64Array, rows: number, cols: number, options?: PredictMatrixOptions): Float64Array {
    const core = this.#core;
    if (!(x instanceof Float64Array)) throw new TypeError('predictMatrix: x must be a Float64Array');
    if (!Number.isInteger(rows) || rows < 0) throw new RangeError(`predictMatrix: rows must be a non-negative integer, got ${rows}`);
    if (cols !== core.numFeatures) {
      throw new RangeError(`predictMatrix: the model has ${core.numFeatures} features (inputSchema.modelFeatures) but cols is ${cols}`);
    }
    if (x.length !== rows * cols) throw new RangeError(`predictMatrix: x has ${x.length} values but rows × cols is ${rows * cols}`);
    const margin = options?.output === 'margin';
    const out = new Float64Array(rows * (margin ? core.marginWidth : core.predictionWidth));
    core.run(core.float32 ? Float32Array.from(x) : x, rows, out, margin);
    return out;
  }

  #inputBuffer(size: number): Float64Array | Float32Array {
    if (size > SCRATCH_LIMIT) return this.#core.float32 ? new Float32Array(size) : new Float64Array(size);
    if (this.#xScratch.length < size) this.#xScratch = this.#core.float32 ? new Float32Array(size) : new Float64Array(size);
    return this.#xScratch;
  }

  #outputBuffer(size: number): Float64Array {
    if (size > SCRATCH_LIMIT) return new Float64Array(size);
    if (this.#outScratch.length < size) this.#outScratch = new Float64Array(size);
    return this.#outScratch;
  }
}
