/** Global setup of the integration project: one PostgreSQL, Redis and MinIO for the whole run. */
import type { TestProject } from 'vitest/node';
import { reapOrphans } from '../harness/process.ts';
import { startMinio, startPostgres, startRedis } from '../harness/index.ts';

export default async function setup(project: TestProject) {
  reapOrphans();
  const [postgres, redis, minio] = await Promise.all([startPostgres(), startRedis(), startMinio()]);
  project.provide('postgresUrl', postgres.url);
  project.provide('redisUrl', redis.url);
  project.provide('minio', { endpoint: minio.endpoint, accessKey: minio.accessKey, secretKey: minio.secretKey });
  return async () => {
    await Promise.allSettled([postgres.close(), redis.close(), minio.close()]);
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string;
    redisUrl: string;
    minio: { endpoint: string; accessKey: string; secretKey: string };
  }
}
