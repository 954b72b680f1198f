/** Open Inference Protocol (KServe v2) request and answer shapes. */
import { z } from 'zod';

export const nameParams = z.object({ name: z.string().min(1).max(200) });
export const versionParams = z.object({ name: z.string().min(1).max(200), version: z.coerce.number().int().min(1).max(2_147_483_647) });

export const tensorSchema = z.object({
  name: z.string().min(1).max(200),
  shape: z.array(z.number().int().min(0)).min(1).max(2),
  datatype: z.string().min(1).max(16),
  parameters: z.record(z.string(), z.unknown()).optional(),
  data: z.array(z.unknown()),
});

export const inferBody = z.object({
  id: z.string().max(200).optional(),
  parameters: z.record(z.string(), z.unknown()).optional(),
  inputs: z.array(tensorSchema).min(1).max(10_000),
  outputs: z.array(z.object({ name: z.string().min(1), parameters: z.record(z.string(), z.unknown()).optional() })).optional(),
});

export const errorShape = z.object({ error: z.string() });

export type InferBody = z.infer<typeof inferBody>;

export const oipErrors = {
  400: { description: 'Bad request', schema: errorShape },
  404: { description: 'Unknown model or version', schema: errorShape },
};
export const metadataSchema = z.object({
  name: z.string(),
  versions: z.array(z.string()),
  platform: z.string(),
  inputs: z.array(z.object({ name: z.string(), datatype: z.string(), shape: z.array(z.number()) })),
  outputs: z.array(z.object({ name: z.string(), datatype: z.string(), shape: z.array(z.number()) })),
});
export const inferResponse = z.object({
  model_name: z.string(),
  model_version: z.string(),
  id: z.string().optional(),
  outputs: z.array(z.object({ name: z.string(), shape: z.array(z.number()), datatype: z.string(), data: z.array(z.unknown()) })),
});
