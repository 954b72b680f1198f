/** A throwaway Redis server from Debian's `redis-server` package. */
import { rmSync } from 'node:fs';
import { Redis } from 'ioredis';
import { freePort } from './ports.ts';
import { spawnManaged, waitUntil, type ManagedProcess } from './process.ts';
import { makeTempDir } from './tempdir.ts';

export interface RedisHandle {
  readonly url: string;
  readonly port: number;
  /** URL that selects another logical database (0-15), to keep suites apart. */
  urlFor(db: number): string;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startRedis(): Promise<RedisHandle> {
  const dir = makeTempDir('redis');
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let server: ManagedProcess | undefined;

  const start = async () => {
    server = spawnManaged(
      'redis',
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'],
      { logDir: dir },
    );
    await waitUntil(
      'redis',
      async () => {
        const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
        client.on('error', () => undefined); // the probe's own rejection reports it
        try {
          await client.connect();
          return (await client.ping()) === 'PONG';
        } finally {
          client.disconnect();
        }
      },
      { timeoutMs: 15_000, process: server },
    );
  };
  const stop = async () => {
    await server?.stop('SIGTERM');
    server = undefined;
  };
  await start();
  return {
    url,
    port,
    urlFor: (db) => `${url}/${db}`,
    start,
    stop,
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
