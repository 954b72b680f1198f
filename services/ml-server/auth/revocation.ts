/**
 * Revoked access tokens, as the Content Bridge records them: the key `revoked:<jti>` in the shared
 * Redis (under the shared key prefix, REDIS_KEY_PREFIX). Like the Content Bridge, the check fails
 * open while Redis is down: access tokens are short-lived and an outage must not lock everyone out.
 */
import type { Cache } from '../../kit/deps/cache.ts';
import { DependencyUnavailableError } from '../../kit/deps/errors.ts';
import type { Logger } from '../../kit/observability/logger.ts';

export function revocationCheck(cache: Cache, logger: Logger) {
  return async (jti: string): Promise<boolean> => {
    try {
      return await cache.exists(`revoked:${jti}`);
    } catch (err) {
      if (err instanceof DependencyUnavailableError) {
        logger.warn('revocation check skipped: cache unavailable');
        return false;
      }
      throw err;
    }
  };
}
