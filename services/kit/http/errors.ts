/** Renders every error as problem+json; unexpected errors are logged and hidden from the client. */
import type { Context, Next } from 'koa';
import { DependencyUnavailableError } from '../deps/errors.ts';
import { DomainError, type Failure } from '../domain-error.ts';
import type { Logger } from '../observability/logger.ts';
import { ProblemError, problem } from './problem.ts';

/** PostgreSQL's SQLSTATE for foreign_key_violation (PGlite reports the same codes). */
const FOREIGN_KEY_VIOLATION = '23503';

/** The status each domain failure answers with. */
const FAILURE_STATUS: Record<Failure, number> = {
  invalid: 422,
  'not-found': 404,
  forbidden: 403,
  conflict: 409,
  stale: 412,
  'too-large': 413,
};

export function toProblem(err: unknown): ProblemError {
  if (err instanceof ProblemError) return err;
  if (err instanceof DomainError) {
    const { errors, title, extensions } = err.details;
    return new ProblemError({ status: FAILURE_STATUS[err.failure], title, detail: err.message, errors, extensions });
  }
  if (err instanceof DependencyUnavailableError) return problem.unavailable(`A required service is unavailable: ${err.dependency}`);
  // A foreign key that points nowhere: what the request refers to was deleted meanwhile (a course
  // removed under a new item, a signed-in user deleted while their token is still valid). The
  // statement failed and its transaction rolled back, so this is the client's conflict, not a 500.
  if ((err as { code?: unknown }).code === FOREIGN_KEY_VIOLATION) {
    return problem.conflict('The request refers to a record that does not exist (any more)');
  }
  const status = (err as { status?: number; expose?: boolean }).status;
  // Koa/http-errors thrown by middleware (e.g. 405 from allowedMethods) carry a safe status.
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new ProblemError({ status, detail: (err as Error).message });
  }
  return new ProblemError({ status: 500, detail: 'An unexpected error occurred' });
}

/** Answers with the error as problem+json; an unexpected one (5xx, but 501) is logged first. */
export function renderProblem(ctx: Context, err: unknown, logger: Logger): void {
  const p = toProblem(err);
  if (p.status >= 500 && p.status !== 501) {
    const log = (ctx.state.log as Logger | undefined) ?? logger;
    log.error({ err, status: p.status }, 'request failed');
  }
  ctx.status = p.status;
  for (const [name, value] of Object.entries(p.headers)) ctx.set(name, value);
  ctx.type = 'application/problem+json';
  ctx.body = { ...p.body(ctx.path), ...(ctx.state.requestId ? { request_id: ctx.state.requestId } : {}) };
}

/** `renderProblem` as a middleware, for an app without the kit's pipeline. */
export function errorMiddleware(logger: Logger) {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
    } catch (err) {
      renderProblem(ctx, err, logger);
    }
  };
}
