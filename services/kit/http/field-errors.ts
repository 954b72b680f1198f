/** zod issues as the `errors` of a 422 problem: one entry per issue, located by a dotted path. */
import type { z } from 'zod';
import type { FieldError } from './problem.ts';

/** `location` prefixes each issue's path: `body`, `query`, `body.metadata`, `body[3]`. */
export function fieldErrors(location: string, error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => ({
    location: [location, ...issue.path.map(String)].join('.'),
    message: issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : issue.message,
  }));
}
