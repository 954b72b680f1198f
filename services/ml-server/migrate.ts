/** Applies the ML Server migrations to DATABASE_URL and exits: `node services/ml-server/migrate.ts`. */
import { runMigrationsCli } from '../kit/deps/migrate-cli.ts';
import { MIGRATIONS_DIR } from './paths.ts';

await runMigrationsCli('ml-server', MIGRATIONS_DIR);
