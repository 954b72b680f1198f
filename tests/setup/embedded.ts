/**
 * Global setup of the integration-embedded project: no servers to start. Opening the first PGlite
 * database warms the driver's pristine cluster (initdb runs once per machine; every new database is
 * a copy of it), and a second cluster with the Content Bridge's migrations already applied serves as
 * the template of startTestBridge's databases (migrate() then finds them applied, checksums and all).
 * It is kept in the temp directory between runs, keyed by the PGlite version and the migration
 * files, and rebuilt when either changes.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { createPgliteDatabase } from '../../services/kit/deps/embedded/pglite.ts';
import { loadMigrations, migrate } from '../../services/kit/deps/migrations.ts';
import { MIGRATIONS_DIR } from '../../services/content-bridge/paths.ts';

export default async function setup(project: TestProject) {
  const version = (
    JSON.parse(readFileSync(new URL('../../node_modules/@electric-sql/pglite/package.json', import.meta.url), 'utf8')) as {
      version: string;
    }
  ).version;
  const migrations = loadMigrations(MIGRATIONS_DIR);
  const key = createHash('sha256')
    .update(version)
    .update(migrations.map((m) => `${m.version}:${m.checksum}`).join(','))
    .digest('hex')
    .slice(0, 16);
  const dir = join(tmpdir(), 'hma-pglite-templates', key);
  if (!existsSync(join(dir, 'content', 'PG_VERSION'))) {
    const work = `${dir}.${process.pid}.tmp`;
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    const content = createPgliteDatabase({ dataDir: join(work, 'content') });
    await migrate(content, 'content-bridge', migrations);
    await content.close();
    try {
      renameSync(work, dir); // atomic: the templates are complete or absent
    } catch {
      rmSync(work, { recursive: true, force: true }); // a concurrent run put them there first
    }
  }
  // Make sure the driver's pristine cluster exists too (suites that spawn main.ts start from it).
  const warm = join(tmpdir(), `hma-pglite-warm-${process.pid}`);
  const db = createPgliteDatabase({ dataDir: warm });
  await db.query('SELECT 1');
  await db.close();
  rmSync(warm, { recursive: true, force: true });
  project.provide('pgliteTemplates', { content: join(dir, 'content') });
}
