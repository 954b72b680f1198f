/** Registration, login, token refresh and validation, logout and password reset over HTTP; the flows are in service.ts. */
import { z } from 'zod';
import { bearerToken } from '../../kit/auth/authenticate.ts';
import { route, type RouteSpec } from '../../kit/http/routes.ts';
import type { AppContext } from '../context.ts';
import { userSchema } from '../users/model.ts';
import { loginBody, registerBody, resetBody, tokenPairSchema } from './model.ts';
import { confirmPasswordReset, login, logout, refresh, register, requestPasswordReset, validateToken } from './service.ts';

export function authRoutes(app: AppContext): RouteSpec[] {
  const clientIp = (ip: string) => ip || 'unknown';
  return [
    route({
      method: 'post',
      path: ['/auth/register', '/api/users/register'],
      summary: 'Register a student account',
      tags: ['auth'],
      access: 'public',
      body: registerBody,
      responses: { 201: { description: 'Created', schema: z.object({ user: userSchema }) } },
      async handler({ ctx, body }) {
        await app.rateLimit([app.rateRules.register, clientIp(ctx.ip)]);
        const created = await register(app, body);
        ctx.status = 201;
        ctx.body = created;
      },
    }),
    route({
      method: 'post',
      path: ['/auth/login', '/api/authenticate'],
      summary: 'Log in with username or email and password',
      tags: ['auth'],
      access: 'public',
      body: loginBody,
      responses: { 200: { description: 'Token pair', schema: tokenPairSchema } },
      async handler({ ctx, body }) {
        const account = (body.username ?? body.email ?? '').toLowerCase();
        await app.rateLimit(
          [app.rateRules.loginPerAccount, `${account}|${clientIp(ctx.ip)}`],
          [app.rateRules.loginPerIp, clientIp(ctx.ip)],
        );
        const tokens = await login(app, body);
        ctx.set('Cache-Control', 'no-store');
        ctx.body = tokens;
      },
    }),
    route({
      method: 'post',
      path: '/auth/refresh',
      summary: 'Exchange a refresh token for a new token pair (the old one is rotated)',
      tags: ['auth'],
      access: 'public',
      body: z.strictObject({ refresh_token: z.string().min(10).max(200) }),
      responses: { 200: { description: 'Token pair', schema: tokenPairSchema } },
      async handler({ ctx, body }) {
        const tokens = await refresh(app, body.refresh_token);
        ctx.set('Cache-Control', 'no-store');
        ctx.body = tokens;
      },
    }),
    route({
      method: 'post',
      path: '/auth/logout',
      summary: 'Revoke the current access token and, if given, its refresh token family',
      tags: ['auth'],
      access: 'authenticated',
      body: z.strictObject({ refresh_token: z.string().max(200).optional() }).optional(),
      responses: { 204: { description: 'Logged out' } },
      async handler({ ctx, body, principal }) {
        await logout(app, principal!, body?.refresh_token);
        ctx.status = 204;
      },
    }),
    route({
      method: 'post',
      path: '/auth/token',
      summary: 'Validate an access token (used by the other modules)',
      tags: ['auth'],
      access: 'public',
      body: z.strictObject({ token: z.string().max(8192).optional() }).optional(),
      responses: {
        200: {
          description: 'Valid',
          schema: z.object({ valid: z.literal(true), user: userSchema, roles: z.array(z.string()), exp: z.number() }),
        },
        401: {
          description: 'Invalid: problem+json with `valid: false` and `error`',
          contentType: 'application/problem+json',
          schema: z.object({ valid: z.literal(false), error: z.string(), status: z.literal(401), detail: z.string() }),
        },
      },
      async handler({ ctx, body }) {
        const valid = await validateToken(app, body?.token ?? bearerToken(ctx));
        ctx.set('Cache-Control', 'no-store');
        ctx.body = valid;
      },
    }),
    route({
      method: 'post',
      path: '/api/users/reset-password',
      summary: 'Request a password reset ({email}) or confirm one ({token, new_password})',
      tags: ['auth'],
      access: 'public',
      body: resetBody,
      responses: {
        202: { description: 'Reset requested (always, whether or not the email exists)' },
        204: { description: 'Password changed' },
      },
      async handler({ ctx, body }) {
        await app.rateLimit([app.rateRules.passwordReset, clientIp(ctx.ip)]);
        if ('email' in body) {
          await requestPasswordReset(app, body.email);
          ctx.status = 202;
          ctx.body = { status: 'accepted', detail: 'If that address is registered, a reset link is on its way.' };
          return;
        }
        await confirmPasswordReset(app, body.token, body.new_password);
        ctx.status = 204;
      },
    }),
  ];
}
