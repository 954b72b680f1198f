/**
 * npm run testenv -- <command>
 *   prepare             install apt packages, build the Go binaries and the node tier's images into
 *                       the cache (idempotent: only what changed is rebuilt)
 *   images              build the node tier's images only (also `npm run images`)
 *   up [--tier T]       start PostgreSQL, Redis, MinIO and a control plane (apiserver|cluster|node|none),
 *                       print the environment to use, and stay up until Ctrl-C
 *   down                kill every component any earlier run left behind, and remove the node tier's leftovers
 */
import { parseArgs } from 'node:util';
import { ensureAptPackages, ensureBinaries, PrerequisiteError, pruneGoCaches } from '../tests/harness/build.ts';
import { cleanupNode } from '../tests/harness/node/cleanup.ts';
import { baseRootfs, ensureImages } from '../tests/harness/node/images.ts';
import { reapOrphans } from '../tests/harness/process.ts';
import { startControlPlane, startMinio, startPostgres, startRedis, type Tier } from '../tests/harness/index.ts';

async function prepare(): Promise<void> {
  const started = Date.now();
  await ensureAptPackages();
  // The node tier's images need root (buildah, mmdebstrap); so does the tier itself.
  const images = process.getuid?.() === 0;
  await Promise.all([ensureBinaries(), images ? baseRootfs() : undefined]);
  if (images) await ensureImages();
  else console.log('[testenv] not root: the node tier and its images are skipped here (they need root)');
  await pruneGoCaches();
  console.log(`[testenv] ready in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

async function up(tier: Tier | 'none'): Promise<void> {
  await prepare();
  reapOrphans();
  const closers: Array<() => Promise<void>> = [];
  const [postgres, redis, minio] = await Promise.all([startPostgres(), startRedis(), startMinio()]);
  closers.push(postgres.close, redis.close, minio.close);
  const env: Record<string, string> = {
    DATABASE_URL: postgres.url,
    REDIS_URL: redis.url,
    S3_ENDPOINT: minio.endpoint,
    S3_ACCESS_KEY: minio.accessKey,
    S3_SECRET_KEY: minio.secretKey,
  };
  if (tier !== 'none') {
    const plane = await startControlPlane({ tier });
    closers.push(plane.close);
    env.KUBECONFIG = plane.kubeconfigPath;
  }
  console.log('# test environment is up; paste these into your shell:');
  for (const [k, v] of Object.entries(env)) console.log(`export ${k}='${v}'`);
  console.log('# Ctrl-C stops everything.');
  const shutdown = async () => {
    for (const close of closers.reverse()) await close().catch((e) => console.error(e));
    process.exit(0);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  await new Promise(() => undefined);
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({ allowPositionals: true, options: { tier: { type: 'string', default: 'apiserver' } } });
  const command = positionals[0] ?? 'help';
  switch (command) {
    case 'prepare':
      return prepare();
    case 'images':
      await ensureBinaries(['minio', 'mc', 'coredns', 'prometheus']);
      await ensureImages();
      return;
    case 'up':
      if (!['apiserver', 'cluster', 'node', 'none'].includes(values.tier!))
        throw new PrerequisiteError(`--tier must be apiserver, cluster, node or none`);
      return up(values.tier as Tier | 'none');
    case 'down':
      console.log(`[testenv] killed ${reapOrphans(true)} leftover processes`);
      if (process.getuid?.() === 0) await cleanupNode();
      return;
    default:
      console.log('usage: npm run testenv -- prepare | images | up [--tier apiserver|cluster|node|none] | down');
  }
}

main().catch((err: Error) => {
  console.error(`[testenv] ${err instanceof PrerequisiteError ? 'missing prerequisite: ' : ''}${err.message}`);
  process.exit(1);
});
