/**
 * The model registry's flows: models, versions (an uploaded artifact is stored, then loaded and
 * checked against its model before the version row exists; on any failure the stored object is
 * removed, so no row points at a missing file and no file is orphaned) and aliases. Every change
 * tells the other replicas (`registryChanged`), so serving switches without a restart.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { removeQuietly } from '../../kit/http/multipart.ts';
import { problem } from '../../kit/http/problem.ts';
import type { Principal } from '../../kit/http/routes.ts';
import type { Logger } from '../../kit/observability/logger.ts';
import { actorId } from '../auth/access.ts';
import type { MlContext } from '../context.ts';
import { loadModel, ModelArtifactError, type LoadedModel } from '../inference/index.ts';
import {
  compatibilityProblems,
  metricsField,
  parseJsonField,
  toModel,
  toVersion,
  trainingStatsField,
  type CreateModelBody,
} from './model.ts';
import { AliasedVersionError, DuplicateModelError, VersionNotFoundError, type ModelRow } from './repository.ts';
import { receiveArtifact } from './upload.ts';

/** The artifact as a loaded model, or a 422 naming where it is broken. */
function loadArtifact(bytes: Buffer): LoadedModel {
  try {
    return loadModel(bytes);
  } catch (err) {
    if (err instanceof ModelArtifactError) {
      throw problem.unprocessable(`The model artifact is invalid: ${err.message}`, [
        { location: err.path ? `body.file.${err.path}` : 'body.file', message: err.message },
      ]);
    }
    throw err;
  }
}

export function registryService(app: MlContext) {
  const requireModel = async (name: string): Promise<ModelRow> => {
    const model = await app.registry.getModel(name);
    if (!model) throw problem.notFound(`No model named '${name}'`);
    return model;
  };

  return {
    async createModel(body: CreateModelBody, principal: Principal | undefined) {
      try {
        const row = await app.registry.createModel({
          name: body.name,
          description: body.description,
          task: body.task,
          format: body.format,
          inputSchema: body.input_schema,
          outputSchema: body.output_schema,
          createdBy: actorId(principal),
        });
        app.registryChanged(row.name);
        return toModel(row, {}, null);
      } catch (err) {
        if (err instanceof DuplicateModelError) throw problem.conflict(err.message);
        throw err;
      }
    },

    async listModels() {
      const rows = await app.registry.listModels();
      return rows.map((r) => {
        const latest = r.latest_version as (Record<string, unknown> & { version: number; size_bytes: number }) | null;
        return toModel(r, r.aliases, latest ? { ...latest, size_bytes: Number(latest.size_bytes) } : null);
      });
    },

    /** One model with all its versions and aliases. */
    async describeModel(name: string) {
      const model = await requireModel(name);
      const [versions, aliases] = await Promise.all([app.registry.listVersions(model.id), app.registry.aliasesOf(model.id)]);
      const all = versions.map((v) => toVersion(model.name, v, aliases));
      return { ...toModel(model, aliases, all.at(-1) ?? null), versions: all };
    },

    async version(name: string, v: number) {
      const model = await requireModel(name);
      const version = await app.registry.getVersion(model.id, v);
      if (!version) throw problem.notFound(`Model '${model.name}' has no version ${v}`);
      return toVersion(model.name, version, await app.registry.aliasesOf(model.id));
    },

    /** Receives a multipart upload (file, description?, metrics?, training_stats?) as a new version of `name`. */
    async uploadVersion(name: string, req: IncomingMessage, principal: Principal | undefined, log: Logger) {
      const model = await requireModel(name);
      const key = `ml/models/${model.id}/${randomUUID()}.json`;
      const received = await receiveArtifact({
        req,
        maxBytes: app.config.MODEL_ARTIFACT_MAX_BYTES,
        store: app.deps.store,
        logger: log,
        key,
        fieldNames: ['description', 'metrics', 'training_stats'],
      });
      try {
        const metrics = parseJsonField(metricsField, received.fields.metrics, 'metrics') ?? {};
        const trainingStats = parseJsonField(trainingStatsField, received.fields.training_stats, 'training_stats') ?? null;
        const description = received.fields.description ?? '';
        if (description.length > 2000)
          throw problem.unprocessable('The upload form is invalid', [
            { location: 'body.description', message: 'longer than 2000 characters' },
          ]);
        const loaded = loadArtifact(received.bytes);
        const incompatible = compatibilityProblems(model, loaded);
        if (incompatible.length) {
          throw problem.unprocessable(
            `The artifact does not fit model '${model.name}': ${incompatible.map((p) => p.message).join('; ')}`,
            incompatible,
          );
        }
        const row = await app.registry.insertVersion({
          modelId: model.id,
          artifactKey: key,
          sha256: received.sha256,
          sizeBytes: received.size,
          format: loaded.format,
          task: loaded.task,
          inputSchema: loaded.inputSchema,
          outputSchema: loaded.outputSchema,
          approxBytes: loaded.approxBytes,
          details: { ...loaded.details },
          metrics,
          trainingStats,
          description,
          source: 'upload',
          trainingJobId: null,
          createdBy: actorId(principal),
        });
        app.registryChanged(model.name);
        return toVersion(model.name, row, await app.registry.aliasesOf(model.id));
      } catch (err) {
        await removeQuietly(app.deps.store, key, log);
        if (err instanceof VersionNotFoundError) throw problem.notFound(`No model named '${name}'`);
        throw err;
      }
    },

    async setAlias(name: string, alias: string, version: number, principal: Principal | undefined) {
      const model = await requireModel(name);
      try {
        await app.registry.setAlias(model.id, alias, version, actorId(principal));
      } catch (err) {
        if (err instanceof VersionNotFoundError) throw problem.notFound(`Model '${model.name}' has no version ${version}`);
        throw err;
      }
      app.registryChanged(model.name);
      return { model: model.name, alias, version };
    },

    async deleteAlias(name: string, alias: string) {
      const model = await requireModel(name);
      if (!(await app.registry.deleteAlias(model.id, alias))) throw problem.notFound(`Model '${model.name}' has no alias '${alias}'`);
      app.registryChanged(model.name);
    },

    /** Deletes a version and then its artifact; refused (409) while an alias points at it. */
    async deleteVersion(name: string, v: number, log: Logger) {
      const model = await requireModel(name);
      let key: string;
      try {
        key = await app.registry.deleteVersion(model.id, v);
      } catch (err) {
        if (err instanceof VersionNotFoundError) throw problem.notFound(`Model '${model.name}' has no version ${v}`);
        if (err instanceof AliasedVersionError) {
          throw problem.conflict(`Version ${v} of '${model.name}' is still aliased (${err.aliases.join(', ')}); move the alias first`, {
            aliases: err.aliases,
          });
        }
        throw err;
      }
      app.models.evictPrefix(`${model.id}:${v}:`);
      app.registryChanged(model.name);
      await removeQuietly(app.deps.store, key, log);
    },
  };
}
