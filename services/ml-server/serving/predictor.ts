/**
 * The prediction path: resolve the model version (metadata cache), look the inputs up in the Redis
 * prediction cache, otherwise get the loaded model (in-memory LRU, loading it from the object store
 * on first use) and predict; then count, sample-log and cache the result, all without awaiting
 * anything but the cache lookup.
 *
 * Prediction cache key: `ml:pred:<model>:<version>:<artifact sha256, 16 hex>:<sha256 of the
 * canonical JSON of the input rows>`. A version number always means one artifact (numbers are never
 * reused), the artifact digest makes that explicit, and moving an alias changes the version, hence
 * the key: a hot-swap never serves the old model's cached answers.
 */
import { createHash } from 'node:crypto';
import type { Cache } from '../../kit/deps/cache.ts';
import { DependencyUnavailableError } from '../../kit/deps/errors.ts';
import type { ObjectStore } from '../../kit/deps/object-store.ts';
import { problem, ProblemError } from '../../kit/http/problem.ts';
import type { Logger } from '../../kit/observability/logger.ts';
import { InputValidationError, loadModel, ModelArtifactError, type LoadedModel, type Prediction } from '../inference/index.ts';
import type { ServingModel, ServingVersion } from '../registry/repository.ts';
import { canonicalHash } from './canonical.ts';
import type { ModelDirectory } from './directory.ts';
import type { MlMetrics } from './metrics.ts';
import type { ModelCache } from './model-cache.ts';
import type { PredictionLog } from './prediction-log.ts';

export const DEFAULT_ALIAS = 'production';
export const MAX_ROWS = 1000;

export interface Selector {
  version?: number | undefined;
  alias?: string | undefined;
}

export interface PredictRequest extends Selector {
  model: string;
  rows: readonly unknown[];
  userId: string | null;
  /** Skip the Redis prediction cache (e.g. internal callers that need fresh scores). */
  noCache?: boolean;
}

export interface PredictResult {
  model: string;
  version: number;
  cached: boolean;
  /** The predictions as a JSON array (what is cached and sent). */
  json: string;
  /** The same predictions as values (parsed lazily for a cache hit). */
  outputs(): PredictionOutput[];
}

export type PredictionOutput = { value: number } | { label: string | number; class_index: number; probabilities: Record<string, number> };

/** Why a model version cannot serve: its artifact is gone, corrupt, or the store is unreachable. */
export class ModelUnavailableError extends Error {
  readonly reason: 'missing' | 'corrupt' | 'unavailable';
  constructor(reason: 'missing' | 'corrupt' | 'unavailable', message: string) {
    super(message);
    this.reason = reason;
  }
}

export interface PredictorOptions {
  directory: ModelDirectory;
  models: ModelCache<LoadedModel>;
  store: ObjectStore;
  cache: Cache;
  log: PredictionLog;
  metrics: MlMetrics;
  logger: Logger;
  cacheTtlSeconds: number;
  maxArtifactBytes: number;
}

export function toOutputs(model: LoadedModel, predictions: Prediction[]): PredictionOutput[] {
  const classes = model.outputSchema.task === 'classification' ? model.outputSchema.classes.map(String) : [];
  return predictions.map((p) => {
    if (p.task === 'regression') return { value: p.value };
    const probabilities: Record<string, number> = {};
    p.probabilities.forEach((value, k) => (probabilities[classes[k]!] = value));
    return { label: p.label, class_index: p.classIndex, probabilities };
  });
}

export function modelCacheKey(model: ServingModel, version: ServingVersion): string {
  return `${model.id}:${version.version}:${version.sha256}`;
}

export class Predictor {
  readonly #o: PredictorOptions;

  constructor(options: PredictorOptions) {
    this.#o = options;
  }

  /** The model and version a request names: an explicit version, an alias, else `production`, else the latest. */
  async resolve(name: string, selector: Selector = {}): Promise<{ model: ServingModel; version: ServingVersion }> {
    const model = await this.#o.directory.get(name);
    if (!model) throw problem.notFound(`No model named '${name}'`);
    let number: number | null | undefined;
    if (selector.version !== undefined) {
      number = selector.version;
    } else if (selector.alias !== undefined) {
      number = model.aliases[selector.alias];
      if (number === undefined) throw problem.notFound(`Model '${name}' has no alias '${selector.alias}'`);
    } else {
      number = model.aliases[DEFAULT_ALIAS] ?? model.latest;
      if (number === null || number === undefined) throw problem.notFound(`Model '${name}' has no versions yet`);
    }
    const version = model.versions.get(number);
    if (!version) throw problem.notFound(`Model '${name}' has no version ${number}`);
    return { model, version };
  }

  /** The loaded model for a version (from memory, or loaded once from the object store). */
  async load(model: ServingModel, version: ServingVersion): Promise<LoadedModel> {
    const key = modelCacheKey(model, version);
    const hit = this.#o.models.peek(key);
    if (hit) return hit;
    try {
      return await this.#o.models.get(key, () => this.#fetchAndLoad(version));
    } catch (err) {
      if (err instanceof ModelUnavailableError) {
        throw problem.unavailable(`Model '${model.name}' version ${version.version} is unavailable: ${err.message}`);
      }
      throw err;
    }
  }

