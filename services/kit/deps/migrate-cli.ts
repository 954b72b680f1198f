/**
 * The body of each service's `migrate.ts`: wait for DATABASE_URL to answer (MIGRATE_WAIT_SECONDS,
 * default 300: a migration Job may start while PostgreSQL is still starting), apply that service's
 * migrations and exit. Exit codes: 0 done, 1 a migration failed, 69 (EX_UNAVAILABLE) the database
 * never answered, so the Job's log and its exit code say which.
 */
import { z } from 'zod';
import { commonEnv, exitOnConfigError, parseEnv } from '../config.ts';
import { createPgDatabase } from './database.ts';
import { describeUnknownMigrations, loadMigrations, migrate } from './migrations.ts';
import { DatabaseUnreachableError, waitForDatabase } from './wait-for-database.ts';

export const EXIT_DATABASE_UNREACHABLE = 69;

export async function runMigrationsCli(service: string, migrationsDir: string): Promise<void> {
  let config;
  try {
    config = parseEnv({
      DATABASE_URL: commonEnv.DATABASE_URL.unwrap(),
      MIGRATE_WAIT_SECONDS: z.coerce.number().int().min(0).max(3600).default(300),
    });
  } catch (err) {
    exitOnConfigError(err);
  }
  const db = createPgDatabase(config.DATABASE_URL, { poolSize: 2 });
  try {
    await waitForDatabase(() => db.ping(5000), { timeoutMs: config.MIGRATE_WAIT_SECONDS * 1000, log: (line) => console.log(line) });
    const applied = await migrate(db, service, loadMigrations(migrationsDir), {
      onUnknown: (unknown) => console.log(describeUnknownMigrations(unknown)),
    });
    console.log(applied.length ? `applied migrations: ${applied.join(', ')}` : 'database is up to date');
  } catch (err) {
    if (err instanceof DatabaseUnreachableError) {
      console.error(`migration not started: ${err.message}`);
      process.exitCode = EXIT_DATABASE_UNREACHABLE;
    } else {
      console.error(`migration failed: ${(err as Error).message}`);
      process.exitCode = 1;
    }
  } finally {
    await db.close();
  }
}
