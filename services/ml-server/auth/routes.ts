/**
 * `POST /auth/login` forwarded to the Content Bridge, which owns users and credentials: its status and
 * body come back unchanged (200 with the token pair, 401, 422, 429...). A bridge that is down or
 * does not answer within LOGIN_FORWARD_TIMEOUT_MS gives a 503 problem.
 */
import { readBody } from '../../kit/http/body.ts';
import { problem } from '../../kit/http/problem.ts';
import { route, type RouteSpec } from '../../kit/http/routes.ts';
import type { MlContext } from '../context.ts';

const FORWARDED_RESPONSE_HEADERS = ['retry-after', 'www-authenticate', 'cache-control'];

export function authRoutes(app: MlContext): RouteSpec[] {
  return [
    route({
      method: 'post',
      path: '/auth/login',
      summary: 'Log in through the Content Bridge (its answer is returned as is)',
      tags: ['auth'],
      access: 'public',
      body: { stream: 'application/json', description: 'The Content Bridge login body: {username | email, password}' },
      responses: { 200: { description: 'The Content Bridge token pair' }, 503: { description: 'The Content Bridge is unavailable' } },
      async handler({ ctx }) {
        const body = await readBody(ctx, app.config.MAX_JSON_BODY_BYTES);
        const url = `${app.config.CONTENT_BRIDGE_URL.replace(/\/+$/, '')}/auth/login`;
        const timeoutMs = app.config.LOGIN_FORWARD_TIMEOUT_MS;
        const signal = AbortSignal.timeout(timeoutMs);
        let status: number;
        let text: string;
        let headers: Headers;
        try {
          const res = await fetch(url, {
            method: 'POST',
            headers: {
              'content-type': ctx.get('content-type') || 'application/json',
              accept: 'application/json',
              'x-forwarded-for': ctx.ip,
              'x-request-id': String(ctx.state.requestId ?? ''),
            },
            body,
            signal,
            redirect: 'manual',
          });
          status = res.status;
          headers = res.headers;
          text = await res.text();
        } catch (err) {
          const name = (err as Error).name;
          if (name === 'TimeoutError' || name === 'AbortError') {
            throw problem.unavailable(`The Content Bridge did not answer the login within ${timeoutMs} ms`);
          }
          ctx.state.log?.warn({ err: (err as Error).message }, 'login forwarding failed');
          throw problem.unavailable('The Content Bridge is unreachable');
        }
        if (status >= 500) ctx.state.log?.warn({ status }, 'the Content Bridge answered the login with an error');
        ctx.status = status;
        for (const name of FORWARDED_RESPONSE_HEADERS) {
          const value = headers.get(name);
          if (value) ctx.set(name, value);
        }
        ctx.type = headers.get('content-type') ?? 'application/json';
        ctx.body = text;
      },
    }),
  ];
}
