/**
 * A downgrade's migration run (docs/operations-upgrade.md): the older release finds migrations in
 * the database that it does not have. It names them and keeps them (nothing is reverted), and still
 * refuses an applied migration whose file changed. PGlite in process stands in for PostgreSQL.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteDatabase, type EmbeddedDatabase } from '../../../services/kit/deps/embedded/pglite.ts';
import { describeUnknownMigrations, loadMigrations, migrate, type UnknownMigration } from '../../../services/kit/deps/migrations.ts';

let dir: string;
let db: EmbeddedDatabase;

function release(name: string, files: Record<string, string>): string {
  const path = join(dir, name);
  mkdirSync(path);
  for (const [file, sql] of Object.entries(files)) writeFileSync(join(path, file), sql);
  return path;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hma-migrations-'));
  db = createPgliteDatabase({ dataDir: join(dir, 'pg') });
});
afterAll(async () => {
  await db?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('migrations after a downgrade', () => {
  const first = { '0001_things.sql': 'CREATE TABLE things (id int PRIMARY KEY);' };
  const second = { ...first, '0002_more_things.sql': 'CREATE TABLE more_things (id int PRIMARY KEY);' };

  it('names the migrations a newer release applied, keeps them, and applies nothing', async () => {
    expect(await migrate(db, 'svc', loadMigrations(release('new', second)))).toEqual([1, 2]);
    const seen: UnknownMigration[][] = [];
    const applied = await migrate(db, 'svc', loadMigrations(release('old', first)), { onUnknown: (u) => seen.push(u) });
    expect(applied).toEqual([]);
    expect(seen).toEqual([[{ version: 2, name: 'more_things' }]]);
    expect(describeUnknownMigrations(seen[0]!)).toBe(
      'the database is ahead of this release: 0002_more_things applied by a newer release; kept as they are (migrations are never reverted)',
    );
    const { rows } = await db.query<{ n: string }>("SELECT count(*) AS n FROM pg_tables WHERE tablename = 'more_things'");
    expect(Number(rows[0]!.n)).toBe(1);
  });

  it('says nothing when the database is not ahead', async () => {
    const seen: UnknownMigration[][] = [];
    await migrate(db, 'svc', loadMigrations(release('same', second)), { onUnknown: (u) => seen.push(u) });
    expect(seen).toEqual([]);
  });

  it('still refuses an applied migration whose file changed', async () => {
    const edited = release('edited', { '0001_things.sql': 'CREATE TABLE things (id bigint PRIMARY KEY);' });
    await expect(migrate(db, 'svc', loadMigrations(edited))).rejects.toThrow(/migration 1_things was changed after it was applied/);
  });
});
