/** A throwaway PostgreSQL cluster from Debian's packages, on a free port, data in a temp dir. */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './ports.ts';
import { spawnManaged, waitUntil, type ManagedProcess } from './process.ts';
import { makeTempDir } from './tempdir.ts';

export interface PostgresHandle {
  /** Superuser URL of the `postgres` database. */
  readonly url: string;
  readonly port: number;
  /** URL of another database on the same server. */
  urlFor(database: string): string;
  /** Creates a fresh database and returns its URL: one per test file keeps suites independent. */
  createDatabase(name: string): Promise<string>;
  /** Stops the server (fast shutdown), keeping its data; `start()` brings it back on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server and deletes its data. */
  close(): Promise<void>;
}

/** Debian installs the server under /usr/lib/postgresql/<major>/bin; HMA_PG_BINDIR overrides it. */
export function findPostgresBinDir(): string | null {
  if (process.env.HMA_PG_BINDIR) return process.env.HMA_PG_BINDIR;
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const majors = readdirSync(root)
      .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (majors[0]) return join(root, majors[0], 'bin');
  }
  const fromPath = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  const dir = fromPath.stdout?.trim();
  return dir && existsSync(join(dir, 'initdb')) ? dir : null;
}

export async function startPostgres(): Promise<PostgresHandle> {
  const binDir = findPostgresBinDir();
  if (!binDir) throw new Error('PostgreSQL server binaries not found: install the `postgresql` package (or set HMA_PG_BINDIR)');
  // The server refuses to run as root, so as root we run it as the `postgres` user.
  const user = process.getuid?.() === 0 ? 'postgres' : undefined;
  const dir = makeTempDir('pg', user);
  const dataDir = join(dir, 'data');
  const initdb = spawnSync(
    user ? 'runuser' : join(binDir, 'initdb'),
    [
      ...(user ? ['-u', user, '--', join(binDir, 'initdb')] : []),
      '-D',
      dataDir,
      '-U',
      'postgres',
      '--auth=trust',
      '-E',
      'UTF8',
      '--locale=C.UTF-8',
      '--no-sync',
    ],
    { encoding: 'utf8' },
  );
  if (initdb.status !== 0) throw new Error(`initdb failed: ${initdb.stderr || initdb.stdout}`);

  const port = await freePort();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let server: ManagedProcess | undefined;

  const start = async () => {
    server = spawnManaged(
      'postgres',
      join(binDir, 'postgres'),
      [
        '-D',
        dataDir,
        '-p',
        String(port),
        '-k',
        dir,
        '-c',
        'listen_addresses=127.0.0.1',
        // Throwaway data: durability settings only slow the tests down.
        '-c',
        'fsync=off',
        '-c',
        'synchronous_commit=off',
        '-c',
        'full_page_writes=off',
        // A new cluster creates every WAL segment it writes (one settles into recycling old ones only
        // after checkpoints): zero-filling each 16 MiB file cost ~10 % of PostgreSQL's CPU under the
        // event benchmarks, work a long-running server does not do.
        '-c',
        'wal_init_zero=off',
        '-c',
        'max_connections=200',
      ],
      { logDir: dir, user },
    );
    await waitUntil(
      'postgres',
      async () => {
        const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
        try {
          await client.connect();
          await client.query('SELECT 1');
          return true;
        } finally {
          await client.end().catch(() => undefined);
        }
      },
      { timeoutMs: 30_000, process: server },
    );
  };
  const stop = async () => {
    await server?.stop('SIGINT', 15_000); // SIGINT is postgres' "fast" shutdown
    server = undefined;
  };
  await start();

  const urlFor = (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`;
  return {
    url,
    port,
    urlFor,
    async createDatabase(name) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
      } finally {
        await client.end();
      }
      return urlFor(name);
    },
    stop,
    start,
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
