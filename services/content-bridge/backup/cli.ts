/**
 * PostgreSQL backups in the platform's object store; the operator's backup CronJob runs `upload`
 * on the file pg_dump wrote. Commands:
 *   upload <file>              store it as backups/postgres/huntmaster-<UTC time>.dump, then delete
 *                              backups older than BACKUP_RETENTION_DAYS (never the newest)
 *   list                       the stored backups, newest first
 *   download <key|latest> <file>
 * Settings come from the S3_* variables the APIs use. Exit codes: 0 done, 1 failed, 64 usage, 78 config.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { commonEnv, exitOnConfigError, parseEnv } from '../../kit/config.ts';
import { createS3ObjectStore, type ObjectStore } from '../../kit/deps/object-store.ts';
import { backupKey, backupsNewestFirst, BACKUP_PREFIX, expiredBackups } from './retention.ts';

const USAGE = 'usage: backup/cli.ts upload <file> | list | download <key|latest> <file>';

function store(): { store: ObjectStore; retentionDays: number } {
  let config;
  try {
    config = parseEnv({
      S3_ENDPOINT: commonEnv.S3_ENDPOINT.unwrap(),
      S3_ACCESS_KEY: commonEnv.S3_ACCESS_KEY.unwrap(),
      S3_SECRET_KEY: commonEnv.S3_SECRET_KEY.unwrap(),
      S3_BUCKET: commonEnv.S3_BUCKET,
      S3_REGION: commonEnv.S3_REGION,
      BACKUP_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(7),
    });
  } catch (err) {
    exitOnConfigError(err);
  }
  return {
    store: createS3ObjectStore({
      endpoint: config.S3_ENDPOINT,
      accessKey: config.S3_ACCESS_KEY,
      secretKey: config.S3_SECRET_KEY,
      bucket: config.S3_BUCKET,
      region: config.S3_REGION,
    }),
    retentionDays: config.BACKUP_RETENTION_DAYS,
  };
}

async function upload(file: string): Promise<void> {
  const { store: s3, retentionDays } = store();
  const { size } = await stat(file);
  if (size === 0) throw new Error(`${file} is empty: pg_dump wrote nothing`);
  const key = backupKey(new Date());
  await s3.put(key, createReadStream(file), { contentType: 'application/octet-stream', size });
  console.log(`stored ${key} (${size} bytes)`);
  for (const old of expiredBackups(await s3.list(BACKUP_PREFIX), new Date(), retentionDays)) {
    await s3.remove(old);
    console.log(`deleted ${old} (older than ${retentionDays} days)`);
  }
}

async function list(): Promise<void> {
  const { store: s3 } = store();
  for (const b of backupsNewestFirst(await s3.list(BACKUP_PREFIX))) console.log(`${b.at.toISOString()}  ${b.key}`);
}

async function download(which: string, file: string): Promise<void> {
  const { store: s3 } = store();
  const key = which === 'latest' ? backupsNewestFirst(await s3.list(BACKUP_PREFIX))[0]?.key : which;
  if (!key) throw new Error(`no backups under ${BACKUP_PREFIX}`);
  await pipeline(await s3.get(key), createWriteStream(file));
  console.log(`downloaded ${key} to ${file}`);
}

const [command, ...args] = process.argv.slice(2);
const run =
  command === 'upload' && args.length === 1
    ? () => upload(args[0]!)
    : command === 'list' && args.length === 0
      ? list
      : command === 'download' && args.length === 2
        ? () => download(args[0]!, args[1]!)
        : undefined;
if (!run) {
  console.error(USAGE);
  process.exit(64);
}
try {
  await run();
} catch (err) {
  console.error(`backup ${command} failed: ${(err as Error).message}`);
  process.exitCode = 1;
}
