/**
 * `npm test`'s last step: every vitest project, the node tier's beside the others.
 *
 * The node project's files take turns on one real node and spend most of their time waiting for
 * pods, while the other projects keep both cores busy: one after the other, a warm run took the sum
 * of the two; side by side it takes about the longer one (docs/testing.md, "Measured durations").
 * On a new machine the node tier's own builds and images (`testenv prepare`, which `npm test` ran
 * with --without-node-tier) are made on this side too, while the other tiers' tests run.
 *
 * That needs two vitest processes, because one vitest runs projects with different worker limits
 * one group after another. The node side's report is held back until the other side has printed
 * its own, then followed live, so the two never interleave.
 *
 * With arguments (`npm test -- --project unit`), one plain `vitest run` with them instead.
 */
import { spawn, type ChildProcess } from 'node:child_process';

const NODE_PROJECT = 'node';
const running = new Set<ChildProcess>();

/** npm puts node_modules/.bin first on PATH: `node` and `vitest` are the project's. */
function start(command: string, args: string[], stdio: 'inherit' | 'pipe'): ChildProcess {
  const child = spawn(command, args, { stdio: ['ignore', stdio, stdio] });
  running.add(child);
  child.on('close', () => running.delete(child));
  return child;
}

/** Resolves when the child has exited and its output is all read ('close', not 'exit'); call it at start. */
function exitCode(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => child.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}

/** Holds the output of the children attached until `release()`, then passes it through as it comes. */
function heldOutput() {
  const held: Buffer[] = [];
  let live = false;
  const forward = (chunk: Buffer) => (live ? process.stdout.write(chunk) : held.push(chunk));
  return {
    attach(child: ChildProcess): ChildProcess {
      child.stdout!.on('data', forward);
      child.stderr!.on('data', forward);
      return child;
    },
    release() {
      live = true;
      for (const chunk of held.splice(0)) process.stdout.write(chunk);
    },
  };
}

async function nodeSide(output: ReturnType<typeof heldOutput>): Promise<number> {
  const prepared = output.attach(start('node', ['scripts/testenv.ts', 'prepare'], 'pipe'));
  const code = await exitCode(prepared);
  if (code !== 0) return code;
  return exitCode(output.attach(start('vitest', ['run', '--project', NODE_PROJECT], 'pipe')));
}

async function main(args: string[]): Promise<number> {
  if (args.length) return exitCode(start('vitest', ['run', ...args], 'inherit'));
  // Ctrl-C reaches every child from the terminal (a second SIGINT would make vitest skip its
  // teardown); a SIGTERM is for this process alone, so it is passed on.
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => running.forEach((c) => c.kill('SIGTERM')));
  const nodeOutput = heldOutput();
  const nodeDone = nodeSide(nodeOutput);
  const othersCode = await exitCode(start('vitest', ['run', '--project', `!${NODE_PROJECT}`], 'inherit'));
  if (running.size) console.log(`\n[test] the other projects are done; the node tier's report follows as it runs\n`);
  nodeOutput.release();
  const nodeCode = await nodeDone;
  return othersCode || nodeCode;
}

process.exitCode = await main(process.argv.slice(2));
