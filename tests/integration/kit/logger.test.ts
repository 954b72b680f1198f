/**
 * Buffered logging in a real child process (stdout is a pipe, as in a container). A process killed
 * outright (SIGKILL: no exit handlers) shows what was really written at that moment, so each case
 * is decided without timing: held lines are lost, errors and unbuffered lines are not.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { waitUntil } from '../../harness/index.ts';

const NODE = fileURLToPath(new URL('../../../node_modules/.bin/node', import.meta.url));
const LOGGER = fileURLToPath(new URL('../../../services/kit/observability/logger.ts', import.meta.url));

/**
 * A child with a kit logger of `bufferBytes`, which runs the commands written to its stdin:
 * `info <msg>`, `error <msg>`, `kill` (SIGKILL itself) and `exit` (a normal exit).
 */
function child(bufferBytes: number) {
  const script = `
    import { createLogger } from ${JSON.stringify(LOGGER)};
    const logger = createLogger({ service: 't', level: 'info', bufferBytes: ${bufferBytes} });
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (text) => {
      for (const line of text.split('\\n').filter(Boolean)) {
        const [command, msg] = line.split(' ');
        if (command === 'info') logger.info(msg);
        if (command === 'error') logger.error(msg);
        if (command === 'kill') process.kill(process.pid, 'SIGKILL');
        if (command === 'exit') process.exit(0);
      }
    });
    process.stderr.write('ready\\n');
  `;
  const proc = spawn(NODE, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  // 'close', not 'exit': 'exit' can come before the pipe has delivered the child's last writes,
  // which a busy machine makes likely, and the tests read the output as soon as this resolves.
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => proc.on('close', (code, signal) => resolve(signal ?? code)));
  return {
    ready: () => waitUntil('child ready', async () => err.includes('ready'), { timeoutMs: 20_000 }),
    /** Sends commands in one write, so the child runs them in one go. */
    send: (...commands: string[]) => proc.stdin.write(`${commands.join('\n')}\n`),
    messages: () =>
      out
        .split('\n')
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as { msg: string }).msg),
    exited,
  };
}

describe('buffered logger (LOG_BUFFER_BYTES)', () => {
  it('holds info lines: a process killed at once has not written them', async () => {
    const c = child(4096);
    await c.ready();
    c.send('info held', 'kill');
    expect(await c.exited).toBe('SIGKILL');
    expect(c.messages()).toEqual([]);
  });

  it('writes an error at once, with the lines held before it', async () => {
    const c = child(4096);
    await c.ready();
    c.send('info before', 'error boom', 'kill');
    expect(await c.exited).toBe('SIGKILL');
    expect(c.messages()).toEqual(['before', 'boom']);
  });

  it('writes held lines within about a second, and everything on a normal exit', async () => {
    const c = child(4096);
    await c.ready();
    c.send('info first');
    await waitUntil('the held line is written', async () => c.messages().includes('first'), { timeoutMs: 5000 });
    c.send('info last', 'exit');
    expect(await c.exited).toBe(0);
    expect(c.messages()).toEqual(['first', 'last']);
  });

  it('takes the largest buffer LOG_BUFFER_BYTES allows (64 KiB, above the default write size of sonic-boom)', async () => {
    const c = child(65_536);
    await c.ready();
    c.send('info before', 'error boom', 'info last', 'exit');
    expect(await c.exited).toBe(0);
    expect(c.messages()).toEqual(['before', 'boom', 'last']);
  });

  it('with 0, writes every line synchronously', async () => {
    const c = child(0);
    await c.ready();
    c.send('info now', 'kill');
    expect(await c.exited).toBe('SIGKILL');
    expect(c.messages()).toEqual(['now']);
  });
});
