/**
 * Errors on the Open Inference Protocol routes (`/v2/...`) are `{"error": "..."}` JSON, as the
 * protocol says, not problem+json. The request pipeline hands this renderer whatever it caught on
 * those paths (a bad token, a validation failure, an unknown model, a model that cannot load, no
 * route); every other path keeps the kit's problem+json.
 */
import type { Context } from 'koa';
import { toProblem } from '../../kit/http/errors.ts';
import { NoRouteError } from '../../kit/http/problem.ts';
import type { ErrorRenderer } from '../../kit/http/pipeline.ts';
import type { Logger } from '../../kit/observability/logger.ts';
import { OipRequestError } from './tensors.ts';

export const isOipPath = (path: string) => path === '/v2' || path.startsWith('/v2/');

export function oipErrors(logger: Logger): ErrorRenderer {
  return (ctx: Context, err: unknown) => {
    if (!isOipPath(ctx.path)) return false;
    if (err instanceof OipRequestError || err instanceof NoRouteError) {
      ctx.status = err.status;
      ctx.body = { error: err instanceof NoRouteError ? `no route for ${ctx.method} ${ctx.path}` : err.message };
      return true;
    }
    const p = toProblem(err);
    if (p.status >= 500) ((ctx.state.log as Logger | undefined) ?? logger).error({ err, status: p.status }, 'request failed');
    for (const [name, value] of Object.entries(p.headers)) ctx.set(name, value);
    // Validation failures are the protocol's 400; the field errors go into the message.
    ctx.status = p.status === 422 ? 400 : p.status;
    const details = p.errors?.length ? `: ${p.errors.map((e) => `${e.location}: ${e.message}`).join('; ')}` : '';
    ctx.body = { error: p.status >= 500 && p.status !== 503 ? 'internal error' : `${p.detail ?? p.title}${details}` };
    return true;
  };
}
