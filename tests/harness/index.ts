/** The test harness: real PostgreSQL, Redis, MinIO and Kubernetes control planes, started on demand. */
export { startPostgres, type PostgresHandle } from './postgres.ts';
export { startRedis, type RedisHandle } from './redis.ts';
export { startMinio, type MinioHandle } from './minio.ts';
export { fakeNode, startControlPlane, type ControlPlane, type Tier } from './controlplane.ts';
export { freePort } from './ports.ts';
export { binaries } from './paths.ts';
export { waitUntil } from './process.ts';
