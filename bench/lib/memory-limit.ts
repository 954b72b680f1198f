/**
 * Runs a benchmarked process under a memory limit, as a container runs under its pod's limit: node
 * sizes its V8 heap from the limit it finds (process.constrainedMemory()), so a process measured
 * without one grows a far larger heap than the same process in the cluster. A child memory cgroup
 * (v2 or v1) of this process's own holds the limit; it needs root, as the project's machines have.
 */
import { mkdirSync, readFileSync, rmdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

export interface MemoryLimit {
  /** The command line that joins the cgroup, then execs `command` (same PID). */
  wrap(command: string, args: string[]): [string, string[]];
  remove(): void;
}

/** This process's memory cgroup directory: the unified one under v2, the memory controller's under v1. */
function ownMemoryCgroup(): { dir: string; limitFile: string } {
  const lines = readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n');
  if (existsSync('/sys/fs/cgroup/cgroup.controllers')) {
    const path = lines.find((l) => l.startsWith('0::'))!.slice(3);
    return { dir: join('/sys/fs/cgroup', path), limitFile: 'memory.max' };
  }
  const v1 = lines.map((l) => l.split(':')).find(([, controllers]) => controllers!.split(',').includes('memory'));
  if (!v1) throw new Error('no memory cgroup controller on this machine');
  return { dir: join('/sys/fs/cgroup/memory', v1[2]!), limitFile: 'memory.limit_in_bytes' };
}

export function createMemoryLimit(bytes: number): MemoryLimit {
  const own = ownMemoryCgroup();
  const dir = join(own.dir, `hma-bench-${randomBytes(4).toString('hex')}`);
  mkdirSync(dir);
  writeFileSync(join(dir, own.limitFile), String(bytes));
  return {
    wrap: (command, args) => ['sh', ['-c', `echo $$ > ${dir}/cgroup.procs && exec "$0" "$@"`, command, ...args]],
    // A cgroup is removed once its processes have exited; rmdir, not rm -r, is how.
    remove: () => rmdirSync(dir),
  };
}
