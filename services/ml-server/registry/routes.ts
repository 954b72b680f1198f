/**
 * The model registry: models, versions (artifact uploads validated by loading them) and MLflow-style
 * aliases. Admins and instructors manage models; any signed-in user can read the registry.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { problem } from '../../kit/http/problem.ts';
import { route, type Principal, type RouteSpec } from '../../kit/http/routes.ts';
import { loadModel, ModelArtifactError, type LoadedModel } from '../inference/index.ts';
import type { MlContext } from '../context.ts';
import {
  aliasSchema,
  compatibilityProblems,
  createModelBody,
  metricsField,
  modelSchema,
  pathName,
  toModel,
  toVersion,
  trainingStatsField,
  versionNumber,
  versionSchema,
} from './model.ts';
import { AliasedVersionError, DuplicateModelError, VersionNotFoundError, type ModelRow } from './repository.ts';
import { removeQuietly } from '../../kit/http/multipart.ts';
import { receiveArtifact } from './upload.ts';

export const MANAGERS = ['admin', 'instructor'] as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const actorId = (principal: Principal | undefined) => (principal && UUID.test(principal.userId) ? principal.userId : null);

function parseJsonField<T>(schema: z.ZodType<T>, raw: string | undefined, name: string): T | undefined {
  if (raw === undefined || raw === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    throw problem.unprocessable('The upload form is invalid', [
      { location: `body.${name}`, message: `not valid JSON: ${(err as Error).message}` },
    ]);
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    throw problem.unprocessable(
      'The upload form is invalid',
      result.error.issues.map((i) => ({ location: ['body', name, ...i.path.map(String)].join('.'), message: i.message })),
    );
  }
  return result.data;
}

export function registryRoutes(app: MlContext): RouteSpec[] {
  const requireModel = async (name: string): Promise<ModelRow> => {
    const model = await app.registry.getModel(name);
    if (!model) throw problem.notFound(`No model named '${name}'`);
    return model;
  };

  return [
    route({
      method: 'post',
      path: '/models',
      summary: 'Register a model (a named slot for versions)',
      tags: ['registry'],
      access: MANAGERS,
      body: createModelBody,
      responses: { 201: { description: 'Created', schema: modelSchema } },
      async handler({ ctx, body, principal }) {
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
          ctx.status = 201;
          ctx.set('Location', `/models/${row.name}`);
          ctx.body = toModel(row, {}, null);
        } catch (err) {
          if (err instanceof DuplicateModelError) throw problem.conflict(err.message);
          throw err;
        }
      },
    }),
    route({
      method: 'get',
      path: '/models',
      summary: 'List the models with their latest version and aliases',
      tags: ['registry'],
      access: 'authenticated',
      responses: { 200: { description: 'Models', schema: z.object({ models: z.array(modelSchema) }) } },
      async handler({ ctx }) {
        const rows = await app.registry.listModels();
        ctx.body = {
          models: rows.map((r) => {
            const latest = r.latest_version as (Record<string, unknown> & { version: number; size_bytes: number }) | null;
            return toModel(r, r.aliases, latest ? { ...latest, size_bytes: Number(latest.size_bytes) } : null);
          }),
        };
      },
    }),
    route({
      method: 'get',
      path: '/models/{name}',
      summary: 'One model with its versions and aliases',
      tags: ['registry'],
      access: 'authenticated',
      params: z.object({ name: pathName }),
      async handler({ ctx, params }) {
        const model = await requireModel(params.name);
        const [versions, aliases] = await Promise.all([app.registry.listVersions(model.id), app.registry.aliasesOf(model.id)]);
        const all = versions.map((v) => toVersion(model.name, v, aliases));
        ctx.body = { ...toModel(model, aliases, all.at(-1) ?? null), versions: all };
      },
    }),
    route({
      method: 'get',
      path: '/models/{name}/versions/{v}',
      summary: 'One version with its metrics',
      tags: ['registry'],
      access: 'authenticated',
      params: z.object({ name: pathName, v: versionNumber }),
      responses: { 200: { description: 'The version', schema: versionSchema } },
      async handler({ ctx, params }) {
        const model = await requireModel(params.name);
        const version = await app.registry.getVersion(model.id, params.v);
        if (!version) throw problem.notFound(`Model '${model.name}' has no version ${params.v}`);
        ctx.body = toVersion(model.name, version, await app.registry.aliasesOf(model.id));
      },
    }),
    route({
      method: 'post',
      path: '/models/{name}/versions',
      summary: 'Upload a model artifact as a new version (multipart: file, description?, metrics?, training_stats?, in any order)',
      tags: ['registry'],
      access: MANAGERS,
      params: z.object({ name: pathName }),
      body: {
        stream: 'multipart/form-data',
        description:
          'One file part `file` holding the artifact and optional text fields `description`, `metrics` (a JSON object), `training_stats` (JSON: {features: {name: {mean, std}}}), in any order: the fields are checked once the form has ended. The artifact is loaded before the version is accepted; a corrupt artifact or a bad field is a 422 and nothing is kept.',
      },
      responses: { 201: { description: 'Created', schema: versionSchema } },
      async handler({ ctx, params, principal }) {
        if (!ctx.is('multipart/form-data')) throw problem.unsupportedMediaType('Expected multipart/form-data with a "file" part');
        const model = await requireModel(params.name);
        const key = `ml/models/${model.id}/${randomUUID()}.json`;
        const received = await receiveArtifact({
          req: ctx.req,
          maxBytes: app.config.MODEL_ARTIFACT_MAX_BYTES,
          store: app.deps.store,
          logger: ctx.state.log ?? app.logger,
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
          let loaded: LoadedModel;
          try {
            loaded = loadModel(received.bytes);
          } catch (err) {
            if (err instanceof ModelArtifactError) {
              throw problem.unprocessable(`The model artifact is invalid: ${err.message}`, [
                { location: err.path ? `body.file.${err.path}` : 'body.file', message: err.message },
              ]);
            }
            throw err;
          }
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
          ctx.status = 201;
          ctx.set('Location', `/models/${model.name}/versions/${row.version}`);
          ctx.body = toVersion(model.name, row, await app.registry.aliasesOf(model.id));
        } catch (err) {
          await removeQuietly(app.deps.store, key, ctx.state.log ?? app.logger);
          if (err instanceof VersionNotFoundError) throw problem.notFound(`No model named '${params.name}'`);
          throw err;
        }
      },
    }),
    route({
      method: 'put',
      path: '/models/{name}/aliases/{alias}',
      summary: 'Point an alias at a version (serving switches to it without a restart)',
      tags: ['registry'],
      access: MANAGERS,
      params: z.object({ name: pathName, alias: aliasSchema }),
      body: z.strictObject({ version: z.number().int().min(1) }),
      responses: { 200: { description: 'The alias', schema: z.object({ model: z.string(), alias: z.string(), version: z.number() }) } },
      async handler({ ctx, params, body, principal }) {
        const model = await requireModel(params.name);
        try {
          await app.registry.setAlias(model.id, params.alias, body.version, actorId(principal));
        } catch (err) {
          if (err instanceof VersionNotFoundError) throw problem.notFound(`Model '${model.name}' has no version ${body.version}`);
          throw err;
        }
        app.registryChanged(model.name);
        ctx.body = { model: model.name, alias: params.alias, version: body.version };
      },
    }),
    route({
      method: 'delete',
      path: '/models/{name}/aliases/{alias}',
      summary: 'Remove an alias',
      tags: ['registry'],
      access: MANAGERS,
      params: z.object({ name: pathName, alias: z.string().min(1).max(63) }),
      responses: { 204: { description: 'Removed' } },
      async handler({ ctx, params }) {
        const model = await requireModel(params.name);
        if (!(await app.registry.deleteAlias(model.id, params.alias)))
          throw problem.notFound(`Model '${model.name}' has no alias '${params.alias}'`);
        app.registryChanged(model.name);
        ctx.status = 204;
      },
    }),
    route({
      method: 'delete',
      path: '/models/{name}/versions/{v}',
      summary: 'Delete a version and its artifact (409 while an alias points at it)',
      tags: ['registry'],
      access: MANAGERS,
      params: z.object({ name: pathName, v: versionNumber }),
      responses: { 204: { description: 'Deleted' }, 409: { description: 'An alias points at the version' } },
      async handler({ ctx, params }) {
        const model = await requireModel(params.name);
        let key: string;
        try {
          key = await app.registry.deleteVersion(model.id, params.v);
        } catch (err) {
          if (err instanceof VersionNotFoundError) throw problem.notFound(`Model '${model.name}' has no version ${params.v}`);
          if (err instanceof AliasedVersionError) {
            throw problem.conflict(
              `Version ${params.v} of '${model.name}' is still aliased (${err.aliases.join(', ')}); move the alias first`,
              {
                aliases: err.aliases,
              },
            );
          }
          throw err;
        }
        app.models.evictPrefix(`${model.id}:${params.v}:`);
        app.registryChanged(model.name);
        await removeQuietly(app.deps.store, key, ctx.state.log ?? app.logger);
        ctx.status = 204;
      },
    }),
  ];
}
