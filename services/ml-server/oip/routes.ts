/**
 * Open Inference Protocol (KServe v2) REST endpoints. Health is public; model metadata, readiness and
 * inference need a signed-in user, like /predict. The flows are in service.ts.
 */
import { z } from 'zod';
import { route, type RouteSpec } from '../../kit/http/routes.ts';
import { actorId } from '../auth/access.ts';
import type { MlContext } from '../context.ts';
import { errorShape, inferBody, inferResponse, metadataSchema, nameParams, oipErrors, versionParams } from './model.ts';
import { oipService } from './service.ts';

export function oipRoutes(app: MlContext, isShuttingDown: () => boolean): RouteSpec[] {
  const oip = oipService(app, isShuttingDown);

  return [
    route({
      method: 'get',
      path: '/v2/health/live',
      summary: 'OIP server liveness',
      tags: ['open-inference-protocol'],
      access: 'public',
      responses: { 200: { description: 'Live', schema: z.object({ live: z.boolean() }) } },
      handler({ ctx }) {
        ctx.body = { live: true };
      },
    }),
    route({
      method: 'get',
      path: '/v2/health/ready',
      summary: 'OIP server readiness: PostgreSQL (the registry) and the object store (artifacts) answer',
      tags: ['open-inference-protocol'],
      access: 'public',
      responses: {
        200: { description: 'Ready', schema: z.object({ ready: z.boolean() }) },
        400: { description: 'Not ready', schema: errorShape },
      },
      async handler({ ctx }) {
        ctx.body = await oip.serverReady();
      },
    }),
    route({
      method: 'get',
      path: '/v2/models/{name}',
      summary: 'OIP model metadata (the production alias, else the latest version)',
      tags: ['open-inference-protocol'],
      access: 'authenticated',
      params: nameParams,
      responses: { 200: { description: 'Metadata', schema: metadataSchema }, ...oipErrors },
      async handler({ ctx, params }) {
        ctx.body = await oip.metadata(params.name);
      },
    }),
    route({
      method: 'get',
      path: '/v2/models/{name}/versions/{version}',
      summary: 'OIP model version metadata',
      tags: ['open-inference-protocol'],
      access: 'authenticated',
      params: versionParams,
      responses: { 200: { description: 'Metadata', schema: metadataSchema }, ...oipErrors },
      async handler({ ctx, params }) {
        ctx.body = await oip.metadata(params.name, params.version);
      },
    }),
    route({
      method: 'get',
      path: '/v2/models/{name}/ready',
      summary: 'OIP model readiness: 200 when its artifact loads, 400 otherwise',
      tags: ['open-inference-protocol'],
      access: 'authenticated',
      params: nameParams,
      responses: { 200: { description: 'Ready', schema: z.object({ name: z.string(), ready: z.boolean() }) }, ...oipErrors },
      async handler({ ctx, params }) {
        ctx.body = await oip.modelReady(params.name);
      },
    }),
    route({
      method: 'get',
      path: '/v2/models/{name}/versions/{version}/ready',
      summary: 'OIP model version readiness',
      tags: ['open-inference-protocol'],
      access: 'authenticated',
      params: versionParams,
      responses: { 200: { description: 'Ready', schema: z.object({ name: z.string(), ready: z.boolean() }) }, ...oipErrors },
      async handler({ ctx, params }) {
        ctx.body = await oip.modelReady(params.name, params.version);
      },
    }),
    route({
      method: 'post',
      path: '/v2/models/{name}/infer',
      summary: 'OIP inference (one tensor per feature, or one packed [n, F] FP64 tensor)',
      tags: ['open-inference-protocol'],
      access: 'authenticated',
      params: nameParams,
      body: inferBody,
      responses: { 200: { description: 'Outputs', schema: inferResponse }, ...oipErrors },
      async handler({ ctx, params, body, principal }) {
        ctx.body = await oip.infer(params.name, undefined, body, actorId(principal));
      },
    }),
    route({
      method: 'post',
      path: '/v2/models/{name}/versions/{version}/infer',
      summary: 'OIP inference on one version',
      tags: ['open-inference-protocol'],
      access: 'authenticated',
      params: versionParams,
      body: inferBody,
      responses: { 200: { description: 'Outputs', schema: inferResponse }, ...oipErrors },
      async handler({ ctx, params, body, principal }) {
        ctx.body = await oip.infer(params.name, params.version, body, actorId(principal));
      },
    }),
  ];
}
