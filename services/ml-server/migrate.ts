/** Applies the ML Server migrations and exits: `node services/ml-server/migrate.ts` with DATABASE_URL set. */
import { commonEnv, exitOnConfigError, parseEnv } from '../kit/config.ts';
import { createPgDatabase } from '../kit/deps/database.ts';
import { loadMigrations, migrate } from '../kit/deps/migrations.ts';
import { MIGRATIONS_DIR } from './paths.ts';

let config;
try {
  config = parseEnv({ DATABASE_URL: commonEnv.DATABASE_URL.unwrap() });
} catch (err) {
  exitOnConfigError(err);
}
const db = createPgDatabase(config.DATABASE_URL);
try {
  const applied = await migrate(db, 'ml-server', loadMigrations(MIGRATIONS_DIR));
  console.log(applied.length ? `applied migrations: ${applied.join(', ')}` : 'database is up to date');
} catch (err) {
  console.error(`migration failed: ${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  await db.close();
}
