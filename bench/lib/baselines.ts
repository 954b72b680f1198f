/** Hello-world servers measured in the same run as the service, as the yardstick for ratios. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../tests/harness/ports.ts';
import { processCpuTimes, type CpuTimes } from './service.ts';

const NODE = fileURLToPath(new URL('../../node_modules/.bin/node', import.meta.url));

const SOURCES = {
  'node:http': `import { createServer } from 'node:http';
    createServer((req, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"hello":"world"}'); })
      .listen(Number(process.env.PORT), '127.0.0.1', () => console.log('ready'));`,
  koa: `import Koa from 'koa';
    const app = new Koa(); app.use((ctx) => { ctx.body = { hello: 'world' }; });
    app.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('ready'));`,
};

export interface Baseline {
  url: string;
  child: ChildProcess;
  cpuTimes(): CpuTimes;
  stop(): void;
}

/** Runs a baseline in its own process (the service under test also gets its own). */
export async function startBaseline(kind: keyof typeof SOURCES): Promise<Baseline> {
  const port = await freePort();
  const child = spawn(NODE, ['--input-type=module', '-e', SOURCES[kind]], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`${kind} baseline exited with ${code}`)));
  });
  return { url: `http://127.0.0.1:${port}/`, child, cpuTimes: () => processCpuTimes(child.pid!), stop: () => child.kill('SIGKILL') };
}

export function machineDescription(): string {
  return `${process.platform} ${process.arch}, Node ${process.version}`;
}
