/**
 * The cross-check load generator: `wrk` (Debian's package), driven by a Lua script this module
 * writes per scenario. One wrk thread (the machine has 2 cores: one for the server, one for the
 * load), closed-loop keep-alive connections, as bench/lib/load.ts. The script's `done()` prints
 * its figures as JSON, so nothing depends on wrk's human-readable report.
 *
 * wrk is not an npm package: `ensureWrk()` installs it with apt-get when it is missing and we are
 * root (the machines and CI run as root), or says how to install it otherwise.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface WrkOptions {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  /** Requests the script may send, in turn (e.g. one per content item, or per student). Default: the URL itself. */
  requests?: Array<{ path?: string; headers?: Record<string, string>; body?: string }>;
  /**
   * A Lua expression for the body of request number `n` (a global counter), for bodies that must
   * differ on every request (e.g. event ids); it may use `n` and `r` (the index into `requests`).
   */
  bodyLua?: string;
  connections: number;
  durationMs: number;
}

export interface WrkResult {
  requests: number;
  /** Socket errors plus answers with a status other than 2xx/3xx. */
  errors: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
}

export function ensureWrk(): void {
  if (hasWrk()) return;
  if (process.getuid?.() !== 0) throw new Error('wrk is missing: install it with `apt-get install -y wrk` (Debian package wrk)');
  process.stderr.write('[bench] installing wrk (apt-get install -y wrk)\n');
  try {
    execFileSync('apt-get', ['install', '-y', 'wrk'], { stdio: 'ignore' });
  } catch {
    execFileSync('apt-get', ['update'], { stdio: 'ignore' });
    execFileSync('apt-get', ['install', '-y', 'wrk'], { stdio: 'ignore' });
  }
  if (!hasWrk()) throw new Error('wrk is still missing after apt-get install');
}

function hasWrk(): boolean {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (err) {
    return (err as { code?: string }).code !== 'ENOENT'; // `wrk --version` exits 1 after printing its version
  }
}

const lua = (s: string) => JSON.stringify(s); // a JSON string literal is a valid Lua string literal for our ASCII inputs

function luaTable(headers: Record<string, string>): string {
  return `{${Object.entries(headers)
    .map(([k, v]) => `[${lua(k)}] = ${lua(v)}`)
    .join(', ')}}`;
}

function script(o: WrkOptions): string {
  const base = new URL(o.url);
  const requests = o.requests?.length ? o.requests : [{}];
  const entries = requests.map(
    (r) =>
      `{ path = ${lua(r.path ?? base.pathname + base.search)}, headers = ${luaTable({ ...o.headers, ...r.headers })}, body = ${r.body === undefined ? 'nil' : lua(r.body)} }`,
  );
  return `
local requests = { ${entries.join(',\n  ')} }
local method = ${lua(o.method ?? 'GET')}
local n = 0
request = function()
  n = n + 1
  local r = (n % #requests) + 1
  local q = requests[r]
  local body = q.body
  ${o.bodyLua ? `body = ${o.bodyLua}` : ''}
  if body ~= nil and q.headers["content-type"] == nil then q.headers["content-type"] = "application/json" end
  return wrk.format(method, q.path, q.headers, body)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK_RESULT {"requests":%d,"duration_us":%d,"errors":%d,"p50_us":%d,"p99_us":%d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
`;
}

export async function runWrk(o: WrkOptions): Promise<WrkResult> {
  if (!/^http:\/\/(127\.\d+\.\d+\.\d+|localhost)(:\d+)?\//.test(o.url)) throw new Error('load tests only target loopback');
  const dir = mkdtempSync(join(tmpdir(), 'hma-wrk-'));
  try {
    const file = join(dir, 'script.lua');
    writeFileSync(file, script(o));
    const seconds = Math.max(1, Math.round(o.durationMs / 1000));
    const { stdout } = await run('wrk', ['-t1', `-c${o.connections}`, `-d${seconds}s`, '--timeout', '10s', '-s', file, o.url], {
      timeout: (seconds + 30) * 1000,
    });
    const line = /^WRK_RESULT (.*)$/m.exec(stdout)?.[1];
    if (!line) throw new Error(`wrk printed no result:\n${stdout}`);
    const r = JSON.parse(line) as { requests: number; duration_us: number; errors: number; p50_us: number; p99_us: number };
    return {
      requests: r.requests,
      errors: r.errors,
      rps: r.requests / (r.duration_us / 1e6),
      p50Ms: r.p50_us / 1000,
      p99Ms: r.p99_us / 1000,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
