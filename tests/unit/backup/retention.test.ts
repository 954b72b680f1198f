/** Backup keys and retention: the time lives in the key, and the newest backup always stays. */
import { describe, expect, it } from 'vitest';
import { backupKey, backupsNewestFirst, backupTime, expiredBackups } from '../../../services/content-bridge/backup/retention.ts';

const at = (iso: string) => new Date(iso);
const days = (n: number) => n * 86_400_000;

describe('backup keys', () => {
  it('carry the UTC time to the second, and read back', () => {
    const key = backupKey(at('2026-11-22T03:00:07.123Z'));
    expect(key).toBe('backups/postgres/huntmaster-20261122T030007Z.dump');
    expect(backupTime(key)).toEqual(at('2026-11-22T03:00:07Z'));
    expect(backupTime('backups/postgres/notes.txt')).toBeUndefined();
  });

  it('sort newest first, skipping keys this tool did not write', () => {
    const keys = [backupKey(at('2026-11-20T03:00:00Z')), 'backups/postgres/notes.txt', backupKey(at('2026-11-22T03:00:00Z'))];
    expect(backupsNewestFirst(keys).map((b) => b.key)).toEqual([keys[2], keys[0]]);
  });
});

describe('expiredBackups', () => {
  const now = at('2026-11-22T03:00:00Z');
  const taken = (ageDays: number) => backupKey(new Date(now.getTime() - days(ageDays)));

  it('lists the backups older than the retention, and nothing else', () => {
    const keys = [taken(0), taken(3), taken(6.9), taken(7.1), taken(30), 'backups/postgres/keep-me.sql'];
    expect(expiredBackups(keys, now, 7)).toEqual([taken(7.1), taken(30)]);
  });

  it('never lists the newest backup, however old', () => {
    expect(expiredBackups([taken(400), taken(500)], now, 7)).toEqual([taken(500)]);
    expect(expiredBackups([taken(400)], now, 7)).toEqual([]);
    expect(expiredBackups([], now, 7)).toEqual([]);
  });
});
