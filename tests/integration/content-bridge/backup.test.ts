/**
 * PostgreSQL backups end to end, as the operator's CronJob runs them: pg_dump of a Content Bridge
 * database, `backup/cli.ts upload` into the real MinIO (with retention), then `download latest` and
 * pg_restore into an empty database, which must hold the same users. Real servers only.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as Minio from 'minio';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupKey, BACKUP_PREFIX } from '../../../services/content-bridge/backup/retention.ts';
import { findPostgresBinDir } from '../../harness/postgres.ts';
import { REPO_ROOT } from '../../harness/paths.ts';
import { createTestDatabase, defaultEndpoints, startTestBridge, type TestBridge } from '../support/content-bridge.ts';
import { client, signUp } from '../support/http.ts';

const run = promisify(execFile);
const NODE = `${REPO_ROOT}/node_modules/.bin/node`;
const CLI = 'services/content-bridge/backup/cli.ts';

describe('PostgreSQL backups in the object store', () => {
  let bridge: TestBridge;
  let dir: string;
  let s3: Minio.Client;
  let env: Record<string, string>;
  const bin = (name: string) => join(findPostgresBinDir()!, name);
  /** Runs the CLI as the CronJob does; resolves with its exit code and output, whatever the code. */
  const cli = async (args: string[], extraEnv: Record<string, string | undefined> = {}) => {
    try {
      const { stdout, stderr } = await run(NODE, [CLI, ...args], { cwd: REPO_ROOT, env: { ...env, ...extraEnv } as NodeJS.ProcessEnv });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };
  const keys = async () => {
    const out: string[] = [];
    for await (const o of s3.listObjectsV2(bridge.bucket, BACKUP_PREFIX, true) as AsyncIterable<{ name: string }>) out.push(o.name);
    return out.sort();
  };

  beforeAll(async () => {
    bridge = await startTestBridge();
    dir = mkdtempSync(join(tmpdir(), 'hma-backup-'));
    const { minio } = defaultEndpoints();
    const url = new URL(minio.endpoint);
    s3 = new Minio.Client({
      endPoint: url.hostname,
      port: Number(url.port),
      useSSL: false,
      accessKey: minio.accessKey,
      secretKey: minio.secretKey,
      pathStyle: true,
    });
    env = {
      PATH: process.env.PATH ?? '',
      S3_ENDPOINT: minio.endpoint,
      S3_ACCESS_KEY: minio.accessKey,
      S3_SECRET_KEY: minio.secretKey,
      S3_BUCKET: bridge.bucket,
      BACKUP_RETENTION_DAYS: '7',
    };
  });
  afterAll(async () => {
    await bridge?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('stores a pg_dump, prunes backups past the retention, and restores into an empty database', async () => {
    const api = client(bridge.url);
    await signUp(api, { username: 'backed_up_one' });
    await signUp(api, { username: 'backed_up_two' });
    const day = 86_400_000;
    const old = backupKey(new Date(Date.now() - 10 * day));
    const recent = backupKey(new Date(Date.now() - 3 * day));
    for (const key of [old, recent, `${BACKUP_PREFIX}notes.txt`]) await s3.putObject(bridge.bucket, key, Buffer.from('older backup'));

    const dump = join(dir, 'huntmaster.dump');
    await run(bin('pg_dump'), ['--format=custom', `--file=${dump}`, `--dbname=${bridge.databaseUrl}`]);
    const uploaded = await cli(['upload', dump]);
    expect(uploaded.code, uploaded.stderr).toBe(0);
    expect(uploaded.stdout).toMatch(/stored backups\/postgres\/huntmaster-\d{8}T\d{6}Z\.dump/);
    expect(uploaded.stdout).toContain(`deleted ${old}`);
    const stored = await keys();
    expect(stored).not.toContain(old);
    expect(stored).toEqual(expect.arrayContaining([recent, `${BACKUP_PREFIX}notes.txt`]));
    expect(stored).toHaveLength(3);

    const listed = await cli(['list']);
    expect(
      listed.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(/\s+/)[1]),
    ).toEqual([stored.find((k) => k !== recent && !k.endsWith('.txt')), recent]);

    const restoredFile = join(dir, 'restored.dump');
    expect((await cli(['download', 'latest', restoredFile])).code).toBe(0);
    const target = await createTestDatabase(defaultEndpoints().postgresUrl);
    await run(bin('pg_restore'), ['--no-owner', '--no-privileges', '--exit-on-error', `--dbname=${target}`, restoredFile]);
    const db = new pg.Client({ connectionString: target });
    await db.connect();
    try {
      const { rows } = await db.query<{ username: string }>(
        `SELECT username FROM users.users WHERE username LIKE 'backed_up_%' ORDER BY username`,
      );
      expect(rows.map((r) => r.username)).toEqual(['backed_up_one', 'backed_up_two']);
    } finally {
      await db.end();
    }
  });

  it('refuses an empty dump and stores nothing; names a missing setting; prints usage', async () => {
    const before = await keys();
    const empty = join(dir, 'empty.dump');
    writeFileSync(empty, '');
    const refused = await cli(['upload', empty]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/empty: pg_dump wrote nothing/);
    expect(await keys()).toEqual(before);

    const unset = await cli(['list'], { S3_ENDPOINT: undefined });
    expect(unset.code).toBe(78);
    expect(unset.stderr).toMatch(/S3_ENDPOINT is required/);
    expect((await cli(['restore'])).code).toBe(64);
  });
});
