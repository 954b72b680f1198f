/**
 * The operator bench's memory limit (bench/lib/memory-limit.ts): a process started through wrap()
 * finds the limit as a pod's container would (node's process.constrainedMemory()), and remove()
 * leaves no cgroup behind. Needs root, as the node tier does.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createMemoryLimit } from '../../../bench/lib/memory-limit.ts';

const MiB = 1024 ** 2;

describe('a memory limit for a benchmarked process', () => {
  it('is the limit node finds in the wrapped process, and its cgroup is gone after remove()', () => {
    const limit = createMemoryLimit(96 * MiB);
    let cgroupOfChild: string;
    try {
      const [command, args] = limit.wrap(process.execPath, [
        '-e',
        'console.log(JSON.stringify({ limit: process.constrainedMemory(), cgroup: require("fs").readFileSync("/proc/self/cgroup", "utf8") }))',
      ]);
      const run = spawnSync(command, args, { encoding: 'utf8' });
      expect(run.status, run.stderr).toBe(0);
      const seen = JSON.parse(run.stdout) as { limit: number; cgroup: string };
      expect(seen.limit).toBe(96 * MiB);
      cgroupOfChild = seen.cgroup;
      expect(cgroupOfChild).toMatch(/hma-bench-[0-9a-f]{8}/);
      // This process stays where it was: only the child joined.
      expect(readFileSync('/proc/self/cgroup', 'utf8')).not.toMatch(/hma-bench-/);
    } finally {
      limit.remove();
    }
    const name = /hma-bench-[0-9a-f]{8}/.exec(cgroupOfChild)![0];
    const roots = ['/sys/fs/cgroup', '/sys/fs/cgroup/memory'];
    const own = readFileSync('/proc/self/cgroup', 'utf8');
    const paths = own.split('\n').map((l) => l.split(':')[2] ?? '');
    expect(roots.some((root) => paths.some((p) => existsSync(`${root}${p}/${name}`)))).toBe(false);
  });
});
