// Inference core of the ML Server: loads model artifacts (pure, no I/O) and predicts on CPU.
// See README.md in this folder for the artifact formats.

import { ModelArtifactError } from './errors.ts';
import type { JsonRecord } from './json.ts';
import { describe, fail, isRecord, rejectUnknownKeys } from './json.ts';
import { parseLinear, parseLogistic } from './linear.ts';
import { Model } from './model.ts';
import { buildVectorizer } from './preprocessing.ts';
import type { LoadedModel } from './types.ts';
import { isXGBoostDocument, parseXGBoost } from './xgboost.ts';

export { InputValidationError, ModelArtifactError } from './errors.ts';
export type { InputErrorReason } from './errors.ts';
export type {
  ClassLabel,
  ClassificationPrediction,
  InputFeature,
  InputSchema,
  LoadedModel,
  ModelFormat,
  OutputSchema,
  OutputTensor,
  Prediction,
  PredictMatrixOptions,
  RegressionPrediction,
  Task,
} from './types.ts';
export { SUPPORTED_OBJECTIVES } from './xgboost.ts';
export { accuracy, auc, fitLogisticRegression, logLoss, seededRandom, trainTestSplit } from './logistic-fit.ts';
export type { LogisticArtifact, LogisticFitOptions, LogisticFitResult, TrainTestSplit, TrainTestSplitOptions } from './logistic-fit.ts';

export const SUPPORTED_FORMATS = ['linear', 'logistic', 'xgboost'] as const;

/** The first bytes of a UBJSON document (XGBoost's binary .ubj format): '{' followed by a type or length marker. */
function looksLikeUbjson(bytes: Uint8Array): boolean {
  return bytes.length > 1 && bytes[0] === 0x7b && 'iUILlSdD$#'.includes(String.fromCharCode(bytes[1]!));
}

function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const trimmed = text.trimEnd();
    const hint = trimmed.length === 0 ? ' (the artifact is empty)' : !/[}\]]$/.test(trimmed) ? ' (the artifact looks truncated)' : '';
    throw new ModelArtifactError(`artifact is not valid JSON: ${(err as Error).message}${hint}`);
  }
}

/**
 * Validates a model artifact and returns a ready-to-use model. Accepts the artifact's bytes, its JSON text, or the
 * parsed object. Throws ModelArtifactError naming what is wrong and where.
 */
export function loadModel(artifact: Uint8Array | string | object): LoadedModel {
  let doc: unknown;
  if (artifact instanceof Uint8Array) {
    if (looksLikeUbjson(artifact)) {
      throw new ModelArtifactError('artifact looks like UBJSON (XGBoost binary format); save the model as JSON (model.json)');
    }
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(artifact);
    } catch {
      throw new ModelArtifactError('artifact is not valid UTF-8 text');
    }
    doc = parseJsonText(text);
  } else if (typeof artifact === 'string') {
    doc = parseJsonText(artifact);
  } else {
    doc = artifact;
  }
  if (!isRecord(doc)) throw new ModelArtifactError(`artifact must be a JSON object, got ${describe(doc)}`);
  return fromDocument(doc);
}

function fromDocument(doc: JsonRecord): LoadedModel {
  if (doc['format'] === undefined) {
    if (isXGBoostDocument(doc)) return xgboostModel(doc, { path: '' }, undefined);
    fail('format', `is missing and the artifact is not an XGBoost JSON model (no "learner"); formats: ${SUPPORTED_FORMATS.join(', ')}`);
  }
  const format = doc['format'];
  switch (format) {
    case 'linear': {
      const { core, featureNames } = parseLinear(doc);
      return new Model(core, buildVectorizer(doc['preprocessing'], featureNames, false, 'preprocessing'));
    }
    case 'logistic': {
      const { core, featureNames } = parseLogistic(doc);
      return new Model(core, buildVectorizer(doc['preprocessing'], featureNames, false, 'preprocessing'));
    }
    case 'xgboost': {
      rejectUnknownKeys(doc, ['format', 'model', 'feature_names', 'classes', 'threshold', 'preprocessing', 'metadata'], '');
      if (!isRecord(doc['model'])) fail('model', `must be the XGBoost JSON model (an object), got ${describe(doc['model'])}`);
      return xgboostModel(
        doc['model'],
        { path: 'model', featureNames: doc['feature_names'], classes: doc['classes'], threshold: doc['threshold'] },
        doc['preprocessing'],
      );
    }
    default:
      fail('format', `is ${describe(format)}, which is not supported (formats: ${SUPPORTED_FORMATS.join(', ')})`);
  }
}

function xgboostModel(model: JsonRecord, overrides: Parameters<typeof parseXGBoost>[1], preprocessing: unknown): LoadedModel {
  const { core, featureNames } = parseXGBoost(model, overrides);
  return new Model(core, buildVectorizer(preprocessing, featureNames, true, 'preprocessing'));
}
