import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { authorize, route, type Principal } from '../../../services/kit/http/routes.ts';
import { buildOpenApi } from '../../../services/kit/http/openapi.ts';
import { findUnstorableText } from '../../../services/kit/http/storable-text.ts';

const principal = (roles: Principal['roles']): Principal => ({ userId: 'u', username: 'u', roles, tokenId: 'j', expiresAt: 0, token: 't' });

describe('authorize', () => {
  it('enforces public, authenticated and role lists', () => {
    expect(() => authorize('public', undefined)).not.toThrow();
    expect(() => authorize('authenticated', undefined)).toThrow(expect.objectContaining({ status: 401 }));
    expect(() => authorize('authenticated', principal(['student']))).not.toThrow();
    expect(() => authorize(['admin'], principal(['student', 'instructor']))).toThrow(expect.objectContaining({ status: 403 }));
    expect(() => authorize(['instructor', 'admin'], principal(['instructor']))).not.toThrow();
    expect(() => authorize(['admin'], undefined)).toThrow(expect.objectContaining({ status: 401 }));
  });
});

describe('OpenAPI generation', () => {
  it('documents paths, aliases, parameters and bodies from the route schemas', () => {
    const doc = buildOpenApi({ title: 't', version: '1' }, [
      route({
        method: 'put',
        path: ['/api/things/{thing_id}', '/things/{thing_id}'],
        summary: 'Update a thing',
        access: ['admin'],
        params: z.strictObject({ thing_id: z.uuid() }),
        query: z.strictObject({ dry_run: z.coerce.boolean().optional() }),
        body: z.strictObject({ name: z.string().min(1) }),
        handler: () => undefined,
      }),
    ]) as any;
    expect(doc.openapi).toBe('3.1.0');
    const op = doc.paths['/api/things/{thing_id}'].put;
    expect(doc.paths['/things/{thing_id}'].put).toBe(op);
    expect(op.description).toBe('Roles: admin.');
    expect(op.parameters).toEqual([
      { name: 'thing_id', in: 'path', required: true, schema: expect.objectContaining({ type: 'string', format: 'uuid' }) },
      { name: 'dry_run', in: 'query', required: false, schema: expect.objectContaining({ type: 'boolean' }) },
    ]);
    expect(op.requestBody.content['application/json'].schema).toMatchObject({
      type: 'object',
      required: ['name'],
      additionalProperties: false,
    });
    expect(op.responses.default.content['application/problem+json']).toBeDefined();
  });
});

describe('findUnstorableText (found by the API fuzz suite: NUL and lone surrogates reached PostgreSQL as 500s)', () => {
  it('names the first string PostgreSQL cannot store: NUL, a lone surrogate, in a value or a field name', () => {
    expect(findUnstorableText({ a: 'fine 😀', b: ['ok', { c: 'a\u0000b' }] }, 'body')).toEqual({
      location: 'body.b.1.c',
      message: 'must be valid Unicode text without NUL characters',
    });
    expect(findUnstorableText(['\ud800'], 'query')?.location).toBe('query.0');
    expect(findUnstorableText({ 'x\u0000': 1 }, 'body')).toMatchObject({ location: 'body', message: expect.stringMatching(/field name/) });
    expect(findUnstorableText({ a: 'İ ß \t\n', n: 1, z: null, t: true }, 'body')).toBeUndefined();
  });

  it('walks a body nested deeper than the call stack', () => {
    let deep: unknown = 'a\u0000';
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(findUnstorableText(deep, 'body')?.message).toMatch(/NUL/);
  });
});
