/**
 * Declarative routes: one definition carries the path, the access rule and the zod schemas, and
 * feeds both the router (validation, authorization) and the OpenAPI document.
 */
import type { Context } from 'koa';
import { z } from 'zod';
import { readJson } from './body.ts';
import { fieldErrors } from './field-errors.ts';
import { problem, ProblemError } from './problem.ts';
import { createRouteTable, type RouteTable } from './route-table.ts';
import { findUnstorableText } from './storable-text.ts';

export const ROLES = ['student', 'instructor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling: set by the authenticator from a verified access token. */
export interface Principal {
  userId: string;
  username: string;
  roles: Role[];
  tokenId: string;
  expiresAt: number;
  token: string;
}

/** `public`: anyone; `authenticated`: any signed-in user; a role list: a user holding one of them. */
export type Access = 'public' | 'authenticated' | readonly Role[];

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
  contentType?: string;
}

export interface RouteContext<P, Q, B> {
  ctx: Context;
  params: P;
  query: Q;
  body: B;
  principal: Principal | undefined;
}

export interface RouteSpec<P = unknown, Q = unknown, B = unknown> {
  method: Method;
  /** OpenAPI-style paths (`/api/users/{user_id}`); several paths serve the same handler (aliases). */
  path: string | string[];
  summary: string;
  tags?: string[];
  access: Access;
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  /** A JSON body schema, or `stream` when the handler reads the request itself (uploads). */
  body?: z.ZodType<B> | { stream: string; description: string };
  responses?: Record<number, ResponseSpec>;
  /** Documented extra headers the route reads, e.g. If-Match. */
  headers?: string[];
  handler: (input: RouteContext<P, Q, B>) => unknown;
}

/** Keeps each route's generic types when collecting specs of different shapes into one list. */
export function route<P = unknown, Q = unknown, B = unknown>(spec: RouteSpec<P, Q, B>): RouteSpec {
  return spec as unknown as RouteSpec;
}

export const toKoaPath = (path: string) => path.replace(/\{([^}]+)\}/g, ':$1');

function parsePart<T>(schema: z.ZodType<T> | undefined, value: unknown, location: string): T {
  if (!schema) return value as T;
  const unstorable = findUnstorableText(value, location);
  if (unstorable) throw problem.unprocessable(`The request ${location} is invalid`, [unstorable]);
  const result = schema.safeParse(value);
  if (!result.success) throw problem.unprocessable(`The request ${location} is invalid`, fieldErrors(location, result.error));
  return result.data;
}

export function authorize(access: Access, principal: Principal | undefined): void {
  if (access === 'public') return;
  if (!principal) throw problem.unauthorized();
  if (access === 'authenticated') return;
  if (!principal.roles.some((role) => access.includes(role))) {
    throw problem.forbidden(`This requires one of the roles: ${access.join(', ')}`);
  }
}

export interface MountOptions {
  maxJsonBodyBytes: number;
}

/** The methods the services implement; any other is 501 Not Implemented. */
const IMPLEMENTED_METHODS = new Set(['HEAD', 'OPTIONS', 'GET', 'PUT', 'PATCH', 'POST', 'DELETE']);

export type RouteHandler = (ctx: Context, params: Record<string, string>) => Promise<void>;

/**
 * The table that serves every spec. Validation order: auth first, so anonymous probes learn nothing;
 * then path, query and body, each against its one schema.
 */
export function compileRoutes(specs: RouteSpec[], opts: MountOptions): RouteTable<RouteHandler> {
  const table = createRouteTable<RouteHandler>();
  for (const spec of specs) {
    const handler: RouteHandler = async (ctx, rawParams) => {
      const principal = ctx.state.principal as Principal | undefined;
      authorize(spec.access, principal);
      const params = parsePart(spec.params, rawParams, 'path');
      // Only a route that declares a query schema reads the query string (koa parses it on first use).
      const query = spec.query ? parsePart(spec.query, ctx.query, 'query') : {};
      let body: unknown;
      if (spec.body && !('stream' in spec.body)) {
        const raw = await readJson(ctx, opts.maxJsonBodyBytes);
        body = parsePart(spec.body, raw, 'body');
      }
      await spec.handler({ ctx, params, query, body, principal });
    };
    for (const path of Array.isArray(spec.path) ? spec.path : [spec.path]) table.add(spec.method, path, toKoaPath(path), handler);
  }
  return table;
}

/**
 * A request no route matched and nothing else answered: a path without the request's method answers
 * 405 with `Allow` (OPTIONS: 200 with it), a method no service implements 501; otherwise the status
 * stays 404 for the caller to render.
 */
export function answerUnmatched(ctx: Context, allowedMethods: string[]): void {
  if (ctx.status !== 404 || ctx.body !== undefined) return;
  const allow = allowedMethods.join(', ');
  if (!IMPLEMENTED_METHODS.has(ctx.method)) {
    throw new ProblemError({ status: 501, detail: `${ctx.method} is not implemented`, headers: allow ? { Allow: allow } : {} });
  }
  if (ctx.method === 'OPTIONS' && allow) {
    ctx.status = 200;
    ctx.body = '';
    ctx.set('Allow', allow);
    return;
  }
  if (allow) throw new ProblemError({ status: 405, detail: `${ctx.method} is not allowed here`, headers: { Allow: allow } });
}
