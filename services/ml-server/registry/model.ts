/** Request and response shapes of the registry, and the artifact-versus-model compatibility check. */
import { z } from 'zod';
import { problem, type FieldError } from '../../kit/http/problem.ts';
import type { LoadedModel } from '../inference/index.ts';
import type { ModelRow, VersionRow } from './repository.ts';

export const MODEL_NAME = /^[a-z0-9][a-z0-9._-]{0,99}$/;
export const ALIAS_NAME = /^[a-z][a-z0-9_-]{0,62}$/;

export const modelNameSchema = z
  .string()
  .regex(MODEL_NAME, 'must be 1-100 lowercase letters, digits, ".", "_" or "-", starting with a letter or digit');
export const aliasSchema = z.string().regex(ALIAS_NAME, 'must be 1-63 lowercase letters, digits, "_" or "-", starting with a letter');
/** Path names are only length-checked, so an unknown name is a 404 rather than a validation error. */
export const pathName = z.string().min(1).max(200);
export const versionNumber = z.coerce.number().int().min(1).max(2_147_483_647);

const classLabel = z.union([z.string().min(1), z.number()]);

export const inputSchemaDecl = z.strictObject({
  features: z
    .array(
      z.strictObject({
        name: z.string().min(1).max(200),
        type: z.enum(['numeric', 'categorical']),
        categories: z.array(classLabel).max(10_000).optional(),
        required: z.boolean().optional(),
        description: z.string().max(2000).optional(),
      }),
    )
    .min(1)
    .max(10_000),
});

export const outputSchemaDecl = z.strictObject({
  classes: z.array(classLabel).min(2).max(10_000).optional(),
  description: z.string().max(2000).optional(),
});

export type InputSchemaDecl = z.infer<typeof inputSchemaDecl>;
export type OutputSchemaDecl = z.infer<typeof outputSchemaDecl>;

export const createModelBody = z.strictObject({
  name: modelNameSchema,
  description: z.string().max(2000).default(''),
  task: z.enum(['classification', 'regression']),
  format: z.enum(['linear', 'logistic', 'xgboost']),
  input_schema: inputSchemaDecl.optional(),
  output_schema: outputSchemaDecl.optional(),
});
export type CreateModelBody = z.infer<typeof createModelBody>;

export const metricsField = z.record(z.string().max(200), z.union([z.number(), z.string().max(2000), z.boolean(), z.null()]));

export const trainingStatsField = z.strictObject({
  features: z.record(
    z.string().max(200),
    z.strictObject({ mean: z.number(), std: z.number().min(0), count: z.number().int().min(0).optional() }),
  ),
  rows: z.number().int().min(0).optional(),
});

export const versionSchema = z.object({
  model: z.string(),
  version: z.number(),
  sha256: z.string(),
  size_bytes: z.number(),
  format: z.string(),
  task: z.string(),
  input_schema: z.unknown(),
  output_schema: z.unknown(),
  approx_bytes: z.number(),
  details: z.record(z.string(), z.unknown()),
  metrics: z.record(z.string(), z.unknown()),
  training_stats: z.unknown(),
  description: z.string(),
  source: z.enum(['upload', 'training']),
  training_job_id: z.string().nullable(),
  aliases: z.array(z.string()),
  created_at: z.string(),
});

export const modelSchema = z.object({
  name: z.string(),
  description: z.string(),
  task: z.string(),
  format: z.string(),
  input_schema: z.unknown(),
  output_schema: z.unknown(),
  aliases: z.record(z.string(), z.number()),
  latest_version: z.unknown(),
  created_at: z.string(),
  updated_at: z.string(),
});

export function toVersion(modelName: string, v: VersionRow, aliases: Record<string, number>) {
  return {
    model: modelName,
    version: v.version,
    sha256: v.sha256.trim(),
    size_bytes: Number(v.size_bytes),
    format: v.format,
    task: v.task,
    input_schema: v.input_schema,
    output_schema: v.output_schema,
    approx_bytes: Number(v.approx_bytes),
    details: v.details,
    metrics: v.metrics,
    training_stats: v.training_stats,
    description: v.description,
    source: v.source,
    training_job_id: v.training_job_id,
    aliases: Object.entries(aliases)
      .filter(([, n]) => n === v.version)
      .map(([a]) => a)
      .sort(),
    created_at: new Date(v.created_at).toISOString(),
  };
}

export function toModel(m: ModelRow, aliases: Record<string, number>, latest: unknown) {
  return {
    name: m.name,
    description: m.description,
    task: m.task,
    format: m.format,
    input_schema: m.input_schema ?? null,
    output_schema: m.output_schema ?? null,
    aliases,
    latest_version: latest ?? null,
    created_at: new Date(m.created_at).toISOString(),
    updated_at: new Date(m.updated_at).toISOString(),
  };
}

/**
 * What makes an artifact unfit for a model, as field errors: another format or task, an input the
 * model's declared input_schema lacks (or declares with another type), other classes than declared.
 */
export function compatibilityProblems(
  model: Pick<ModelRow, 'format' | 'task' | 'input_schema' | 'output_schema'>,
  loaded: LoadedModel,
): FieldError[] {
  const problems: FieldError[] = [];
  if (loaded.format !== model.format) {
    problems.push({ location: 'body.file', message: `the artifact's format is ${loaded.format}, but the model's is ${model.format}` });
  }
  if (loaded.task !== model.task) {
    problems.push({ location: 'body.file', message: `the artifact's task is ${loaded.task}, but the model's is ${model.task}` });
  }
  const declared = inputSchemaDecl.safeParse(model.input_schema);
  if (model.input_schema && declared.success) {
    const byName = new Map(declared.data.features.map((f) => [f.name, f]));
    for (const f of loaded.inputSchema.features) {
      const d = byName.get(f.name);
      if (!d)
        problems.push({
          location: `body.file.inputs.${f.name}`,
          message: `the artifact reads input '${f.name}', which the model's input_schema does not declare`,
        });
      else if (d.type !== f.type) {
        problems.push({
          location: `body.file.inputs.${f.name}`,
          message: `input '${f.name}' is ${f.type} in the artifact but ${d.type} in the model's input_schema`,
        });
      }
    }
  }
  const declaredOut = outputSchemaDecl.safeParse(model.output_schema);
  if (model.output_schema && declaredOut.success && declaredOut.data.classes && loaded.outputSchema.task === 'classification') {
    const want = declaredOut.data.classes.map(String);
    const have = loaded.outputSchema.classes.map(String);
    if (want.length !== have.length || want.some((c, i) => c !== have[i])) {
      problems.push({
        location: 'body.file.classes',
        message: `the artifact's classes [${have.join(', ')}] differ from the model's [${want.join(', ')}]`,
      });
    }
  }
  return problems;
}

/** A JSON text field of the upload form, checked with its schema (422 naming the field). */
export function parseJsonField<T>(schema: z.ZodType<T>, raw: string | undefined, name: string): T | undefined {
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
