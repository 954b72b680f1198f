/**
 * The cache and rate-limit store behind a small interface (Redis in production; an in-process
 * driver can stand in). Callers treat the cache as optional: every method may throw
 * DependencyUnavailableError, and callers decide whether to fall back or fail.
 */
import { Redis } from 'ioredis';
import { DependencyUnavailableError } from './errors.ts';
import { withTimeout } from './database.ts';

export interface Cache {
  readonly driver: string;
  get(key: string): Promise<string | null>;
  /** Several keys in one round trip. */
  getMany(keys: string[]): Promise<Array<string | null>>;
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  /** Sets only when absent; true when this call set it. */
  setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean>;
  del(...keys: string[]): Promise<void>;
  exists(key: string): Promise<boolean>;
  /** Fixed-window counter: increments `key` and returns the count and the seconds left in the window. */
  hit(key: string, windowSeconds: number): Promise<{ count: number; ttlSeconds: number }>;
  ping(timeoutMs: number): Promise<void>;
  /** Resolves once connected, or after `timeoutMs` (the cache is optional: never blocks startup for long). */
  ready(timeoutMs: number): Promise<boolean>;
  /** Announces `message` to every subscriber of `channel`, in every process sharing this cache. */
  publish(channel: string, message: string): Promise<void>;
  /**
   * Listens on `channel`. `reset` is called whenever messages may have been missed (the
   * subscription was lost or re-established): whoever keeps state derived from messages drops it.
   */
  subscribe(channel: string, handlers: ChannelHandlers): void;
  /** True while a message published now is sure to reach this process's subscribers. */
  readonly listening: boolean;
  close(): Promise<void>;
}

export interface ChannelHandlers {
  message(message: string): void;
  reset(): void;
}

