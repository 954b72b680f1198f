import { fileURLToPath } from 'node:url';

/** The versioned SQL files applied at startup and by `npm run migrate`. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations', import.meta.url));
