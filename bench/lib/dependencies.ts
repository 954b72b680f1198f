/**
 * A benchmark's PostgreSQL, Redis and MinIO, from the test harness: one database per service, and
 * one close() that stops whatever the benchmark started on them (services first, in reverse order)
 * and then the dependencies themselves, even when the benchmark failed half-way.
 */
import pg from 'pg';
import { startMinio, startPostgres, startRedis } from '../../tests/harness/index.ts';

export interface BenchDependencies {
  /** A database's URL; without a name, the server's default database. */
  postgresUrl(database?: string): string;
  /** A service's environment on these dependencies, with its own database and bucket. */
  serviceEnv(database: string, bucket: string): Record<string, string>;
  /** Stops `stop` on close(), before everything registered earlier. */
  onClose(stop: () => unknown): void;
  close(): Promise<void>;
}

export async function startDependencies(databases: string[]): Promise<BenchDependencies> {
  const [postgres, redis, minio] = await Promise.all([startPostgres(), startRedis(), startMinio()]);
  const closers: Array<() => unknown> = [() => postgres.close(), () => redis.close(), () => minio.close()];
  const deps: BenchDependencies = {
    postgresUrl: (database) => (database ? postgres.urlFor(database) : postgres.url),
    serviceEnv: (database, bucket) => ({
      DATABASE_URL: postgres.urlFor(database),
      REDIS_URL: redis.url,
      S3_ENDPOINT: minio.endpoint,
      S3_ACCESS_KEY: minio.accessKey,
      S3_SECRET_KEY: minio.secretKey,
      S3_BUCKET: bucket,
    }),
    onClose: (stop) => closers.unshift(stop),
    close: async () => {
      for (const close of closers.splice(0))
        await Promise.resolve()
          .then(close)
          .catch(() => undefined);
    },
  };
  try {
    const admin = new pg.Client({ connectionString: postgres.url });
    await admin.connect();
    try {
      for (const database of databases) await admin.query(`CREATE DATABASE ${database}`);
    } finally {
      await admin.end();
    }
    return deps;
  } catch (err) {
    await deps.close();
    throw err;
  }
}