  async #fetchAndLoad(version: ServingVersion): Promise<{ value: LoadedModel; bytes: number }> {
    const started = performance.now();
    const { metrics } = this.#o;
    let result: 'ok' | ModelUnavailableError['reason'] = 'ok';
    try {
      let stream;
      try {
        stream = await this.#o.store.get(version.artifactKey);
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === 'NoSuchKey' || code === 'NotFound')
          throw new ModelUnavailableError('missing', 'its artifact is missing from the object store');
        if (err instanceof DependencyUnavailableError) throw new ModelUnavailableError('unavailable', 'the object store is unreachable');
        throw new ModelUnavailableError('unavailable', `the artifact could not be read (${(err as Error).message})`);
      }
      const chunks: Buffer[] = [];
      const hash = createHash('sha256');
      let size = 0;
      try {
        for await (const chunk of stream) {
          size += (chunk as Buffer).length;
          if (size > this.#o.maxArtifactBytes) {
            stream.destroy();
            throw new ModelUnavailableError('corrupt', `the artifact is larger than ${this.#o.maxArtifactBytes} bytes`);
          }
          hash.update(chunk as Buffer);
          chunks.push(chunk as Buffer);
        }
      } catch (err) {
        if (err instanceof ModelUnavailableError) throw err;
        throw new ModelUnavailableError('unavailable', `reading the artifact failed (${(err as Error).message})`);
      }
      const digest = hash.digest('hex');
      if (digest !== version.sha256) {
        throw new ModelUnavailableError('corrupt', `the artifact's SHA-256 (${digest.slice(0, 12)}…) does not match the registered one`);
      }
      try {
        const model = loadModel(Buffer.concat(chunks, size));
        return { value: model, bytes: model.approxBytes };
      } catch (err) {
        if (err instanceof ModelArtifactError) throw new ModelUnavailableError('corrupt', `the artifact is invalid: ${err.message}`);
        throw err;
      }
    } catch (err) {
      result = err instanceof ModelUnavailableError ? err.reason : 'unavailable';
      this.#o.logger.error({ err, artifact: version.artifactKey }, 'model load failed');
      throw err;
    } finally {
      metrics.loads.inc({ result });
      metrics.loadDuration.observe((performance.now() - started) / 1000);
    }
  }

  async predict(req: PredictRequest): Promise<PredictResult> {
    const started = performance.now();
    const { metrics, log } = this.#o;
    let resolved: { model: ServingModel; version: ServingVersion };
    try {
      resolved = await this.resolve(req.model, req);
    } catch (err) {
      // The name is the caller's: never a label value (unbounded cardinality).
      if (err instanceof ProblemError && err.status === 404) metrics.errors.inc({ model: '<unresolved>', reason: 'not_found' });
      throw err;
    }
    const { model, version } = resolved;
    const versionLabel = String(version.version);
    const useCache = !req.noCache && this.#o.cacheTtlSeconds > 0;
    const cacheKey = useCache ? `ml:pred:${model.name}:${version.version}:${version.sha256.slice(0, 16)}:${canonicalHash(req.rows)}` : '';

    const finish = (cached: boolean, json: string, outputs: PredictionOutput[] | null): PredictResult => {
      const latencyMs = performance.now() - started;
      const cachedLabel = cached ? 'true' : 'false';
      metrics.predictions.inc([model.name, versionLabel, cachedLabel]);
      metrics.predictionRows.inc([model.name, versionLabel], req.rows.length);
      metrics.duration.observe([model.name, cachedLabel], latencyMs / 1000);
      let parsed = outputs;
      const values = () => (parsed ??= JSON.parse(json) as PredictionOutput[]);
      log.record({
        modelId: model.id,
        modelName: model.name,
        version: version.version,
        rows: req.rows.length,
        cached,
        latencyMs,
        inputs: req.rows,
        outputs: values,
        error: null,
        userId: req.userId,
      });
      return { model: model.name, version: version.version, cached, json, outputs: values };
    };
    const fail = (reason: string, err: ProblemError): never => {
      metrics.errors.inc({ model: model.name, reason });
      log.record({
        modelId: model.id,
        modelName: model.name,
        version: version.version,
        rows: req.rows.length,
        cached: false,
        latencyMs: performance.now() - started,
        inputs: req.rows,
        outputs: null,
        error: err.detail ?? err.message,
        userId: req.userId,
      });
      throw err;
    };

    if (useCache) {
      try {
        const hit = await this.#o.cache.get(cacheKey);
        if (hit !== null) return finish(true, hit, null);
      } catch (err) {
        if (!(err instanceof DependencyUnavailableError)) throw err;
        // Redis is down: serve uncached.
      }
    }

    let loaded: LoadedModel;
    try {
      loaded = await this.load(model, version);
    } catch (err) {
      if (err instanceof ProblemError) return fail('model_unavailable', err);
      throw err;
    }
    let outputs: PredictionOutput[];
    try {
      outputs = toOutputs(loaded, loaded.predict(req.rows));
    } catch (err) {
      if (err instanceof InputValidationError) return fail('invalid_input', inputProblem(err));
      throw err;
    }
    const json = JSON.stringify(outputs);
    if (useCache) {
      this.#o.cache.set(cacheKey, json, this.#o.cacheTtlSeconds).catch(() => undefined); // best effort, never awaited
    }
    return finish(false, json, outputs);
  }
}

/** A 422 naming the feature (and row) the inference engine refused. */
export function inputProblem(err: InputValidationError): ProblemError {
  const location = err.feature ? `body.inputs[${Math.max(err.row, 0)}].${err.feature}` : `body.inputs[${Math.max(err.row, 0)}]`;
  return new ProblemError({
    status: 422,
    detail: `The input does not match the model's input schema: ${err.message}`,
    errors: [{ location, message: err.message }],
    extensions: { feature: err.feature, row: err.row, reason: err.reason },
  });
}
