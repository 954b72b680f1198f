/**
 * The one middleware every request of a service goes through, in this order: a request id, the
 * service's own endpoints (probes, `/metrics`, `/openapi.json`, `/`), authentication, the declared
 * routes (or, when none matches, the middleware mounted after this one, then 404/405/501), errors
 * rendered as problem+json, and last the request's metrics and access line.
 *
 * Why one middleware and not a layer each: every koa layer costs each request an async frame, a bound
 * dispatch function and a promise or two, and the layers read the same request fields again through
 * koa's delegates. Five layers were a fifth of a cached read's JavaScript (issue 14 §3).
 */
import { randomUUID } from 'node:crypto';
import type { Context, Middleware, Next } from 'koa';
import { accessLogWriter } from '../observability/access-log.ts';
import type { Logger } from '../observability/logger.ts';
import { UNMATCHED_ROUTE, type HttpMetrics } from '../observability/metrics.ts';
import { recordRoute } from '../observability/trace-route.ts';
import { renderProblem } from './errors.ts';
import { NoRouteError } from './problem.ts';
import type { RouteTable } from './route-table.ts';
import { answerUnmatched, type Principal, type RouteHandler } from './routes.ts';

/** Sets `ctx.state.principal` from the request's credentials, or throws a 401 problem. */
export type Authenticator = (ctx: Context) => Promise<void> | void;

/** A service endpoint answered before authentication (GET and HEAD only). */
export type SystemEndpoint = (ctx: Context) => unknown;

/** Renders an error in a dialect of its own (the Open Inference Protocol's); false: as problem+json. */
export type ErrorRenderer = (ctx: Context, err: unknown) => boolean;

export interface PipelineOptions {
  logger: Logger;
  metrics: HttpMetrics;
  system: ReadonlyMap<string, SystemEndpoint>;
  authenticate?: Authenticator;
  routes: RouteTable<RouteHandler>;
  renderError?: ErrorRenderer;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** Probes and scrapes: neither counted in the request metrics nor access-logged. */
const QUIET_PATHS = new Set(['/livez', '/readyz', '/healthz', '/metrics']);

/**
 * `ctx.state` of every request: its id, the principal once authenticated, the matched route's label
 * (middleware mounted after the pipeline names its own), the headers every answer carries (set when
 * the answer is sent, in one go for `replyJson`), and `log`, a child logger carrying the id, built
 * only if a handler logs (most requests never do).
 */
export class RequestState {
  readonly #logger: Logger;
  #child: Logger | undefined;
  readonly requestId: string;
  principal: Principal | undefined = undefined;
  route: string | undefined = undefined;
  readonly headers: readonly string[];
  [key: string]: unknown;
  constructor(logger: Logger, requestId: string) {
    this.#logger = logger;
    this.requestId = requestId;
    this.headers = ['X-Request-Id', requestId, 'X-Content-Type-Options', 'nosniff'];
  }
  get log(): Logger {
    return (this.#child ??= this.#logger.child({ request_id: this.requestId }));
  }
}

export function requestPipeline(opts: PipelineOptions): Middleware {
  const { logger, metrics, system, authenticate, routes, renderError } = opts;
  const writeAccess = accessLogWriter(logger);

  async function dispatch(ctx: Context, next: Next, method: string, path: string, state: RequestState) {
    const endpoint = method === 'GET' || method === 'HEAD' ? system.get(path) : undefined;
    if (endpoint) {
      state.route = path;
      return endpoint(ctx);
    }
    const authenticating = authenticate?.(ctx);
    if (authenticating) await authenticating;
    const found = routes.lookup(method, path);
    if (found.handler) {
      state.route = found.label;
      recordRoute(found.label);
      return found.handler(ctx, found.params);
    }
    await next(); // middleware mounted after the pipeline (the embedded store's object URLs)
    answerUnmatched(ctx, found.allowed);
  }

  return async function serve(ctx, next) {
    const started = performance.now();
    const { method, path } = ctx;
    const incoming = ctx.req.headers['x-request-id'];
    const requestId = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    const state = new RequestState(logger, requestId);
    ctx.state = state;
    try {
      await dispatch(ctx, next, method, path, state);
      if (ctx.status === 404 && ctx.body === undefined) throw new NoRouteError(method, path);
    } catch (err) {
      if (!renderError?.(ctx, err)) renderProblem(ctx, err, logger);
    } finally {
      // Left to koa to send (replyJson sent its own, with these in it).
      if (ctx.respond !== false && !ctx.headerSent) {
        for (let i = 0; i < state.headers.length; i += 2) ctx.res.setHeader(state.headers[i]!, state.headers[i + 1]!);
      }
      if (!QUIET_PATHS.has(path)) {
        const ms = performance.now() - started;
        metrics.record(method, state.route ?? UNMATCHED_ROUTE, ctx.status, ms / 1000);
        writeAccess?.({ requestId, method, path, status: ctx.status, ms: Math.round(ms) });
      }
    }
  };
}
