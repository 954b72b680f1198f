/**
 * Registry changes (alias moved, version added or deleted, model created) announced to every
 * replica over Redis pub/sub, so each drops its cached metadata for that model at once. Delivery is
 * best effort: a replica that misses a message (Redis down, reconnecting) still converges within
 * MODEL_METADATA_TTL_MS, because the metadata cache expires on its own.
 */
import { Redis } from 'ioredis';
import type { Logger } from '../../kit/observability/logger.ts';

export interface RegistryEvents {
  /** Announces that `model` changed (fire and forget). */
  publish(model: string): void;
  /** Registers a listener for changes made by any replica (including this one). */
  subscribe(listener: (model: string) => void): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function redisRegistryEvents(url: string, channel: string, logger: Logger): RegistryEvents {
  const options = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    retryStrategy: (times: number) => Math.min(times * 200, 2000),
    lazyConnect: true,
  };
  const publisher = new Redis(url, options);
  const subscriber = new Redis(url, { ...options, maxRetriesPerRequest: null });
  publisher.on('error', () => undefined);
  subscriber.on('error', () => undefined);
  // (Re)subscribe on every connection, so a Redis that was down at startup or restarted since is
  // listened to again; subscribing twice to one channel is harmless.
  subscriber.on('ready', () => {
    subscriber.subscribe(channel).catch((err: unknown) => logger.warn({ err }, 'registry change subscription failed'));
  });
  const listeners: Array<(model: string) => void> = [];
  subscriber.on('message', (ch: string, message: string) => {
    if (ch !== channel) return;
    for (const listener of listeners) listener(message);
  });
  return {
    publish(model) {
      publisher
        .publish(channel, model)
        .catch((err: unknown) => logger.debug({ err, model }, 'registry change not published (redis unavailable)'));
    },
    subscribe(listener) {
      listeners.push(listener);
    },
    async start() {
      // Never blocks startup: while Redis is down the clients keep reconnecting in the background,
      // and the subscriber subscribes whenever it (re)connects.
      await Promise.allSettled([publisher.connect(), subscriber.connect()]);
    },
    async stop() {
      publisher.disconnect();
      subscriber.disconnect();
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
    start: async () => undefined,
    stop: async () => undefined,
  };
}
