/** Registration, login, token refresh and validation, logout and password reset. */
import { z } from 'zod';
import { dummyHash, hashPassword, passwordProblems, verifyPassword } from '../../kit/auth/passwords.ts';
import { signAccessToken, TokenError } from '../../kit/auth/tokens.ts';
import { bearerToken } from '../../kit/auth/authenticate.ts';
import { problem, ProblemError } from '../../kit/http/problem.ts';
import { route, type RouteSpec } from '../../kit/http/routes.ts';
import type { AppContext } from '../context.ts';
import { profileSchema, toUser, userSchema, usernameSchema, type UserRow } from '../users/model.ts';
import { DuplicateUserError } from '../users/repository.ts';
import { RefreshTokenError } from './refresh-tokens.ts';
import { confirmPasswordReset, requestPasswordReset } from './service.ts';

/**
 * The answer to a token that does not validate (/auth/token, /auth/sso): the other modules read
 * `valid` and `error`, and as every error it is problem+json, so both sit in one body.
 */
export function invalidTokenProblem(error: string): ProblemError {
  return new ProblemError({
    status: 401,
    detail: error,
    headers: { 'Cache-Control': 'no-store' },
    extensions: { valid: false, error },
  });
}

const registerBody = z.strictObject({
  username: usernameSchema,
  email: z.email().max(254),
  password: z.string().max(1024),
  profile: profileSchema.optional(),
});

const loginBody = z
  .strictObject({
    username: z.string().min(1).max(254).optional(),
    email: z.string().min(1).max(254).optional(),
    password: z.string().min(1).max(1024),
  })
  .refine((b) => Boolean(b.username) !== Boolean(b.email), { message: 'give either username or email' });

const tokenPairSchema = z.object({
  access_token: z.string(),
  token_type: z.literal('Bearer'),
  expires_in: z.number(),
  refresh_token: z.string(),
  user: userSchema,
});

const resetBody = z.union([
  z.strictObject({ email: z.email().max(254) }),
  z.strictObject({ token: z.string().min(10).max(200), new_password: z.string().max(1024) }),
]);

const INVALID_CREDENTIALS = 'Invalid username, email or password';

export async function issueTokenPair(app: AppContext, user: UserRow) {
  const access = signAccessToken(app.tokens, { userId: user.id, username: user.username, roles: user.roles });
  const refresh = await app.refreshTokens.issue(user.id);
  return {
    access_token: access.token,
    token_type: 'Bearer' as const,
    expires_in: app.tokens.accessTtlSeconds,
    refresh_token: refresh,
    user: toUser(user),
  };
}

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
        const problems = passwordProblems({ password: body.password, username: body.username, email: body.email });
        if (problems.length) {
          throw problem.unprocessable(
            'The password does not meet the policy',
            problems.map((message) => ({ location: 'body.password', message })),
          );
        }
        try {
          const user = await app.users.create({
            username: body.username,
            email: body.email,
            passwordHash: await hashPassword(body.password),
            profile: body.profile ?? {},
            roles: ['student'],
          });
          ctx.status = 201;
          ctx.body = { user: toUser(user) };
        } catch (err) {
          if (err instanceof DuplicateUserError) throw problem.conflict('That username or email is already registered');
          throw err;
        }
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
        const user = await app.users.findByLogin(body);
        // Always run one argon2 verification, so timing does not reveal whether the account exists.
        const ok = await verifyPassword(body.password, user?.password_hash ?? (await dummyHash()));
        if (!user || !user.password_hash || !ok) throw problem.unauthorized(INVALID_CREDENTIALS);
        await app.users.touchLogin(user.id);
        const fresh = (await app.users.findById(user.id)) ?? user;
        ctx.set('Cache-Control', 'no-store');
        ctx.body = await issueTokenPair(app, fresh);
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
        let rotated;
        try {
          rotated = await app.refreshTokens.rotate(body.refresh_token);
        } catch (err) {
          if (err instanceof RefreshTokenError) throw problem.unauthorized(err.message);
          throw err;
        }
        const user = await app.users.findById(rotated.userId);
        if (!user) throw problem.unauthorized('unknown user');
        const access = signAccessToken(app.tokens, { userId: user.id, username: user.username, roles: user.roles });
        ctx.set('Cache-Control', 'no-store');
        ctx.body = {
          access_token: access.token,
          token_type: 'Bearer',
          expires_in: app.tokens.accessTtlSeconds,
          refresh_token: rotated.token,
          user: toUser(user),
        };
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
        await app.revocation.revoke(principal!.tokenId, principal!.expiresAt);
        if (body?.refresh_token) await app.refreshTokens.revokeFamilyOf(body.refresh_token);
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
        const token = body?.token ?? bearerToken(ctx);
        if (!token) throw invalidTokenProblem('no token given');
        try {
          const claims = app.verifyToken(token);
          if (await app.revocation.isRevoked(claims.jti)) throw invalidTokenProblem('token revoked');
          const user = await app.users.findByIdFresh(claims.sub);
          if (!user) throw invalidTokenProblem('unknown user');
          ctx.set('Cache-Control', 'no-store');
          ctx.body = { valid: true, user: toUser(user), roles: claims.roles, exp: claims.exp };
        } catch (err) {
          if (err instanceof TokenError) throw invalidTokenProblem(err.message);
          throw err;
        }
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
