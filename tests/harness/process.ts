/**
 * Child processes that never outlive the test run: each is killed on teardown, on exit of this
 * process, by its parent-death signal if this process is killed, and by the reaper of the next run.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runDir } from './paths.ts';

export interface ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly logFile: string;
  readonly exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
  logTail(): string;
}

const live = new Set<ManagedProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const p of live) {
      try {
        p.child.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
  });
}

const hasSetpriv = (() => {
  let cached: boolean | undefined;
  return () => (cached ??= spawnSync('setpriv', ['--help']).status === 0);
})();

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  logDir: string;
  /** Run as this system user (used for PostgreSQL, which refuses to run as root). */
  user?: string;
  /** Run inside this named network namespace (/run/netns/<name>), joining only its network. */
  netns?: string;
}

export function spawnManaged(name: string, command: string, args: string[], opts: SpawnOptions): ManagedProcess {
  installExitHook();
  mkdirSync(opts.logDir, { recursive: true });
  const logFile = join(opts.logDir, `${name}.log`);
  // setpriv sets PR_SET_PDEATHSIG, so the child dies even if this process is SIGKILLed.
  let cmd = command;
  let argv = args;
  if (opts.netns) {
    cmd = 'nsenter';
    argv = [`--net=/run/netns/${opts.netns}`, '--', command, ...args];
  }
  if (hasSetpriv()) {
    const userArgs = opts.user ? ['--reuid', opts.user, '--regid', opts.user, '--init-groups'] : [];
    argv = [...userArgs, '--pdeathsig', 'KILL', '--', cmd, ...argv];
    cmd = 'setpriv';
  } else if (opts.user) {
    argv = ['-u', opts.user, '--', cmd, ...argv];
    cmd = 'runuser';
  }
  const child = spawn(cmd, argv, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = createWriteStream(logFile, { flags: 'a' });
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => resolve(code));
    child.on('error', () => resolve(-1));
  });
  const pidFile = join(runDir(), `${process.pid}-${child.pid}.pid`);
  mkdirSync(runDir(), { recursive: true });
  writeFileSync(pidFile, `${process.pid} ${child.pid} ${name}\n`);

  const managed: ManagedProcess = {
    name,
    child,
    logFile,
    exited,
    logTail: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-4000) : ''),
    async stop(signal = 'SIGTERM', graceMs = 10_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      live.delete(managed);
      rmSync(pidFile, { force: true });
    },
  };
  void exited.then(() => {
    live.delete(managed);
    rmSync(pidFile, { force: true });
  });
  live.add(managed);
  return managed;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Kills components left by earlier runs whose owning process is gone. Returns how many it killed. */
export function reapOrphans(all = false): number {
  if (!existsSync(runDir())) return 0;
  let killed = 0;
  for (const file of readdirSync(runDir()).filter((f) => f.endsWith('.pid'))) {
    const [owner, pid] = readFileSync(join(runDir(), file), 'utf8').split(' ').map(Number);
    if (!owner || !pid) continue;
    if (all || !isAlive(owner)) {
      if (isAlive(pid)) {
        try {
          process.kill(pid, 'SIGKILL');
          killed++;
        } catch {
          /* raced with its exit */
        }
      }
      rmSync(join(runDir(), file), { force: true });
    }
  }
  return killed;
}

/** Polls `probe` until it resolves truthy, failing with the component's log tail on timeout or exit. */
export async function waitUntil(
  what: string,
  probe: () => Promise<boolean>,
  opts: { timeoutMs: number; process?: ManagedProcess },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    if (opts.process && opts.process.child.exitCode !== null) {
      throw new Error(`${what}: process exited with ${opts.process.child.exitCode}\n${opts.process.logTail()}`);
    }
    try {
      if (await probe()) return;
    } catch (err) {
      lastError = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what}: not ready after ${opts.timeoutMs} ms (${lastError})\n${opts.process?.logTail() ?? ''}`);
}
