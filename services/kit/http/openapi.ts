/** Builds the OpenAPI 3.1 document from the same route specs that validate requests. */
import { z } from 'zod';
import type { RouteSpec } from './routes.ts';

const jsonSchema = (schema: z.ZodType, io: 'input' | 'output' = 'input') =>
  z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;

const problemSchema = {
  type: 'object',
  required: ['type', 'title', 'status'],
  properties: {
    type: { type: 'string', format: 'uri-reference' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    errors: { type: 'array', items: { type: 'object', properties: { location: { type: 'string' }, message: { type: 'string' } } } },
  },
};

function parameters(spec: RouteSpec, where: 'path' | 'query'): object[] {
  const schema = where === 'path' ? spec.params : spec.query;
  if (!schema) return [];
  const json = jsonSchema(schema);
  const properties = (json.properties ?? {}) as Record<string, Record<string, unknown>>;
  const required = new Set((json.required as string[] | undefined) ?? []);
  return Object.entries(properties).map(([name, prop]) => ({
    name,
    in: where,
    required: where === 'path' || required.has(name),
    ...(prop.description ? { description: prop.description } : {}),
    schema: prop,
  }));
}

export function buildOpenApi(info: { title: string; version: string; description?: string }, specs: RouteSpec[]): object {
  const paths: Record<string, Record<string, object>> = {};
  for (const spec of specs) {
    const accessText =
      spec.access === 'public' ? 'Public.' : spec.access === 'authenticated' ? 'Any signed-in user.' : `Roles: ${spec.access.join(', ')}.`;
    const responses: Record<string, object> = {};
    for (const [status, res] of Object.entries(spec.responses ?? { 200: { description: 'OK' } })) {
      responses[status] = {
        description: res.description,
        ...(res.schema ? { content: { [res.contentType ?? 'application/json']: { schema: jsonSchema(res.schema, 'output') } } } : {}),
      };
    }
    responses.default = {
      description: 'Problem',
      content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
    };
    let requestBody: object | undefined;
    if (spec.body) {
      requestBody =
        'stream' in spec.body
          ? { required: true, description: spec.body.description, content: { [spec.body.stream]: { schema: {} } } }
          : { required: true, content: { 'application/json': { schema: jsonSchema(spec.body) } } };
    }
    const operation = {
      summary: spec.summary,
      description: accessText,
      tags: spec.tags ?? [],
      ...(spec.access === 'public' ? { security: [] } : {}),
      parameters: [
        ...parameters(spec, 'path'),
        ...parameters(spec, 'query'),
        ...(spec.headers ?? []).map((name) => ({ name, in: 'header', required: false, schema: { type: 'string' } })),
      ],
      ...(requestBody ? { requestBody } : {}),
      responses,
    };
    for (const path of Array.isArray(spec.path) ? spec.path : [spec.path]) {
      (paths[path] ??= {})[spec.method] = operation;
    }
  }
  return {
    openapi: '3.1.0',
    info,
    paths,
    security: [{ bearerAuth: [] }],
    components: {
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: { Problem: problemSchema },
    },
  };
}
