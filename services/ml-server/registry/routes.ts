/**
 * The model registry over HTTP: models, versions (artifact uploads validated by loading them) and
 * MLflow-style aliases. Admins and instructors manage models; any signed-in user can read the
 * registry. The flows are in service.ts.
 */
import { z } from 'zod';
import { problem } from '../../kit/http/problem.ts';
import { route, type RouteSpec } from '../../kit/http/routes.ts';
import { MANAGERS } from '../auth/access.ts';
import type { MlContext } from '../context.ts';
import { aliasSchema, createModelBody, modelSchema, pathName, versionNumber, versionSchema } from './model.ts';
import { registryService } from './service.ts';

export function registryRoutes(app: MlContext): RouteSpec[] {
  const registry = registryService(app);

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
        const model = await registry.createModel(body, principal);
        ctx.status = 201;
        ctx.set('Location', `/models/${model.name}`);
        ctx.body = model;
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
        ctx.body = { models: await registry.listModels() };
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
        ctx.body = await registry.describeModel(params.name);
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
        ctx.body = await registry.version(params.name, params.v);
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
        const version = await registry.uploadVersion(params.name, ctx.req, principal, ctx.state.log ?? app.logger);
        ctx.status = 201;
        ctx.set('Location', `/models/${version.model}/versions/${version.version}`);
        ctx.body = version;
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
        ctx.body = await registry.setAlias(params.name, params.alias, body.version, principal);
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
        await registry.deleteAlias(params.name, params.alias);
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
        await registry.deleteVersion(params.name, params.v, ctx.state.log ?? app.logger);
        ctx.status = 204;
      },
    }),
  ];
}
