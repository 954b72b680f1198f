/**
 * Names and retention of PostgreSQL backups in the object store. The time is in the key
 * (`<prefix>huntmaster-20261122T030000Z.dump`), so retention needs no object metadata and a copied
 * bucket keeps its history.
 */
export const BACKUP_PREFIX = 'backups/postgres/';
const NAME = /huntmaster-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z\.dump$/;

/** The key of a backup taken at `at`. */
export function backupKey(at: Date, prefix = BACKUP_PREFIX): string {
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
  return `${prefix}huntmaster-${stamp}.dump`;
}

/** When the backup under `key` was taken, or undefined for a key this tool did not write. */
export function backupTime(key: string): Date | undefined {
  const m = NAME.exec(key);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m;
  return new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}Z`);
}

/** The backups among `keys`, newest first. */
export function backupsNewestFirst(keys: readonly string[]): { key: string; at: Date }[] {
  return keys
    .flatMap((key) => {
      const at = backupTime(key);
      return at ? [{ key, at }] : [];
    })
    .sort((a, b) => b.at.getTime() - a.at.getTime());
}

/**
 * The backups older than `retentionDays` at `now`. The newest backup is never among them, so a
 * platform whose backups stopped keeps its last one however old it gets. Other keys are left alone.
 */
export function expiredBackups(keys: readonly string[], now: Date, retentionDays: number): string[] {
  const cutoff = now.getTime() - retentionDays * 86_400_000;
  return backupsNewestFirst(keys)
    .slice(1)
    .filter((b) => b.at.getTime() < cutoff)
    .map((b) => b.key);
}
