/**
 * Secrets the embedded mode generates for itself when they are not configured: created once with
 * 32 random bytes, kept in the data directory (mode 0600) and never rewritten, so tokens and
 * presigned URLs stay valid across restarts. A configured value always wins.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function persistedSecret(dataDir: string, name: string, configured?: string): string {
  if (configured) return configured;
  const path = join(dataDir, `${name}.secret`);
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('hex');
  try {
    writeFileSync(path, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    return secret;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(path, 'utf8').trim(); // another process won
    throw err;
  }
}
