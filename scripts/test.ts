/**
 * `npm test`'s last step: every vitest project, the node tier's beside the others.
 *
 * The node project's files take turns on one real node and spend most of their time waiting for
 * pods, while the other projects keep both cores busy: one after the other, a warm run took the sum
 * of the two; side by side it takes about the longer one (docs/testing.md, "Measured durations").
 * That needs two vitest processes, because one vitest runs projects with different worker limits
 * one group after another. The node run's report is held back until the other one has printed its
 * own, then followed live, so the two never interleave.
 *
 * With arguments (`npm test -- --project unit`), one plain `vitest run` with them instead.
 */
import { spawn, type ChildProcess } from 'node:child_process';

const NODE_PROJECT = 'node';

function vitest(args: string[], stdio: 'inherit' | 'pipe'): ChildProcess {
  // npm puts node_modules/.bin first on PATH, so this is the project's vitest on the project's node.
  return spawn('vitest', ['run', ...args], { stdio: ['ignore', stdio, stdio] });
}

/** Resolves when the child has exited and its output is all read ('close', not 'exit'); call it at spawn. */
function exitCode(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => child.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}

/** Holds a child's output until `release()`, then passes it through as it comes. */
function heldOutput(child: ChildProcess): { release(): void } {
  const held: Buffer[] = [];
  let live = false;
  const forward = (target: NodeJS.WriteStream) => (chunk: Buffer) => (live ? target.write(chunk) : held.push(chunk));
  child.stdout!.on('data', forward(process.stdout));
  child.stderr!.on('data', forward(process.stderr));
  return {
    release() {
      live = true;
      for (const chunk of held.splice(0)) process.stdout.write(chunk);
    },
  };
}

async function main(args: string[]): Promise<number> {
  if (args.length) return exitCode(vitest(args, 'inherit'));
  const node = vitest(['--project', NODE_PROJECT], 'pipe');
  const nodeDone = exitCode(node);
  const nodeOutput = heldOutput(node);
  const others = vitest(['--project', `!${NODE_PROJECT}`], 'inherit');
  // Ctrl-C reaches both runs from the terminal (a second SIGINT would make vitest skip its teardown);
  // a SIGTERM is for this process alone, so it is passed on.
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => [node, others].forEach((c) => c.kill('SIGTERM')));
  const othersCode = await exitCode(others);
  if (node.exitCode === null) console.log(`\n[test] the other projects are done; the node tier's report follows as it runs\n`);
  nodeOutput.release();
  const nodeCode = await nodeDone;
  return othersCode || nodeCode;
}

process.exitCode = await main(process.argv.slice(2));
