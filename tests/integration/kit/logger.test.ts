/**
 * Buffered logging in a real child process (stdout is a pipe, as in a container): lines are held
 * briefly, errors go out at once, and nothing is lost when the process exits.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { waitUntil } from '../../harness/index.ts';

const NODE = fileURLToPath(new URL('../../../node_modules/.bin/node', import.meta.url));
const LOGGER = fileURLToPath(new URL('../../../services/kit/observability/logger.ts', import.meta.url));

/** Runs `script` with `logger` created from the kit, and collects its stdout. */
function run(script: string) {
  const child = spawn(NODE, ['--input-type=module', '-e', `import { createLogger } from ${JSON.stringify(LOGGER)};\n${script}`], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const lines = () =>
    out
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { msg: string; level: string });
  return { child, lines, exited };
}

describe('buffered logger', () => {
  it('holds info lines briefly, writes errors at once, and flushes everything on exit', async () => {
    const p = run(`
      const logger = createLogger({ service: 't', level: 'info', bufferBytes: 4096 });
      process.stdin.on('data', (d) => {
        const command = d.toString().trim();
        if (command === 'info') logger.info('first');
        if (command === 'error') logger.error('boom');
        if (command === 'exit') { logger.info('last words'); process.exit(0); }
      });
    `);
    p.child.stdin.write('info\n');
    // Within the flush interval the line is still held...
    await new Promise((r) => setTimeout(r, 300));
    expect(p.lines().map((l) => l.msg)).not.toContain('first');
    // ...and written within about a second.
    await waitUntil('the held line is written', async () => p.lines().some((l) => l.msg === 'first'), { timeoutMs: 3000 });

    const asked = Date.now();
    p.child.stdin.write('error\n');
    await waitUntil('the error is written', async () => p.lines().some((l) => l.msg === 'boom'), { timeoutMs: 3000 });
    expect(Date.now() - asked).toBeLessThan(800); // not the 1 s interval: at once

    p.child.stdin.write('exit\n');
    expect(await p.exited).toBe(0);
    expect(p.lines().map((l) => l.msg)).toEqual(['first', 'boom', 'last words']);
  });

  it('writes every line at once with bufferBytes 0', async () => {
    const p = run(`
      const logger = createLogger({ service: 't', level: 'info', bufferBytes: 0 });
      process.stdin.on('data', () => logger.info('now'));
    `);
    p.child.stdin.write('\n');
    await waitUntil('started', async () => p.lines().length === 1, { timeoutMs: 10_000 });
    // Each line shows at once: a held line would wait for the 1 s flush.
    for (let n = 2; n <= 4; n++) {
      const asked = Date.now();
      p.child.stdin.write('\n');
      await waitUntil(`line ${n} is written`, async () => p.lines().length === n, { timeoutMs: 3000 });
      expect(Date.now() - asked).toBeLessThan(500);
    }
    p.child.kill('SIGKILL');
  });
});
