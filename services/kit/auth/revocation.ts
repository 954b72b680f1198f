/**
 * Revoked access-token ids (`jti`), kept in the cache until the token would have expired anyway.
 * If the cache is down, checks fail open: access tokens live 15 minutes, and an outage of Redis
 * must not sign every user out. Logout still revokes the refresh token family in PostgreSQL.
 *
 * Every authenticated request asks "is this jti revoked?", and the answer is almost always no. So a
 * "no" is remembered in-process for a few seconds, but only while the cache's revocation channel is
 * live: a revocation is published there, and every process drops its memory of that jti at once.
 * If the subscription drops (Redis restarts, the connection breaks) everything remembered is
 * forgotten and each request asks Redis again until the subscription is back. A "no" that was
 * asked for before a revocation but answered after it is not remembered (the generation check).
 */
import type { Cache } from '../deps/cache.ts';
import { DependencyUnavailableError } from '../deps/errors.ts';
import type { Logger } from '../observability/logger.ts';

export const REVOCATION_CHANNEL = 'revoked';

export interface RevocationOptions {
  /** How long a "not revoked" answer is reused (default 10 s); 0 asks Redis on every request. */
  rememberMs?: number;
  /** Bound of the remembered answers (default 100,000 token ids, oldest dropped first). */
  maxRemembered?: number;
}

export interface RevocationList {
  revoke(jti: string, expiresAtSeconds: number): Promise<void>;
  /** Synchronous while "not revoked" is remembered: the hot path then awaits nothing. */
  isRevoked(jti: string): boolean | Promise<boolean>;
}

export function revocationList(cache: Cache, logger: Logger, opts: RevocationOptions = {}): RevocationList {
  const rememberMs = opts.rememberMs ?? 10_000;
  const maxRemembered = opts.maxRemembered ?? 100_000;
  /** jti → until when (epoch ms) "not revoked" may be reused. */
  const notRevoked = new Map<string, number>();
  let generation = 0;
  const forget = (jti?: string) => {
    generation++;
    if (jti === undefined) notRevoked.clear();
    else notRevoked.delete(jti);
  };
  if (rememberMs > 0) cache.subscribe(REVOCATION_CHANNEL, { message: (jti) => forget(jti), reset: () => forget() });

  return {
    async revoke(jti, expiresAtSeconds) {
      const ttl = expiresAtSeconds - Math.floor(Date.now() / 1000);
      if (ttl <= 0) return;
      await cache.set(`revoked:${jti}`, '1', ttl);
      forget(jti); // after the write: a check that read the old state cannot be remembered now
      // If the announcement is lost, other processes still see the revocation within rememberMs.
      await cache.publish(REVOCATION_CHANNEL, jti).catch((err: unknown) => logger.warn({ err }, 'revocation not announced'));
    },
    isRevoked(jti) {
      const now = Date.now();
      if (rememberMs > 0 && cache.listening) {
        const until = notRevoked.get(jti);
        if (until !== undefined && until > now) return false;
      }
      return askCache(jti, now);
    },
  };

  async function askCache(jti: string, now: number): Promise<boolean> {
    const asked = generation;
    let revoked: boolean;
    try {
      revoked = await cache.exists(`revoked:${jti}`);
    } catch (err) {
      if (err instanceof DependencyUnavailableError) {
        logger.warn('revocation check skipped: cache unavailable');
        return false;
      }
      throw err;
    }
    if (!revoked && rememberMs > 0 && cache.listening && asked === generation) {
      if (notRevoked.size >= maxRemembered) notRevoked.delete(notRevoked.keys().next().value!);
      notRevoked.delete(jti); // re-insert at the end: the Map's order is the eviction order
      notRevoked.set(jti, now + rememberMs);
    }
    return revoked;
  }
}
