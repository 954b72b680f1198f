import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { fieldErrors } from '../../../services/kit/http/field-errors.ts';

describe('zod issues as field errors', () => {
  const schema = z.strictObject({ name: z.string().min(1), tags: z.array(z.string()).optional(), nested: z.object({ n: z.number() }) });

  it('locates each issue by a dotted path under the given location', () => {
    const result = schema.safeParse({ name: '', tags: ['ok', 3], nested: { n: 'x' } });
    expect(result.success).toBe(false);
    const errors = fieldErrors('body', result.error!);
    expect(errors.map((e) => e.location).sort()).toEqual(['body.name', 'body.nested.n', 'body.tags.1']);
    for (const e of errors) expect(e.message).toEqual(expect.any(String));
  });

  it('names the unknown fields of a strict object', () => {
    const result = schema.safeParse({ name: 'a', nested: { n: 1 }, extra: 1, other: 2 });
    expect(fieldErrors('body[3]', result.error!)).toEqual([{ location: 'body[3]', message: 'unknown field(s): extra, other' }]);
  });

  it('reports an issue of the whole value at the location itself', () => {
    const result = z.string().safeParse(5);
    expect(fieldErrors('query.cursor', result.error!)).toEqual([{ location: 'query.cursor', message: expect.any(String) }]);
  });
});
