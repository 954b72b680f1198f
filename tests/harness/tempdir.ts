import { chownSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

/** A fresh directory under the system temp dir, optionally owned by another user. */
export function makeTempDir(prefix: string, owner?: string): string {
  const dir = mkdtempSync(join(tmpdir(), `hma-${prefix}-`));
  if (owner) {
    const uid = Number(spawnSync('id', ['-u', owner], { encoding: 'utf8' }).stdout.trim());
    const gid = Number(spawnSync('id', ['-g', owner], { encoding: 'utf8' }).stdout.trim());
    if (Number.isNaN(uid) || Number.isNaN(gid)) throw new Error(`system user ${owner} does not exist`);
    chownSync(dir, uid, gid);
  }
  return dir;
}
