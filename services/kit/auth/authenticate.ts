/** Koa middleware that turns a Bearer access token into `ctx.state.principal`. */
import type { Context, Next } from 'koa';
import type { Principal } from '../http/routes.ts';
import { problem } from '../http/problem.ts';
import { cachedVerifier, TokenError, type AccessClaims, type TokenSettings } from './tokens.ts';

export function bearerToken(ctx: Context): string | undefined {
  const header = ctx.get('authorization');
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1];
}

/**
 * A missing token leaves the request anonymous (the route's access rule decides); a present but
 * bad token is always a 401, so a client never silently drops to anonymous.
 */
export function authenticate(
  settings: TokenSettings,
  isRevoked: (jti: string) => Promise<boolean>,
  opts: { skip?: (ctx: Context) => boolean; verify?: (token: string) => AccessClaims } = {},
) {
  // A service that verifies tokens elsewhere too passes its verifier, so both share one cache.
  const verify = opts.verify ?? cachedVerifier(settings);
  return async (ctx: Context, next: Next) => {
    // Routes authenticated another way (service tokens on webhooks) opt out of user tokens.
    if (opts.skip?.(ctx)) return next();
    const token = bearerToken(ctx);
    if (token) {
      try {
        const claims = verify(token);
        if (await isRevoked(claims.jti)) throw new TokenError('token revoked');
        const principal: Principal = {
          userId: claims.sub,
          username: claims.username,
          roles: claims.roles,
          tokenId: claims.jti,
          expiresAt: claims.exp,
          token,
        };
        ctx.state.principal = principal;
      } catch (err) {
        if (err instanceof TokenError) throw problem.unauthorized(err.message);
        throw err;
      }
    }
    await next();
  };
}