const HIT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {count, ttl}`;

export function createRedisCache(url: string, opts: { keyPrefix?: string; commandTimeoutMs?: number } = {}): Cache {
  const redis = new Redis(url, {
    keyPrefix: opts.keyPrefix,
    // Fail fast while Redis is down instead of queueing commands; reconnect in the background.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: opts.commandTimeoutMs ?? 1000,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(times * 200, 2000),
    lazyConnect: false,
    // Commands issued in the same event-loop turn by concurrent requests go out as one write and come
    // back as one read: on a busy server most of a command's cost, here and in Redis, is the syscalls.
    enableAutoPipelining: true,
  });
  redis.on('error', () => undefined); // surfaced per command; the client keeps reconnecting
  const channels = channelSubscriptions(url, opts.keyPrefix ?? '');
  const call = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw new DependencyUnavailableError('redis', err);
    }
  };
  const reads = coalescedReads((keys) => call(() => redis.mget(...keys)));
  return {
    driver: 'redis',
    get: async (key) => (await reads([key]))[0] ?? null,
    getMany: (keys) => (keys.length ? reads(keys) : Promise.resolve([])),
    set: (key, value, ttl) => call(async () => void (await redis.set(key, value, 'EX', Math.max(1, Math.ceil(ttl))))),
    setIfAbsent: (key, value, ttl) => call(async () => (await redis.set(key, value, 'EX', Math.max(1, Math.ceil(ttl)), 'NX')) === 'OK'),
    del: (...keys) => call(async () => void (keys.length ? await redis.del(...keys) : 0)),
    exists: (key) => call(async () => (await redis.exists(key)) === 1),
    hit: (key, windowSeconds) =>
      call(async () => {
        const [count, ttl] = (await redis.eval(HIT_SCRIPT, 1, key, windowSeconds)) as [number, number];
        return { count, ttlSeconds: ttl };
      }),
    ping: (timeoutMs) =>
      withTimeout(
        call(() => redis.ping()),
        timeoutMs,
        'redis',
      ).then(() => undefined),
    ready: (timeoutMs) =>
      redis.status === 'ready'
        ? Promise.resolve(true)
        : new Promise<boolean>((resolve) => {
            const timer = setTimeout(() => resolve(false), timeoutMs);
            redis.once('ready', () => {
              clearTimeout(timer);
              resolve(true);
            });
          }),
    publish: (channel, message) => call(async () => void (await redis.publish(channels.name(channel), message))),
    subscribe: (channel, handlers) => channels.add(channel, handlers),
    get listening() {
      return channels.listening;
    },
    close: async () => {
      redis.disconnect();
      channels.close();
    },
  };
}

/**
 * Reads asked for while the event loop works through one batch of I/O (many requests' sockets are
 * ready at once under load) go to Redis as one MGET once that batch is done (setImmediate), instead
 * of a command and a socket write each: auto-pipelining only joins commands of the same tick, and
 * every request runs in a tick of its own. Each caller gets its own keys' values, or the MGET's error.
 */
export function coalescedReads(mget: (keys: string[]) => Promise<Array<string | null>>) {
  let waiting: Array<{ keys: string[]; resolve(values: Array<string | null>): void; reject(err: unknown): void }> = [];
  const send = () => {
    const batch = waiting;
    waiting = [];
    mget(batch.flatMap((w) => w.keys)).then(
      (values) => {
        let at = 0;
        for (const w of batch) {
          w.resolve(values.slice(at, at + w.keys.length));
          at += w.keys.length;
        }
      },
      (err: unknown) => {
        for (const w of batch) w.reject(err);
      },
    );
  };
  return (keys: string[]) =>
    new Promise<Array<string | null>>((resolve, reject) => {
      if (!waiting.length) setImmediate(send);
      waiting.push({ keys, resolve, reject });
    });
}

/**
 * The subscriber connection, opened on the first subscribe (a subscribed connection can run no
 * other command). Channel names carry the key prefix, so services sharing a prefix share channels.
 */
function channelSubscriptions(url: string, prefix: string) {
  const handlers = new Map<string, ChannelHandlers[]>();
  let subscriber: Redis | undefined;
  let listening = false;
  const resetAll = () => {
    for (const list of handlers.values()) for (const h of list) h.reset();
  };
  const lost = () => {
    if (!listening) return;
    listening = false;
    resetAll();
  };
  /** Listening once Redis confirms the subscription; a refusal drops the connection to start over. */
  const listenOn = (connection: Redis, names: string[]) => {
    connection.subscribe(...names).then(
      () => {
        listening = true;
        resetAll();
      },
      () => connection.disconnect(true),
    );
  };
  const open = () => {
    const connection = new Redis(url, {
      enableOfflineQueue: false,
      // The 'ready' handler below subscribes; ioredis' own resubscribe would be a second SUBSCRIBE,
      // whose promise nobody holds: it rejected unhandled when the connection dropped again at once.
      autoResubscribe: false,
      maxRetriesPerRequest: null,
      connectTimeout: 2000,
      retryStrategy: (times) => Math.min(times * 200, 2000),
    });
    connection.on('error', () => undefined);
    connection.on('close', lost);
    // (Re)subscribe on every connection: whatever was published meanwhile is unknown.
    connection.on('ready', () => listenOn(connection, [...handlers.keys()]));
    connection.on('message', (channel: string, message: string) => {
      for (const h of handlers.get(channel) ?? []) h.message(message);
    });
    return connection;
  };
  return {
    name: (channel: string) => prefix + channel,
    get listening() {
      return listening;
    },
    add(channel: string, h: ChannelHandlers) {
      const name = prefix + channel;
      const list = handlers.get(name);
      if (list) {
        list.push(h);
        return;
      }
      handlers.set(name, [h]);
      if (!subscriber) subscriber = open();
      else if (subscriber.status === 'ready') {
        // A new channel on a live connection: not listening on it until the subscription is confirmed.
        lost();
        listenOn(subscriber, [name]);
      }
    },
    close() {
      listening = false;
      subscriber?.disconnect();
    },
  };
}
