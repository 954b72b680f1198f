/**
 * Registry changes (alias moved, version added or deleted, model created) announced to every
 * replica over the cache's pub/sub (Redis), so each drops its cached metadata for that model at once.
 * Delivery is best effort: a replica that misses a message (Redis down, reconnecting) still converges
 * within MODEL_METADATA_TTL_MS, because the metadata cache expires on its own.
 */
import type { Cache } from '../../kit/deps/cache.ts';
import type { Logger } from '../../kit/observability/logger.ts';

/** The channel, under the cache's key prefix (`hma:ml:registry-changed` in production). */
export const REGISTRY_CHANNEL = 'ml:registry-changed';

export interface RegistryEvents {
  /** Announces that `model` changed (fire and forget). */
  publish(model: string): void;
  /** Registers a listener for changes made by any replica (including this one). */
  subscribe(listener: (model: string) => void): void;
}

export function cacheRegistryEvents(cache: Cache, logger: Logger): RegistryEvents {
  const listeners: Array<(model: string) => void> = [];
  // A lost subscription needs nothing here: the metadata TTL bounds what was missed.
  cache.subscribe(REGISTRY_CHANNEL, { message: (model) => listeners.forEach((listener) => listener(model)), reset: () => undefined });
  return {
    publish(model) {
      cache
        .publish(REGISTRY_CHANNEL, model)
        .catch((err: unknown) => logger.debug({ err, model }, 'registry change not published (redis unavailable)'));
    },
    subscribe(listener) {
      listeners.push(listener);
    },
  };
}

/** In-process only: for a single replica, or when REGISTRY_PUBSUB is off. */
export function localRegistryEvents(): RegistryEvents {
  const listeners: Array<(model: string) => void> = [];
  return {
    publish(model) {
      for (const listener of listeners) listener(model);
    },
    subscribe(listener) {
      listeners.push(listener);
    },
  };
}
