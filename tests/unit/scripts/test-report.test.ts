/**
 * The failure list `npm test` prints last, read from a JSON report that the installed vitest really
 * wrote: a child vitest runs a file with one failing and one passing test.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { failureSummary } from '../../../scripts/test-report.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'hma-test-report-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the failure summary of npm test', () => {
  it('names each failed test with its file, line and first message line, and nothing that passed', () => {
    const testFile = join(dir, 'sample.test.ts');
    writeFileSync(
      testFile,
      [
        "import { expect, it } from 'vitest';",
        "it('fails on purpose', () => expect(1).toBe(2));",
        "it('passes', () => expect(1).toBe(1));",
        '',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'vitest.config.mjs'), 'export default {};\n'); // not the project's
    const report = join(dir, 'report.json');
    const run = spawnSync(
      join(ROOT, 'node_modules/.bin/vitest'),
      ['run', '--root', dir, '--config', join(dir, 'vitest.config.mjs'), '--reporter=json', `--outputFile.json=${report}`, testFile],
      { cwd: dir, encoding: 'utf8', timeout: 60_000 },
    );
    expect(run.status, run.stderr).toBe(1);
    expect(existsSync(report), run.stderr).toBe(true);
    const lines = failureSummary([report, join(dir, 'never-written.json')]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/sample\.test\.ts:2 > fails on purpose: AssertionError: expected 1 to be 2/);
  }, 60_000);
});
