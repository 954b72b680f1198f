/** `POST /predict`: any signed-in user. */
import { z } from 'zod';
import { replyJson } from '../../kit/http/reply.ts';
import { route, type RouteSpec } from '../../kit/http/routes.ts';
import type { MlContext } from '../context.ts';
import { actorId } from '../auth/access.ts';
import { MAX_ROWS } from './predictor.ts';

/**
 * A row of features: any JSON object (the model checks each feature and names the one it refuses).
 * A plain object test rather than z.record, which costs 6 µs per 20-feature row on the hot path.
 */
const row = z
  .custom<Record<string, unknown>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), {
    message: 'must be an object of feature values',
  })
  .meta({ type: 'object', additionalProperties: true, description: 'One row: feature name → value' });

export const predictBody = z
  .strictObject({
    model: z.string().min(1).max(200),
    version: z.number().int().min(1).optional(),
    alias: z.string().min(1).max(63).optional(),
    inputs: z.union([row, z.array(row).min(1).max(MAX_ROWS)]),
  })
  .refine((b) => b.version === undefined || b.alias === undefined, { message: 'give either version or alias, not both', path: ['alias'] });

const predictionSchema = z.union([
  z.object({ value: z.number() }),
  z.object({ label: z.union([z.string(), z.number()]), class_index: z.number(), probabilities: z.record(z.string(), z.number()) }),
]);

export function predictRoutes(app: MlContext): RouteSpec[] {
  return [
    route({
      method: 'post',
      path: '/predict',
      summary: `Predict with a model version (explicit, by alias, else 'production', else the latest); 1 to ${MAX_ROWS} rows`,
      tags: ['predict'],
      access: 'authenticated',
      body: predictBody,
      responses: {
        200: {
          description: 'Predictions, in the order of the input rows',
          schema: z.object({ model: z.string(), version: z.number(), predictions: z.array(predictionSchema), cached: z.boolean() }),
        },
        404: { description: 'Unknown model, version or alias' },
        422: { description: 'An input does not match the model (the problem names the feature)' },
        503: { description: "The model's artifact cannot be loaded" },
      },
      async handler({ ctx, body, principal }) {
        const rows = Array.isArray(body.inputs) ? body.inputs : [body.inputs];
        const result = await app.predictor.predict({
          model: body.model,
          version: body.version,
          alias: body.alias,
          rows,
          userId: actorId(principal),
        });
        replyJson(
          ctx,
          `{"model":${JSON.stringify(result.model)},"version":${result.version},"predictions":${result.json},"cached":${result.cached}}`,
        );
      },
    }),
  ];
}
