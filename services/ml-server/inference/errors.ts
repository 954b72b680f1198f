// Error types of the inference core. Both name what is wrong precisely enough to fix it without a debugger.

/** The model artifact is unusable: not JSON, a missing or malformed field, arrays that disagree, an unsupported option. */
export class ModelArtifactError extends Error {
  override readonly name = 'ModelArtifactError';
  /** Where in the artifact the problem is, e.g. `learner.gradient_booster.model.trees[3].left_children`; '' for the whole artifact. */
  readonly path: string;

  constructor(message: string, path = '') {
    super(message);
    this.path = path;
  }
}

export type InputErrorReason = 'not_an_array' | 'not_an_object' | 'missing' | 'not_finite' | 'wrong_type' | 'unknown_category';

/** An input row cannot be turned into the model's feature vector. `feature` names the offending input feature. */
export class InputValidationError extends Error {
  override readonly name = 'InputValidationError';
  /** The input feature at fault ('' when the row itself is malformed). */
  readonly feature: string;
  /** Index of the row in the batch (-1 when the batch itself is malformed). */
  readonly row: number;
  readonly reason: InputErrorReason;

  constructor(message: string, feature: string, row: number, reason: InputErrorReason) {
    super(message);
    this.feature = feature;
    this.row = row;
    this.reason = reason;
  }
}
