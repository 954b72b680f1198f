/**
 * The embedded relational store: PGlite, the real PostgreSQL (18) compiled to WebAssembly, in this
 * process, persisting to a directory. The SQL and the migrations are the server path's, unchanged.
 *
 * node-pg itself talks to PGlite: PGlite's node-postgres adapter (`createPgConfig`) hands pg.Client
 * a connection object that feeds the wire protocol straight into the WASM backend. So parameters
 * are serialised and results parsed by node-pg's own code, exactly as against a server: int8 and
 * numeric come back as strings, timestamptz and date as Date, interval as PostgresInterval, jsonb
 * as objects, arrays of any of these as arrays; statements without parameters go through the simple
 * query protocol (so a migration file with many statements runs as one query). PGlite's own
 * query() parses differently (int8 as number, date as UTC midnight, interval as text): not used.
 *
 * PGlite is ONE connection. A transaction holds an async mutex from BEGIN to COMMIT/ROLLBACK; a
 * query outside it waits for the mutex; the transaction's own statements go through the handle it
 * was given. `withAdvisoryLock` still takes `pg_advisory_lock` (same SQL as the server path) but
 * holds the mutex for its whole callback. Consequences, documented in docs/local.md: statements
 * never run concurrently (SKIP LOCKED and advisory locks are trivially satisfied), and a long
 * transaction delays everything else.
 *
 * The data directory belongs to one process: a lock file beside it (`<dataDir>.lock`, holding the
 * pid) makes a second process fail at once instead of corrupting the cluster. A new data directory
 * is a copy of a pristine cluster initialised once per machine (see pristineCluster).
 */
import { randomUUID } from 'node:crypto';
import { closeSync, cpSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { PGlite, type PGliteOptions } from '@electric-sql/pglite';
import { createPgConfig } from '@electric-sql/pglite/node-postgres';
import pg from 'pg';
import type { Database, QueryResult, Queryable } from '../database.ts';
import { withTimeout } from '../database.ts';
import { DependencyUnavailableError } from '../errors.ts';
import { Mutex } from './mutex.ts';
import { isProcessAlive } from './process.ts';

export interface PgliteOptions {
  /** Directory of the cluster; created (initdb) on first use. */
  dataDir: string;
  /** A cluster to copy when `dataDir` holds none (tests keep one with migrations applied); default: a pristine one. */
  templateDir?: string;
}

export interface EmbeddedDatabase extends Database {
  readonly dataDir: string;
}

type WasmModule = NonNullable<PGliteOptions['pgliteWasmModule']>;
// The project's lib settings carry no WebAssembly types; Node has the global.
const { WebAssembly: wasm } = globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<WasmModule> } };
let wasmModule: Promise<WasmModule | undefined> | undefined;

/** PGlite's WASM, compiled once per process and shared by every instance (tests open many). */
function compiledWasm(): Promise<WasmModule | undefined> {
  wasmModule ??= (async () => {
    try {
      const { readFile } = await import('node:fs/promises');
      const entry = new URL(import.meta.resolve('@electric-sql/pglite'));
      return await wasm.compile(await readFile(new URL('pglite.wasm', entry)));
    } catch {
      return undefined; // PGlite then loads it itself
    }
  })();
  return wasmModule;
}

/** Takes `<dataDir>.lock` for this process; throws naming the holder when another live process has it. */
/**
 * initdb takes ~10 s (far more on busy cores), so it runs once per machine and PGlite version: into
 * `<tmp>/hma-pglite-<version>/cluster`, renamed into place only when complete. A new data directory
 * starts as a copy of it (~0.3 s). Copies differ from a fresh initdb only in sharing a system
 * identifier, which nothing here uses. Any failure here falls back to a plain initdb.
 */
async function pristineCluster(module: WasmModule | undefined): Promise<string | undefined> {
  try {
    const entry = new URL(import.meta.resolve('@electric-sql/pglite'));
    const { version } = JSON.parse(readFileSync(new URL('../package.json', entry), 'utf8')) as { version: string };
    const dir = join(tmpdir(), `hma-pglite-${version}`, 'cluster');
    if (!existsSync(join(dir, 'PG_VERSION'))) {
      const work = `${dir}.${process.pid}.${randomUUID().slice(0, 8)}`;
      mkdirSync(dirname(work), { recursive: true });
      const lite = await PGlite.create({ dataDir: work, ...(module ? { pgliteWasmModule: module } : {}) });
      await lite.close();
      try {
        renameSync(work, dir);
      } catch {
        rmSync(work, { recursive: true, force: true }); // another process finished first
      }
    }
    return existsSync(join(dir, 'PG_VERSION')) ? dir : undefined;
  } catch {
    return undefined;
  }
}

