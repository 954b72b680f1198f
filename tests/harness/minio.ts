/** A throwaway MinIO server, built from its Go module (see build.ts), storing into a temp dir. */
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { binaries } from './paths.ts';
import { freePort } from './ports.ts';
import { spawnManaged, waitUntil, type ManagedProcess } from './process.ts';
import { makeTempDir } from './tempdir.ts';

export interface MinioHandle {
  /** http://127.0.0.1:port, the S3 API endpoint. */
  readonly endpoint: string;
  readonly host: string;
  readonly port: number;
  readonly accessKey: string;
  readonly secretKey: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startMinio(): Promise<MinioHandle> {
  const bin = binaries.minio();
  if (!existsSync(bin)) throw new Error(`minio binary missing at ${bin}: run \`npm run testenv -- prepare\``);
  const dir = makeTempDir('minio');
  const [port, consolePort] = [await freePort(), await freePort()];
  const accessKey = 'hma' + randomBytes(6).toString('hex');
  const secretKey = randomBytes(24).toString('hex');
  const endpoint = `http://127.0.0.1:${port}`;
  let server: ManagedProcess | undefined;

  const start = async () => {
    server = spawnManaged(
      'minio',
      bin,
      ['server', join(dir, 'data'), '--address', `127.0.0.1:${port}`, '--console-address', `127.0.0.1:${consolePort}`, '--quiet'],
      {
        logDir: dir,
        env: { MINIO_ROOT_USER: accessKey, MINIO_ROOT_PASSWORD: secretKey, MINIO_BROWSER: 'off', MINIO_UPDATE: 'off', MINIO_CI_CD: '1' },
      },
    );
    await waitUntil('minio', async () => (await fetch(`${endpoint}/minio/health/ready`)).ok, { timeoutMs: 30_000, process: server });
  };
  const stop = async () => {
    await server?.stop('SIGTERM');
    server = undefined;
  };
  await start();
  return {
    endpoint,
    host: '127.0.0.1',
    port,
    accessKey,
    secretKey,
    start,
    stop,
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
