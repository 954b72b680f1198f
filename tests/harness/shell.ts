/** Running the build and setup commands of the test environment, with their output kept for errors. */
import { spawn } from 'node:child_process';

export function log(line: string): void {
  process.stdout.write(`[testenv] ${line}\n`);
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Resolve with the output even when the command exits non-zero. */
  allowFailure?: boolean;
  /** Text written to the command's standard input. */
  input?: string;
}

/** Runs a command to completion; rejects with the tail of its output when it fails. Resolves with stdout. */
export function runOutput(cmd: string, args: string[], opts: RunOptions = {}): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-8000);
    };
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      keep(chunk);
    });
    child.stderr!.on('data', keep);
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    child.on('error', (err) => reject(new Error(`could not run ${cmd}: ${err.message}`)));
    child.on('exit', (code) => {
      if (code === 0 || opts.allowFailure) resolvePromise(stdout);
      else reject(new Error(`${cmd} ${args.slice(0, 3).join(' ')} failed (exit ${code}):\n${output.trim()}`));
    });
  });
}

/** Runs a build step; `step` names it in the error. */
export async function run(step: string, cmd: string, args: string[], opts: RunOptions = {}): Promise<void> {
  try {
    await runOutput(cmd, args, opts);
  } catch (err) {
    throw new Error(`${step}: ${(err as Error).message}`, { cause: err });
  }
}
