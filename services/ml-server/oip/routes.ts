/**
 * Open Inference Protocol (KServe v2) REST endpoints. Health is public; model metadata, readiness and
 * inference need a signed-in user, like /predict. A model without a version in the path is its
 * `production` alias, else its latest version. Inference goes through the same Predictor as
 * /predict (metadata cache, loaded-model LRU, prediction cache, sampled logging).
 */
import { z } from 'zod';
import { route, type RouteSpec } from '../../kit/http/routes.ts';
import type { InputSchema, OutputSchema } from '../inference/index.ts';
import type { MlContext } from '../context.ts';
import { actorId } from '../auth/access.ts';
import { MAX_ROWS } from '../serving/predictor.ts';
import { inputsToRows, metadataTensors, OipRequestError, outputsToTensors } from './tensors.ts';

const nameParams = z.object({ name: z.string().min(1).max(200) });
const versionParams = z.object({ name: z.string().min(1).max(200), version: z.coerce.number().int().min(1).max(2_147_483_647) });

const tensorSchema = z.object({
  name: z.string().min(1).max(200),
  shape: z.array(z.number().int().min(0)).min(1).max(2),
  datatype: z.string().min(1).max(16),
  parameters: z.record(z.string(), z.unknown()).optional(),
  data: z.array(z.unknown()),
});

const inferBody = z.object({
  id: z.string().max(200).optional(),
  parameters: z.record(z.string(), z.unknown()).optional(),
  inputs: z.array(tensorSchema).min(1).max(10_000),
  outputs: z.array(z.object({ name: z.string().min(1), parameters: z.record(z.string(), z.unknown()).optional() })).optional(),
});

const errorShape = z.object({ error: z.string() });

export const PLATFORM = (format: string) => `hunt-master_${format}`;

export function oipRoutes(app: MlContext, isShuttingDown: () => boolean): RouteSpec[] {
  const metadata = async (name: string, version?: number) => {
    const { model, version: v } = await app.predictor.resolve(name, { version });
    const tensors = metadataTensors(v.inputSchema as InputSchema, v.outputSchema as OutputSchema);
    return {
      name: model.name,
      versions: version === undefined ? [...model.versions.keys()].map(String) : [String(v.version)],
      platform: PLATFORM(v.format),
      ...tensors,
    };
  };

  const ready = async (ctx: { status: number; body: unknown }, name: string, version?: number) => {
    const { model, version: v } = await app.predictor.resolve(name, { version });
    try {
      await app.predictor.load(model, v);
    } catch (err) {
      throw new OipRequestError(
        `model '${model.name}' version ${v.version} is not ready: ${(err as { detail?: string }).detail ?? (err as Error).message}`,
        400,
      );
    }
    ctx.body = { name: model.name, ready: true };
  };

  const infer = async (
    ctx: { type: string; body: unknown },
    name: string,
    version: number | undefined,
    body: z.infer<typeof inferBody>,
    userId: string | null,
  ) => {
    const { version: v } = await app.predictor.resolve(name, { version });
    const rows = inputsToRows(body.inputs, v.inputSchema as InputSchema, MAX_ROWS);
    const result = await app.predictor.predict({ model: name, version: v.version, rows, userId });
    const outputs = outputsToTensors(result.outputs(), v.outputSchema as OutputSchema, body.outputs);
    ctx.body = {
      model_name: result.model,
      model_version: String(result.version),
      ...(body.id !== undefined ? { id: body.id } : {}),
      outputs,
    };
  };

  const errors = {
    400: { description: 'Bad request', schema: errorShape },
    404: { description: 'Unknown model or version', schema: errorShape },
  };
  const metadataSchema = z.object({
    name: z.string(),
    versions: z.array(z.string()),
    platform: z.string(),
    inputs: z.array(z.object({ name: z.string(), datatype: z.string(), shape: z.array(z.number()) })),
    outputs: z.array(z.object({ name: z.string(), datatype: z.string(), shape: z.array(z.number()) })),
  });
  const inferResponse = z.object({
    model_name: z.string(),
    model_version: z.string(),
    id: z.string().optional(),
    outputs: z.array(z.object({ name: z.string(), shape: z.array(z.number()), datatype: z.string(), data: z.array(z.unknown()) })),
  });

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
        if (isShuttingDown()) throw new OipRequestError('the server is shutting down');
        const checks = await Promise.allSettled([app.deps.db.ping(1000), app.deps.store.ping(1000)]);
        const failed = checks.flatMap((c, i) => (c.status === 'rejected' ? [['postgres', 'object-store'][i]] : []));
        if (failed.length) throw new OipRequestError(`not ready: ${failed.join(', ')} unavailable`);
        ctx.body = { ready: true };
      },
    }),
    route({
      method: 'get',
      path: '/v2/models/{name}',
      summary: 'OIP model metadata (the production alias, else the latest version)',
      tags: ['open-inference-protocol'],
      access: 'authenticated',
      params: nameParams,
      responses: { 200: { description: 'Metadata', schema: metadataSchema }, ...errors },
      async handler({ ctx, params }) {
        ctx.body = await metadata(params.name);
      },
    }),
    route({
      method: 'get',
      path: '/v2/models/{name}/versions/{version}',
      summary: 'OIP model version metadata',
      tags: ['open-inference-protocol'],
      access: 'authenticated',
      params: versionParams,
      responses: { 200: { description: 'Metadata', schema: metadataSchema }, ...errors },
      async handler({ ctx, params }) {
        ctx.body = await metadata(params.name, params.version);
      },
    }),
    route({
      method: 'get',
      path: '/v2/models/{name}/ready',
      summary: 'OIP model readiness: 200 when its artifact loads, 400 otherwise',
      tags: ['open-inference-protocol'],
      access: 'authenticated',
      params: nameParams,
      responses: { 200: { description: 'Ready', schema: z.object({ name: z.string(), ready: z.boolean() }) }, ...errors },
      async handler({ ctx, params }) {
        await ready(ctx, params.name);
      },
    }),
    route({
      method: 'get',
      path: '/v2/models/{name}/versions/{version}/ready',
      summary: 'OIP model version readiness',
      tags: ['open-inference-protocol'],
      access: 'authenticated',
      params: versionParams,
      responses: { 200: { description: 'Ready', schema: z.object({ name: z.string(), ready: z.boolean() }) }, ...errors },
      async handler({ ctx, params }) {
        await ready(ctx, params.name, params.version);
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
      responses: { 200: { description: 'Outputs', schema: inferResponse }, ...errors },
      async handler({ ctx, params, body, principal }) {
        await infer(ctx, params.name, undefined, body, actorId(principal));
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
      responses: { 200: { description: 'Outputs', schema: inferResponse }, ...errors },
      async handler({ ctx, params, body, principal }) {
        await infer(ctx, params.name, params.version, body, actorId(principal));
      },
    }),
  ];
}
