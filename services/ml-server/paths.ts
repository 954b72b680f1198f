import { fileURLToPath } from 'node:url';

/** The versioned SQL files applied at startup and by `migrate.ts`. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations', import.meta.url));
