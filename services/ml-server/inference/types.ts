// Public types of the inference core.

import type { ClassLabel } from './json.ts';

export type { ClassLabel };

export type ModelFormat = 'linear' | 'logistic' | 'xgboost';
export type Task = 'classification' | 'regression';

/** One input feature as callers send it (before preprocessing). */
export interface InputFeature {
  readonly name: string;
  readonly type: 'numeric' | 'categorical';
  /** Open Inference Protocol datatype of the input: FP64 for numbers, BYTES for category strings. */
  readonly datatype: 'FP64' | 'BYTES';
  /** True when a row without this feature (absent, null or NaN) is rejected. */
  readonly required: boolean;
  /** Value substituted when the feature is absent, null or NaN (raw units, before standardisation). */
  readonly default?: number | string;
  /** Known categories (categorical features only), in the order of their one-hot columns. */
  readonly categories?: readonly string[];
  /** What an unknown category does (categorical features only). */
  readonly unknownCategory?: 'error' | 'zeros';
  readonly standardize?: { readonly mean: number; readonly std: number };
  /** The model features this input fills: itself, or `name=category` per category for one-hot. */
  readonly produces: readonly string[];
}

export interface InputSchema {
  readonly features: readonly InputFeature[];
  /** The model's own feature order (after preprocessing): the columns of `predictMatrix`. */
  readonly modelFeatures: readonly string[];
  /** 'native': the model routes missing values itself (XGBoost); 'error': a missing value needs a default. */
  readonly missingValues: 'native' | 'error';
}

export interface OutputTensor {
  readonly name: string;
  readonly datatype: 'FP64' | 'BYTES' | 'INT64';
  /** -1 is the batch dimension. */
  readonly shape: readonly number[];
}

export type OutputSchema =
  | { readonly task: 'regression'; readonly outputs: readonly OutputTensor[] }
  | { readonly task: 'classification'; readonly classes: readonly ClassLabel[]; readonly outputs: readonly OutputTensor[] };

export interface RegressionPrediction {
  readonly task: 'regression';
  readonly value: number;
}

export interface ClassificationPrediction {
  readonly task: 'classification';
  /** The predicted class (highest probability; for binary models, probability of the second class >= threshold). */
  readonly label: ClassLabel;
  readonly classIndex: number;
  /** One probability per class, in the order of `outputSchema.classes`. */
  readonly probabilities: number[];
}

export type Prediction = RegressionPrediction | ClassificationPrediction;

export interface PredictMatrixOptions {
  /**
   * 'prediction' (default): regression values, or class probabilities (one column per class).
   * 'margin': the raw scores before the link function (one column per class for softmax models, one for the others).
   */
  readonly output?: 'prediction' | 'margin';
}

export interface LoadedModel {
  readonly format: ModelFormat;
  readonly task: Task;
  readonly inputSchema: InputSchema;
  readonly outputSchema: OutputSchema;
  /** Estimated memory held by the model (typed arrays, names, fixed overhead), for a byte-bounded cache. */
  readonly approxBytes: number;
  /** Format-specific facts (objective, number of trees, depth...), for logs and metadata endpoints. */
  readonly details: Readonly<Record<string, string | number | boolean>>;
  /** Validates and preprocesses the rows, then predicts. Throws InputValidationError naming the first bad feature. */
  predict(rows: readonly unknown[]): Prediction[];
  /**
   * Fast path on already-preprocessed rows: `x` is row-major, `rows` × `cols` with `cols` equal to
   * `inputSchema.modelFeatures.length`. NaN marks a missing value (XGBoost only). Returns a row-major matrix whose
   * width is `matrixWidth(output)`.
   */
  predictMatrix(x: Float64Array, rows: number, cols: number, options?: PredictMatrixOptions): Float64Array;
  /** Columns of the `predictMatrix` result. */
  matrixWidth(output?: 'prediction' | 'margin'): number;
}
