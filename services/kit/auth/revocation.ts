/**
 * Revoked access-token ids (`jti`), kept in the cache until the token would have expired anyway.
 * If the cache is down, checks fail open: access tokens live 15 minutes, and an outage of Redis
 * must not sign every user out. Logout still revokes the refresh token family in PostgreSQL.
 */
import type { Cache } from '../deps/cache.ts';
import { DependencyUnavailableError } from '../deps/errors.ts';
import type { Logger } from '../observability/logger.ts';

export function revocationList(cache: Cache, logger: Logger) {
  return {
    async revoke(jti: string, expiresAtSeconds: number): Promise<void> {
      const ttl = expiresAtSeconds - Math.floor(Date.now() / 1000);
      if (ttl > 0) await cache.set(`revoked:${jti}`, '1', ttl);
    },
    async isRevoked(jti: string): Promise<boolean> {
      try {
        return await cache.exists(`revoked:${jti}`);
      } catch (err) {
        if (err instanceof DependencyUnavailableError) {
          logger.warn('revocation check skipped: cache unavailable');
          return false;
        }
        throw err;
      }
    },
  };
}
