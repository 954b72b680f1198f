/** Turns a Bearer access token into `ctx.state.principal`, for the request pipeline. */
import type { Context } from 'koa';
import type { Authenticator } from '../http/pipeline.ts';
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
 * bad token is always a 401, so a client never silently drops to anonymous. Synchronous when the
 * revocation list answers from memory, so the common request awaits nothing here.
 */
export function authenticate(
  settings: TokenSettings,
  isRevoked: (jti: string) => boolean | Promise<boolean>,
  opts: { skip?: (ctx: Context) => boolean; verify?: (token: string) => AccessClaims } = {},
): Authenticator {
  // A service that verifies tokens elsewhere too passes its verifier, so both share one cache.
  const verify = opts.verify ?? cachedVerifier(settings);

  function accept(ctx: Context, claims: AccessClaims, token: string, revoked: boolean): void {
    if (revoked) throw problem.unauthorized('token revoked');
    const principal: Principal = {
      userId: claims.sub,
      username: claims.username,
      roles: claims.roles,
      tokenId: claims.jti,
      expiresAt: claims.exp,
      token,
    };
    ctx.state.principal = principal;
  }

  return (ctx) => {
    // Routes authenticated another way (service tokens on webhooks) opt out of user tokens.
    if (opts.skip?.(ctx)) return;
    const token = bearerToken(ctx);
    if (!token) return;
    let claims: AccessClaims;
    try {
      claims = verify(token);
    } catch (err) {
      if (err instanceof TokenError) throw problem.unauthorized(err.message);
      throw err;
    }
    const revoked = isRevoked(claims.jti);
    if (typeof revoked === 'boolean') return accept(ctx, claims, token, revoked);
    return revoked.then((answer) => accept(ctx, claims, token, answer));
  };
}
