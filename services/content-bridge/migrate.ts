/** `npm run migrate`: applies the Content Bridge migrations to DATABASE_URL and exits. */
import { runMigrationsCli } from '../kit/deps/migrate-cli.ts';
import { MIGRATIONS_DIR } from './paths.ts';

await runMigrationsCli('content-bridge', MIGRATIONS_DIR);
