/**
 * Versioned SQL migrations, applied at startup under an advisory lock so replicas starting together
 * never race. Files are `NNNN_description.sql`; each runs in its own transaction and is recorded
 * with a checksum, so an edited, already-applied migration is caught instead of silently skipped.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Database } from './database.ts';

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export function loadMigrations(dir: string): Migration[] {
  const files = readdirSync(dir).filter((f) => /^\d{4}_[\w-]+\.sql$/.test(f));
  const migrations = files
    .map((file) => {
      const sql = readFileSync(join(dir, file), 'utf8');
      return {
        version: Number(file.slice(0, 4)),
        name: file.slice(5, -4),
        sql,
        checksum: createHash('sha256').update(sql).digest('hex'),
      };
    })
    .sort((a, b) => a.version - b.version);
  migrations.forEach((m, i) => {
    if (i > 0 && migrations[i - 1]!.version === m.version) throw new Error(`duplicate migration version ${m.version}`);
  });
  return migrations;
}

/** A stable 31-bit lock key per service name. */
function lockKey(service: string): number {
  return createHash('sha256').update(`migrations:${service}`).digest().readUInt32BE(0) >>> 1;
}

/** Applied migrations this code does not have: a newer release ran them (see docs/operations-upgrade.md). */
export interface UnknownMigration {
  version: number;
  name: string;
}

export interface MigrateOptions {
  /**
   * Called when the database holds migrations newer code applied, as after a downgrade. They are
   * never reverted: the previous release already ran against that schema during the upgrade's rollout.
   */
  onUnknown?(unknown: UnknownMigration[]): void;
}

export async function migrate(db: Database, service: string, migrations: Migration[], opts: MigrateOptions = {}): Promise<number[]> {
  return db.withAdvisoryLock(lockKey(service), async (session) => {
    await session.query(`CREATE TABLE IF NOT EXISTS public.schema_migrations (
      service text NOT NULL,
      version integer NOT NULL,
      name text NOT NULL,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (service, version)
    )`);
    const { rows } = await session.query<{ version: number; name: string; checksum: string }>(
      'SELECT version, name, checksum FROM public.schema_migrations WHERE service = $1 ORDER BY version',
      [service],
    );
    const applied = new Map(rows.map((r) => [r.version, r.checksum]));
    const known = new Set(migrations.map((m) => m.version));
    const unknown = rows.filter((r) => !known.has(r.version)).map(({ version, name }) => ({ version, name }));
    if (unknown.length) opts.onUnknown?.(unknown);
    const ran: number[] = [];
    for (const m of migrations) {
      const checksum = applied.get(m.version);
      if (checksum !== undefined) {
        if (checksum !== m.checksum) throw new Error(`migration ${m.version}_${m.name} was changed after it was applied`);
        continue;
      }
      await session.query('BEGIN');
      try {
        await session.query(m.sql);
        await session.query('INSERT INTO public.schema_migrations (service, version, name, checksum) VALUES ($1, $2, $3, $4)', [
          service,
          m.version,
          m.name,
          m.checksum,
        ]);
        await session.query('COMMIT');
      } catch (err) {
        await session.query('ROLLBACK').catch(() => undefined);
        throw new Error(`migration ${m.version}_${m.name} failed: ${(err as Error).message}`, { cause: err });
      }
      ran.push(m.version);
    }
    return ran;
  });
}

/** The one line a migration run prints about migrations it does not know (tests and docs quote it). */
export function describeUnknownMigrations(unknown: UnknownMigration[]): string {
  const list = unknown.map((m) => `${String(m.version).padStart(4, '0')}_${m.name}`).join(', ');
  return `the database is ahead of this release: ${list} applied by a newer release; kept as they are (migrations are never reverted)`;
}
