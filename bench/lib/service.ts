/**
 * Runs a service's own entry point (services/<name>/main.ts) as a separate process, as in production
 * (the same `node --import register-tracing.ts` command line as the images),
 * and reads its CPU time from /proc, so a benchmark can report server CPU per request: a figure much
 * less sensitive to the shared machine's noise than requests per second.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { freePort, waitUntil } from '../../tests/harness/index.ts';
import { REPO_ROOT } from '../../tests/harness/paths.ts';

export interface ServiceProcess {
  url: string;
  pid: number;
  /** User + system CPU seconds the process has used so far. */
  cpuSeconds(): number;
  cpuTimes(): CpuTimes;
  stop(): Promise<void>;
}

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** CPU seconds a process has used so far: in its own code (user) and in the kernel for it (system). */
export interface CpuTimes {
  user: number;
  system: number;
}

export function processCpuTimes(pid: number): CpuTimes {
  // Fields after the parenthesised command name: utime and stime are the 12th and 13th.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) / CLOCK_TICKS, system: Number(fields[12]) / CLOCK_TICKS };
}

export function processCpuSeconds(pid: number): number {
  const { user, system } = processCpuTimes(pid);
  return user + system;
}

/**
 * `BENCH_PROFILE=<dir>` adds `--cpu-prof` (written to <dir> when the service stops) for finding
 * where a scenario spends its time; `BENCH_PERF_MAP=1` adds `--perf-basic-prof` for Linux `perf`,
 * whose samples, unlike V8's, do not pile up on system calls; `BENCH_NODE_FLAGS` adds node flags;
 * `BENCH_LOG_LEVEL` replaces the services' `info` (e.g. `warn`: what the access log costs).
 */
export async function startService(name: 'content-bridge' | 'ml-server', env: Record<string, string>): Promise<ServiceProcess> {
  const port = await freePort();
  const nodeFlags = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  // For `perf record -p <pid>`: V8 writes /tmp/perf-<pid>.map so perf can name JavaScript frames.
  if (process.env.BENCH_PERF_MAP) nodeFlags.push('--perf-basic-prof');
  if (process.env.BENCH_NODE_FLAGS) nodeFlags.push(...process.env.BENCH_NODE_FLAGS.split(' '));
  // As the images start it (Dockerfile CMD): tracing preloaded, which must cost nothing without an exporter.
  const tracing = ['--import', './services/kit/observability/register-tracing.ts'];
  const child = spawn(`${REPO_ROOT}/node_modules/.bin/node`, [...nodeFlags, ...tracing, `services/${name}/main.ts`], {
    cwd: REPO_ROOT,
    // Logs at info level go to /dev/null, as a container's stdout costs the process the same write.
    env: { PATH: process.env.PATH, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(`${name} ready`, async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200, {
    timeoutMs: 60_000,
  });
  return {
    url,
    pid: child.pid!,
    cpuSeconds: () => processCpuSeconds(child.pid!),
    cpuTimes: () => processCpuTimes(child.pid!),
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
