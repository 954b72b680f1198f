/** What the launcher remembers in the data directory besides the services' own data. */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SeedResult } from './seed.ts';

const SEED_MARKER = 'sample-data.json';

/** The sample data recorded by the first start, or undefined when it has not been seeded (yet). */
export function readSeedMarker(dataDir: string): SeedResult | undefined {
  const path = join(dataDir, SEED_MARKER);
  if (!existsSync(path)) return undefined;
  return JSON.parse(readFileSync(path, 'utf8')) as SeedResult;
}

export function writeSeedMarker(dataDir: string, seeded: SeedResult): void {
  const path = join(dataDir, SEED_MARKER);
  writeFileSync(`${path}.tmp`, `${JSON.stringify({ ...seeded, seeded_at: new Date().toISOString() }, null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
}
