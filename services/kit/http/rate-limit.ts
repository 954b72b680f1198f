/**
 * Fixed-window rate limits kept in the cache. Over the limit: 429 with Retry-After. When the cache
 * is down the limit fails open, so an outage of Redis never locks every user out.
 */
import type { Cache } from '../deps/cache.ts';
import { DependencyUnavailableError } from '../deps/errors.ts';
import type { Logger } from '../observability/logger.ts';
import { problem } from './problem.ts';

export interface RateLimitRule {
  name: string;
  limit: number;
  windowSeconds: number;
}

export function createRateLimiter(cache: Cache, logger: Logger) {
  /** Counts one attempt against each `[rule, key]`; throws 429 when any is over its limit. */
  return async function consume(...checks: Array<[RateLimitRule, string]>): Promise<void> {
    for (const [rule, key] of checks) {
      try {
        const { count, ttlSeconds } = await cache.hit(`rl:${rule.name}:${key}`, rule.windowSeconds);
        if (count > rule.limit) throw problem.tooManyRequests(Math.max(1, ttlSeconds));
      } catch (err) {
        if (err instanceof DependencyUnavailableError) {
          logger.warn({ rule: rule.name }, 'rate limit skipped: cache unavailable');
          continue;
        }
        throw err;
      }
    }
  };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;
