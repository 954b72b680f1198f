/**
 * SSO from the user-management module: validate its token (HS256 with the shared secret, or RS256
 * against the keys of a JWKS URL, with `iss` and `aud` checked), create or update the local user by
 * `external_user_id`, and return a local token pair: token validation and user sync in one call.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { z } from 'zod';
import { route, type RouteSpec } from '../../kit/http/routes.ts';
import type { AppContext } from '../context.ts';
import { invalidTokenProblem, issueTokenPair } from '../auth/service.ts';
import { profileSchema, roleSchema, usernameSchema, type UserRow } from '../users/model.ts';

class SsoError extends Error {}

const externalClaims = z.object({
  sub: z.string().min(1).max(255),
  username: usernameSchema.optional(),
  preferred_username: usernameSchema.optional(),
  email: z.email().max(254),
  profile: profileSchema.optional(),
  roles: z.array(roleSchema).min(1).max(3).optional(),
});

function jwksCache(url: string, ttlMs = 10 * 60_000) {
  let keys: Map<string, KeyObject> | undefined;
  let fetchedAt = 0;
  const load = async () => {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new SsoError(`JWKS endpoint answered ${res.status}`);
    const body = (await res.json()) as { keys?: Array<Record<string, unknown>> };
    keys = new Map();
    for (const jwk of body.keys ?? []) {
      if (jwk.kty === 'RSA' && typeof jwk.kid === 'string') keys.set(jwk.kid, createPublicKey({ key: jwk as never, format: 'jwk' }));
    }
    fetchedAt = Date.now();
  };
  return async (kid: string): Promise<KeyObject> => {
    if (!keys || Date.now() - fetchedAt > ttlMs) await load();
    let key = keys!.get(kid);
    if (!key && Date.now() - fetchedAt > 30_000) {
      await load(); // a rotated key: refetch, but at most twice a minute
      key = keys!.get(kid);
    }
    if (!key) throw new SsoError(`no JWKS key with kid ${kid}`);
    return key;
  };
}

export function ssoRoutes(app: AppContext): RouteSpec[] {
  const { config } = app;
  const jwks = config.HMA_SSO_JWKS_URL ? jwksCache(config.HMA_SSO_JWKS_URL) : undefined;

  async function verifyExternal(token: string) {
    const decoded = jwt.decode(token, { complete: true });
    if (!decoded || typeof decoded.payload === 'string') throw new SsoError('malformed token');
    const options = { issuer: config.HMA_SSO_ISSUER, audience: config.HMA_SSO_AUDIENCE, clockTolerance: 5 };
    let payload: unknown;
    try {
      if (decoded.header.alg === 'HS256' && config.HMA_JWT_SECRET_SHARED) {
        payload = jwt.verify(token, config.HMA_JWT_SECRET_SHARED, { ...options, algorithms: ['HS256'] });
      } else if (decoded.header.alg === 'RS256' && jwks) {
        payload = jwt.verify(token, await jwks(decoded.header.kid ?? ''), { ...options, algorithms: ['RS256'] });
      } else {
        throw new SsoError(`tokens signed with ${decoded.header.alg} are not accepted`);
      }
    } catch (err) {
      if (err instanceof SsoError) throw err;
      throw new SsoError((err as Error).message);
    }
    const claims = externalClaims.safeParse(payload);
    if (!claims.success) throw new SsoError(`token claims are incomplete: ${claims.error.issues.map((i) => i.path.join('.')).join(', ')}`);
    return claims.data;
  }

  async function syncUser(claims: z.infer<typeof externalClaims>): Promise<UserRow> {
    const existing = await app.users.findByExternalId(claims.sub);
    if (existing) {
      await app.deps.db.query(
        `UPDATE users.users SET profile_data = profile_data || $2::jsonb, roles = coalesce($3::jsonb, roles), email = $4,
           sync_status = 'synced', last_synced = now(), last_login = now(), updated_at = now() WHERE id = $1`,
        [existing.id, JSON.stringify(claims.profile ?? {}), claims.roles ? JSON.stringify(claims.roles) : null, claims.email],
      );
      app.users.forget(existing.id);
      return (await app.users.findById(existing.id))!;
    }
    const created = await app.users.create({
      username: claims.preferred_username ?? claims.username ?? `sso_${claims.sub}`.slice(0, 64).replace(/[^A-Za-z0-9_.-]/g, '_'),
      email: claims.email,
      passwordHash: null, // SSO users sign in through their module, never with a local password
      profile: claims.profile ?? {},
      roles: claims.roles ?? ['student'],
      externalUserId: claims.sub,
    });
    await app.users.touchLogin(created.id);
    return (await app.users.findById(created.id))!;
  }

  return [
    route({
      method: 'post',
      path: '/auth/sso',
      summary: 'Exchange a user-management SSO token for a local token pair',
      tags: ['auth'],
      access: 'public',
      body: z.strictObject({ token: z.string().min(1).max(8192) }),
      responses: {
        200: { description: 'Valid: the synced user and a local token pair' },
        401: { description: 'problem+json with `valid: false` and `error`' },
      },
      async handler({ ctx, body }) {
        let claims;
        try {
          claims = await verifyExternal(body.token);
        } catch (err) {
          if (!(err instanceof SsoError)) throw err;
          throw invalidTokenProblem(err.message);
        }
        const user = await syncUser(claims);
        ctx.set('Cache-Control', 'no-store');
        ctx.body = { valid: true, ...(await issueTokenPair(app, user)) };
      },
    }),
  ];
}
