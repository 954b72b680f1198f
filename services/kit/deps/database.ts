/** The relational store behind a small interface, so an embedded driver can stand in for PostgreSQL. */
import pg from 'pg';
import { DependencyUnavailableError, isConnectionError } from './errors.ts';

export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

export interface QueryOptions {
  /**
   * Run as a named prepared statement: PostgreSQL parses and plans it once per connection instead
   * of on every call. For hot statements whose planning costs more than running them (big CTEs).
   * One name, one text. Drivers without prepared statements ignore it.
   */
  prepare?: string;
}

export interface Queryable {
  query<R = Record<string, unknown>>(sql: string, params?: unknown[], opts?: QueryOptions): Promise<QueryResult<R>>;
}

export interface Database extends Queryable {
  readonly driver: string;
  /** Runs `fn` in one transaction; it rolls back if `fn` throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Runs `fn` holding a session-level advisory lock, so concurrent processes serialise. */
  withAdvisoryLock<T>(key: number, fn: (session: Queryable) => Promise<T>): Promise<T>;
  ping(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Runs `fn` in one READ ONLY transaction: PostgreSQL refuses any write in it, whatever the role
 * could do, and every read sees one snapshot.
 */
export function readOnlyTransaction<T>(db: Database, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.query('SET TRANSACTION READ ONLY');
    return fn(tx);
  });
}

function wrap(err: unknown): never {
  if (isConnectionError(err)) throw new DependencyUnavailableError('postgres', err);
  throw err;
}

export function createPgDatabase(url: string, opts: { poolSize?: number; applicationName?: string } = {}): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.poolSize ?? 10,
    // Fail fast when the server is down: a request gets a 503 instead of hanging.
    connectionTimeoutMillis: 3000,
    idleTimeoutMillis: 30_000,
    application_name: opts.applicationName,
  });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);

  const query = async <R>(
    client: pg.Pool | pg.PoolClient,
    sql: string,
    params?: unknown[],
    opts?: QueryOptions,
  ): Promise<QueryResult<R>> => {
    try {
      const res = opts?.prepare
        ? await client.query({ name: opts.prepare, text: sql, values: params as unknown[] })
        : await client.query(sql, params as unknown[]);
      return { rows: res.rows as R[], rowCount: res.rowCount ?? 0 };
    } catch (err) {
      return wrap(err);
    }
  };
  const checkout = async () => {
    try {
      return await pool.connect();
    } catch (err) {
      return wrap(err);
    }
  };

  return {
    driver: 'postgres',
    query: (sql, params, opts) => query(pool, sql, params, opts),
    async transaction(fn) {
      const client = await checkout();
      let broken = false;
      try {
        await query(client, 'BEGIN');
        const result = await fn({ query: (sql, params, opts) => query(client, sql, params, opts) });
        await query(client, 'COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => (broken = true));
        throw err;
      } finally {
        client.release(broken);
      }
    },
    async withAdvisoryLock(key, fn) {
      const client = await checkout();
      try {
        await query(client, 'SELECT pg_advisory_lock($1)', [key]);
        try {
          return await fn({ query: (sql, params, opts) => query(client, sql, params, opts) });
        } finally {
          await client.query('SELECT pg_advisory_unlock($1)', [key]).catch(() => undefined);
        }
      } finally {
        client.release();
      }
    },
    async ping(timeoutMs) {
      await withTimeout(query(pool, 'SELECT 1'), timeoutMs, 'postgres');
    },
    close: () => pool.end(),
  };
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new DependencyUnavailableError(what, new Error(`no answer within ${ms} ms`))), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
