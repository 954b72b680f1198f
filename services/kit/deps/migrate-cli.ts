/** The body of each service's `migrate.ts`: apply that service's migrations to DATABASE_URL and exit. */
import { commonEnv, exitOnConfigError, parseEnv } from '../config.ts';
import { createPgDatabase } from './database.ts';
import { loadMigrations, migrate } from './migrations.ts';

export async function runMigrationsCli(service: string, migrationsDir: string): Promise<void> {
  let config;
  try {
    config = parseEnv({ DATABASE_URL: commonEnv.DATABASE_URL.unwrap() });
  } catch (err) {
    exitOnConfigError(err);
  }
  const db = createPgDatabase(config.DATABASE_URL);
  try {
    const applied = await migrate(db, service, loadMigrations(migrationsDir));
    console.log(applied.length ? `applied migrations: ${applied.join(', ')}` : 'database is up to date');
  } catch (err) {
    console.error(`migration failed: ${(err as Error).message}`);
    process.exitCode = 1;
  } finally {
    await db.close();
  }
}