function lockDataDir(dataDir: string): () => void {
  const path = `${dataDir}.lock`;
  mkdirSync(dirname(path), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(readFileSync(path, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && isProcessAlive(holder)) {
        const who = holder === process.pid ? 'this process already has it open' : `process ${holder} is using it`;
        throw new Error(`the embedded database ${dataDir} is in use (${who}); stop that process or use another data directory`, {
          cause: err,
        });
      }
      rmSync(path, { force: true }); // left by a process that died
    }
  }
  throw new Error(`could not lock ${path}`);
}

const toResult = <R>(res: pg.QueryResult | pg.QueryResult[]): QueryResult<R> => {
  // Several statements in one simple query: node-pg returns one result each; the last one answers.
  const last = Array.isArray(res) ? res[res.length - 1] : res;
  return { rows: (last?.rows ?? []) as R[], rowCount: last?.rowCount ?? 0 };
};

export function createPgliteDatabase(opts: PgliteOptions): EmbeddedDatabase {
  const dataDir = resolve(opts.dataDir);
  const mutex = new Mutex();
  let lite: PGlite | undefined;
  let unlock: (() => void) | undefined;
  let closed = false;

  const ready = (async () => {
    unlock = lockDataDir(dataDir);
    try {
      const module = await compiledWasm();
      if (!existsSync(join(dataDir, 'PG_VERSION'))) {
        const template = opts.templateDir ?? (await pristineCluster(module));
        if (template) cpSync(template, dataDir, { recursive: true });
      }
      mkdirSync(dataDir, { recursive: true });
      lite = await PGlite.create({ dataDir, ...(module ? { pgliteWasmModule: module } : {}) });
      const client = new pg.Client(createPgConfig(lite) as unknown as pg.ClientConfig);
      client.on('error', () => undefined); // surfaced per query
      await client.connect();
      return client;
    } catch (err) {
      await lite?.close().catch(() => undefined);
      unlock();
      unlock = undefined;
      throw err;
    }
  })();
  ready.catch(() => undefined); // reported by every call that awaits it

  const connection = async (): Promise<pg.Client> => {
    if (closed) throw new DependencyUnavailableError('postgres', new Error('the embedded database is closed'));
    try {
      return await ready;
    } catch (err) {
      throw new DependencyUnavailableError('postgres', err);
    }
  };

  const run = async <R>(client: pg.Client, sql: string, params?: unknown[]): Promise<QueryResult<R>> =>
    toResult<R>((await client.query(sql, params as unknown[])) as pg.QueryResult | pg.QueryResult[]);

  /** A handle valid only while its transaction or lock is held. */
  const handle = (client: pg.Client, what: string) => {
    let open = true;
    const queryable: Queryable = {
      query: async (sql, params) => {
        if (!open) throw new Error(`this ${what} handle was used after its ${what} ended`);
        return run(client, sql, params);
      },
    };
    return { queryable, end: () => (open = false) };
  };

  return {
    driver: 'pglite',
    dataDir,
    async query(sql, params) {
      const client = await connection();
      return mutex.run(() => run(client, sql, params), 'db.query');
    },
    async transaction(fn) {
      const client = await connection();
      return mutex.run(async () => {
        const tx = handle(client, 'transaction');
        await client.query('BEGIN');
        try {
          const result = await fn(tx.queryable);
          await client.query('COMMIT');
          return result;
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw err;
        } finally {
          tx.end();
        }
      }, 'db.transaction');
    },
    async withAdvisoryLock(key, fn) {
      const client = await connection();
      return mutex.run(async () => {
        const session = handle(client, 'advisory lock');
        await client.query('SELECT pg_advisory_lock($1)', [key]);
        try {
          return await fn(session.queryable);
        } finally {
          session.end();
          await client.query('SELECT pg_advisory_unlock($1)', [key]).catch(() => undefined);
        }
      }, 'db.withAdvisoryLock');
    },
    async ping(timeoutMs) {
      await withTimeout(
        (async () => {
          const client = await connection();
          await mutex.run(() => client.query('SELECT 1'), 'db.ping');
        })(),
        timeoutMs,
        'postgres',
      );
    },
    async close() {
      if (closed) return;
      closed = true;
      const client = await ready.catch(() => undefined);
      if (!client) return;
      // Wait for whatever holds or awaits the connection, then close it and the cluster (a clean checkpoint).
      await mutex.run(async () => undefined, 'db.close').catch(() => undefined);
      await client.end().catch(() => undefined);
      await lite?.close().catch(() => undefined);
      unlock?.();
      unlock = undefined;
    },
  };
}
