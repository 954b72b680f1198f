/**
 * Errors on the Open Inference Protocol routes (`/v2/...`) are `{"error": "..."}` JSON, as the
 * protocol says, not problem+json. This middleware wraps authentication and the router for those
 * paths only and renders whatever they throw (a bad token, a validation failure, an unknown model,
 * a model that cannot load) in that shape; every other path keeps the kit's problem+json.
 */
import type { Context, Next } from 'koa';
import { toProblem } from '../../kit/http/errors.ts';
import type { Logger } from '../../kit/observability/logger.ts';
import { OipRequestError } from './tensors.ts';

export const isOipPath = (path: string) => path === '/v2' || path.startsWith('/v2/');

export function oipErrors(logger: Logger) {
  return async (ctx: Context, next: Next) => {
    if (!isOipPath(ctx.path)) return next();
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        ctx.status = 404;
        ctx.body = { error: `no route for ${ctx.method} ${ctx.path}` };
      }
    } catch (err) {
      if (err instanceof OipRequestError) {
        ctx.status = err.status;
        ctx.body = { error: err.message };
        return;
      }
      const p = toProblem(err);
      if (p.status >= 500) ((ctx.state.log as Logger | undefined) ?? logger).error({ err, status: p.status }, 'request failed');
      for (const [name, value] of Object.entries(p.headers)) ctx.set(name, value);
      // Validation failures are the protocol's 400; the field errors go into the message.
      ctx.status = p.status === 422 ? 400 : p.status;
      const details = p.errors?.length ? `: ${p.errors.map((e) => `${e.location}: ${e.message}`).join('; ')}` : '';
      ctx.body = { error: p.status >= 500 && p.status !== 503 ? 'internal error' : `${p.detail ?? p.title}${details}` };
    }
  };
}
