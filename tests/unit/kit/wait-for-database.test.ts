/**
 * The migrate CLI waits for a database that is still starting (a migration Job racing a fresh
 * PostgreSQL pod), with a bound, and says so in its log and its exit code.
 */
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { EXIT_DATABASE_UNREACHABLE } from '../../../services/kit/deps/migrate-cli.ts';
import { DependencyUnavailableError } from '../../../services/kit/deps/errors.ts';
import { DatabaseUnreachableError, waitForDatabase } from '../../../services/kit/deps/wait-for-database.ts';
import { REPO_ROOT } from '../../harness/paths.ts';

/** A clock that only moves when the code under test sleeps. */
function fakeTime() {
  let t = 0;
  const sleeps: number[] = [];
  return { now: () => t, sleep: async (ms: number) => void (sleeps.push(ms), (t += ms)), sleeps };
}
const refused = () => Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:5432'), { code: 'ECONNREFUSED' });

describe('waitForDatabase', () => {
  it('retries while the server cannot be reached, with capped exponential backoff, logging each wait', async () => {
    const time = fakeTime();
    const lines: string[] = [];
    let calls = 0;
    const ping = async () => {
      if (++calls < 7) throw new DependencyUnavailableError('postgres', refused());
    };
    await waitForDatabase(ping, { timeoutMs: 300_000, firstDelayMs: 1000, maxDelayMs: 8000, log: (l) => lines.push(l), ...time });
    expect(time.sleeps).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
    expect(lines).toHaveLength(7);
    expect(lines[0]).toMatch(/^waiting for the database \(attempt 1 failed: .*ECONNREFUSED.*\); next try in 1 s$/);
    expect(lines.at(-1)).toBe('database is reachable (attempt 7)');
  });

  it('gives up at the bound with a clear error, and fails at once on an error waiting cannot fix', async () => {
    const time = fakeTime();
    const never = async () => {
      throw refused();
    };
    await expect(waitForDatabase(never, { timeoutMs: 10_000, firstDelayMs: 1000, log: () => undefined, ...time })).rejects.toThrow(
      DatabaseUnreachableError,
    );
    expect(time.sleeps.reduce((a, b) => a + b, 0)).toBe(10_000);
    const badPassword = Object.assign(new Error('password authentication failed for user "huntmaster"'), { code: '28P01' });
    let calls = 0;
    const wrong = async () => {
      calls++;
      throw badPassword;
    };
    await expect(waitForDatabase(wrong, { timeoutMs: 10_000, log: () => undefined, ...fakeTime() })).rejects.toBe(badPassword);
    expect(calls).toBe(1);
  });
});

describe('the migrate CLI', () => {
  it('waits for a database that never answers, then exits 69 saying why', async () => {
    // A port that refuses connections: bound, then closed.
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const started = Date.now();
    const res = spawnSync(`${REPO_ROOT}/node_modules/.bin/node`, ['services/content-bridge/migrate.ts'], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH, DATABASE_URL: `postgresql://u:p@127.0.0.1:${port}/hma`, MIGRATE_WAIT_SECONDS: '3' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(res.status, res.stderr).toBe(EXIT_DATABASE_UNREACHABLE);
    expect(res.stdout).toMatch(/waiting for the database \(attempt 1 failed: .*\); next try in 1 s/);
    expect(res.stdout).toMatch(/attempt 2 failed/);
    expect(res.stderr).toMatch(/migration not started: database unreachable after \d+ attempts in 3 s/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(3000);
  });
});
