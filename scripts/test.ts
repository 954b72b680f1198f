/**
 * `npm test` after `testenv prepare`: the checks and every vitest project, in two sides at once.
 *
 * - The node side runs the node project: its files take turns on one real node and spend most of
 *   their time waiting for pods.
 * - The other side runs `npm run check`, then every other project, which keep both cores busy.
 *   The projects run even when the check fails, so one run reports both; either failing fails it.
 *
 * One after the other, a warm run took the sum of the two; side by side it takes about the longer
 * side (docs/testing.md, "Measured durations"). The node tier's own builds stay in `prepare`, before
 * both: built beside the tests they slowed them, and the node side then ran alone at the end.
 * Two vitest processes, because one vitest runs projects with different worker limits one group
 * after another. The node side's report is held back until the other side has printed its own,
 * then followed live, so the two never interleave.
 *
 * Each side also writes a JSON report; the failed tests of both are listed last, with file, line and
 * message, because CI shows the end of the output and the node side's report comes after the other's.
 *
 * With arguments (`npm test -- --project unit`), one plain `vitest run` with them instead.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { failureSummary } from './test-report.ts';

const NODE_PROJECT = 'node';
const running = new Set<ChildProcess>();

/** npm puts node_modules/.bin first on PATH: `npm`, `node` and `vitest` are the ones it runs with. */
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

/** Holds a child's output until `release()`, then passes it through as it comes. */
function heldOutput(child: ChildProcess): { release(): void } {
  const held: Buffer[] = [];
  let live = false;
  const forward = (chunk: Buffer) => (live ? process.stdout.write(chunk) : held.push(chunk));
  child.stdout!.on('data', forward);
  child.stderr!.on('data', forward);
  return {
    release() {
      live = true;
      for (const chunk of held.splice(0)) process.stdout.write(chunk);
    },
  };
}

/** The live report, and a JSON one that `failureSummary` reads. */
const reporters = (jsonFile: string) => ['--reporter=default', '--reporter=json', `--outputFile.json=${jsonFile}`];

async function otherSide(jsonFile: string): Promise<number> {
  const checked = await exitCode(start('npm', ['run', 'check'], 'inherit'));
  if (checked) console.log('\n[test] npm run check failed (its output is above); the tests run all the same\n');
  const tested = await exitCode(start('vitest', ['run', '--project', `!${NODE_PROJECT}`, ...reporters(jsonFile)], 'inherit'));
  return checked || tested;
}

async function main(args: string[]): Promise<number> {
  if (args.length) return exitCode(start('vitest', ['run', ...args], 'inherit'));
  // Ctrl-C reaches every child from the terminal (a second SIGINT would make vitest skip its
  // teardown); a SIGTERM is for this process alone, so it is passed on.
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => running.forEach((c) => c.kill('SIGTERM')));
  const reports = mkdtempSync(join(tmpdir(), 'hma-test-reports-'));
  const [nodeJson, othersJson] = [join(reports, 'node.json'), join(reports, 'others.json')];
  const node = start('vitest', ['run', '--project', NODE_PROJECT, ...reporters(nodeJson)], 'pipe');
  const nodeDone = exitCode(node);
  const nodeOutput = heldOutput(node);
  const othersCode = await otherSide(othersJson);
  if (running.size) console.log(`\n[test] the other side is done; the node tier's report follows as it runs\n`);
  nodeOutput.release();
  const nodeCode = await nodeDone;
  const failures = failureSummary([othersJson, nodeJson]);
  rmSync(reports, { recursive: true, force: true });
  if (failures.length) console.log(`\n[test] failed:\n${failures.map((f) => `  ${f}`).join('\n')}`);
  if (othersCode || nodeCode) console.log(`\n[test] exit codes: checks and other projects ${othersCode}, node tier ${nodeCode}`);
  return othersCode || nodeCode;
}

process.exitCode = await main(process.argv.slice(2));
