/**
 * Open Inference Protocol flows. A model without a version is its `production` alias, else its
 * latest version. Inference goes through the same Predictor as /predict (metadata cache,
 * loaded-model LRU, prediction cache, sampled logging).
 */
import type { InputSchema, OutputSchema } from '../inference/index.ts';
import type { MlContext } from '../context.ts';
import { MAX_ROWS } from '../serving/predictor.ts';
import type { InferBody } from './model.ts';
import { inputsToRows, metadataTensors, OipRequestError, outputsToTensors } from './tensors.ts';

export const PLATFORM = (format: string) => `hunt-master_${format}`;

export function oipService(app: MlContext, isShuttingDown: () => boolean) {
  return {
    /** The server is ready when PostgreSQL (the registry) and the object store (artifacts) answer. */
    async serverReady() {
      if (isShuttingDown()) throw new OipRequestError('the server is shutting down');
      const checks = await Promise.allSettled([app.deps.db.ping(1000), app.deps.store.ping(1000)]);
      const failed = checks.flatMap((c, i) => (c.status === 'rejected' ? [['postgres', 'object-store'][i]] : []));
      if (failed.length) throw new OipRequestError(`not ready: ${failed.join(', ')} unavailable`);
      return { ready: true };
    },

    async metadata(name: string, version?: number) {
      const { model, version: v } = await app.predictor.resolve(name, { version });
      const tensors = metadataTensors(v.inputSchema as InputSchema, v.outputSchema as OutputSchema);
      return {
        name: model.name,
        versions: version === undefined ? [...model.versions.keys()].map(String) : [String(v.version)],
        platform: PLATFORM(v.format),
        ...tensors,
      };
    },

    /** Ready when the version's artifact loads; a 400 naming why otherwise. */
    async modelReady(name: string, version?: number) {
      const { model, version: v } = await app.predictor.resolve(name, { version });
      try {
        await app.predictor.load(model, v);
      } catch (err) {
        throw new OipRequestError(
          `model '${model.name}' version ${v.version} is not ready: ${(err as { detail?: string }).detail ?? (err as Error).message}`,
          400,
        );
      }
      return { name: model.name, ready: true };
    },

    async infer(name: string, version: number | undefined, body: InferBody, userId: string | null) {
      const { version: v } = await app.predictor.resolve(name, { version });
      const rows = inputsToRows(body.inputs, v.inputSchema as InputSchema, MAX_ROWS);
      const result = await app.predictor.predict({ model: name, version: v.version, rows, userId });
      const outputs = outputsToTensors(result.outputs(), v.outputSchema as OutputSchema, body.outputs);
      return {
        model_name: result.model,
        model_version: String(result.version),
        ...(body.id !== undefined ? { id: body.id } : {}),
        outputs,
      };
    },
  };
}
