/**
 * Koa, minus a per-request cost that answers written directly (`replyJson`) do not need.
 *
 * Koa's `handleRequest` attaches on-finished listeners to every response and its socket before the
 * middleware runs (so that a socket error reaches `ctx.onerror`), and takes them off again when the
 * response ends: about 5 µs a request, a sixth of a cached read (issue 14 §3). Here the middleware
 * runs first. An answer it has already written (`ctx.respond = false`) is done; every other answer
 * is handed to Koa's own `handleRequest`, with the status the middleware set, which attaches the
 * listeners and sends it exactly as before (streams, empty statuses, HEAD).
 */
import Koa, { type Context } from 'koa';

type Middleware = (ctx: Context) => Promise<unknown>;

/** The part of Koa's Application this relies on: public in its source, absent from its types. */
interface KoaRequestHandling {
  handleRequest(ctx: Context, fnMiddleware: Middleware): Promise<unknown>;
}

const koaHandleRequest = (Koa.prototype as unknown as KoaRequestHandling).handleRequest;

export class ServiceKoa extends Koa implements KoaRequestHandling {
  handleRequest(ctx: Context, fnMiddleware: Middleware): Promise<unknown> {
    ctx.res.statusCode = 404; // Koa's default until a middleware sets one
    return fnMiddleware(ctx).then(
      () => {
        if (ctx.respond === false) return undefined;
        // Koa's handleRequest resets the status to 404 before it runs its middleware: this one puts ours back.
        const status = ctx.res.statusCode;
        return koaHandleRequest.call(this, ctx, async () => {
          ctx.res.statusCode = status;
        });
      },
      (err: Error) => ctx.onerror(err),
    );
  }
}
