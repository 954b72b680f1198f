/**
 * `npm start` as a person runs it: a child process in its own process group (so SIGINT reaches it as
 * Ctrl-C in a terminal does), a fresh data directory and free ports, no database, Redis or S3
 * configured. First start: the generated admin password is printed once; log in, upload a file
 * through the presigned URL the API serves, download it, post learning events, predict with the
 * seeded model; Ctrl-C. Second start on the same directory: no password printed, and the same
 * password, file, events and model are all still there.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../harness/ports.ts';
import { client, type Client } from '../support/http.ts';

const ROOT = new URL('../../../', import.meta.url).pathname;
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** The caller's environment without anything that would select a real driver or an admin. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env)) {
    if (
      /^(DATABASE_URL|REDIS_URL|S3_|ADMIN_|JWT_|HMA_|CONTENT_BRIDGE_PORT|ML_SERVER_PORT|PORT$|HOST$|PUBLIC_BASE_URL|LOG_LEVEL)/.test(name)
    )
      delete env[name];
  }
  return env;
}

interface Started {
  child: ChildProcess;
  output: () => string;
  /** The exit code once every process holding the output closed it; 0 as well for npm killed by SIGINT. */
  exited: Promise<number | null>;
}

function npmStart(args: string[]): Started {
  let out = '';
  const child = spawn('npm', ['start', '--silent', '--', ...args], {
    cwd: ROOT,
    env: cleanEnv(),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  // 'close', not 'exit': it waits for every holder of the pipes, i.e. for node too, not just npm.
  const exited = new Promise<number | null>((resolve) => child.on('close', (code, signal) => resolve(signal === 'SIGINT' ? 0 : code)));
  return { child, output: () => out, exited };
}

async function waitFor(started: Started, text: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void started.exited.then((c) => (exitCode = c));
  while (!started.output().includes(text)) {
    if (exitCode !== undefined) throw new Error(`npm start exited (${exitCode}) before printing "${text}":\n${started.output()}`);
    if (Date.now() > deadline) throw new Error(`npm start did not print "${text}" within ${timeoutMs} ms:\n${started.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return started.output();
}

/**
 * Ctrl-C: SIGINT to the whole process group, as a terminal sends it. npm itself may die of the
 * signal (counted as a clean exit); the platform must stop gracefully and say so.
 */
async function interrupt(started: Started): Promise<number | null> {
  process.kill(-started.child.pid!, 'SIGINT');
  return started.exited;
}

function killGroup(started: Started | undefined) {
  if (!started) return;
  try {
    process.kill(-started.child.pid!, 'SIGKILL');
  } catch {
    /* gone */
  }
}

describe('npm start', () => {
  let dataDir: string;
  let ports: { bridge: number; ml: number };
  let running: Started | undefined;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'hma-npm-start-'));
    ports = { bridge: await freePort(), ml: await freePort() };
  });
  afterAll(() => {
    killGroup(running);
    rmSync(dataDir, { recursive: true, force: true });
  });

  const args = () => ['--data-dir', dataDir, '--port-content-bridge', String(ports.bridge), '--port-ml-server', String(ports.ml)];

  it('--help lists the options and the driver of each dependency', async () => {
    const help = npmStart(['--help', ...args()]);
    expect(await help.exited).toBe(0);
    const text = help.output();
    for (const option of ['--port-content-bridge', '--port-ml-server', '--data-dir', '--reset', 'CONTENT_BRIDGE_PORT', 'ML_SERVER_PORT'])
      expect(text).toContain(option);
    expect(text).toMatch(/database\s+embedded\s+PGlite/);
    expect(text).toMatch(/cache\s+embedded\s+in-process/);
    expect(text).toMatch(/object store\s+embedded\s+files/);
    expect(existsSync(join(dataDir, 'postgres'))).toBe(false); // --help opens nothing
  });

  it('says which port is taken and how to choose another', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(ports.ml, '127.0.0.1', () => resolve()));
    try {
      const busy = npmStart(args());
      expect(await busy.exited).toBe(1);
      expect(busy.output()).toContain(`Port ${ports.ml} (ML Server) is already in use`);
      expect(busy.output()).toContain('--port-ml-server');
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('runs the platform, seeds it once, stops on Ctrl-C and keeps everything across a restart', { timeout: 300_000 }, async () => {
    // ---- first start
    running = npmStart(args());
    const first = await waitFor(running, 'Press Ctrl-C to stop.', 240_000);
    expect(first).toContain(`http://127.0.0.1:${ports.bridge}`);
    expect(first).toContain(`http://127.0.0.1:${ports.ml}`);
    expect(first).toContain('generated now, shown only this once');
    const password = /^ {2}password: (\S+)$/m.exec(first)?.[1];
    expect(password, first).toBeTruthy();
    expect(first).toMatch(/curl .*\/auth\/login/);
    expect(first).toMatch(/curl .*\/api\/content\/search/);
    expect(first).toMatch(/curl .*\/predict/);

    const bridge = client(`http://127.0.0.1:${ports.bridge}`);
    const ml = client(`http://127.0.0.1:${ports.ml}`);
    const login = async () => {
      const res = await bridge.post('/auth/login', { username: 'admin', password });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body as { access_token: string; user: { user_id: string } };
    };
    const firstLogin = await login();
    const user = firstLogin.user;
    let token = firstLogin.access_token;

    // A file through the presigned URLs the Content Bridge serves for the filesystem store.
    const data = Buffer.concat([
      Buffer.from('Field notes: always unload before crossing a fence.\n'),
      Buffer.from(randomBytes(2000).toString('hex')),
    ]);
    const created = await bridge.post(
      '/api/content/uploads',
      { title: 'Field notes', type: 'document', filename: 'field-notes.txt', content_type: 'text/plain', size: data.length },
      token,
    );
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.upload_url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${ports.bridge}/_objects/.+signature=`));
    const put = await fetch(created.body.upload_url, {
      method: 'PUT',
      body: new Uint8Array(data),
      headers: { 'content-type': 'text/plain' },
    });
    expect(put.status).toBe(200);
    const complete = await bridge.post(`/api/content/${created.body.content_id}/complete`, undefined, token);
    expect(complete.status, JSON.stringify(complete.body)).toBe(200);
    const contentId: string = created.body.content_id;
    const download = async (t: string) => {
      const item = await bridge.get(`/api/content/${contentId}`, t);
      expect(item.status).toBe(200);
      const res = await fetch(item.body.content_url);
      expect(res.status).toBe(200);
      return sha256(new Uint8Array(await res.arrayBuffer()));
    };
    expect(await download(token)).toBe(sha256(data));

    // Learning events.
    const events = [0, 1, 2].map((i) => ({
      event_id: `npm-start-${i}`,
      event_type: 'content_view',
      user_id: user.user_id,
      timestamp: new Date(Date.now() - i * 60_000).toISOString(),
      context: { content_id: contentId },
      data: { time_spent_seconds: 60 },
    }));
    const posted = await bridge.post('/api/analytics/events', events, token);
    expect(posted.status, JSON.stringify(posted.body)).toBe(200);
    const eventTotals = async (t: string) => {
      const res = await bridge.get(`/api/analytics/user/${user.user_id}`, t);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body.totals;
    };
    const analyticsBefore = await eventTotals(token);
    expect(analyticsBefore).toMatchObject({ events: 3, content_views: 3, total_time_seconds: 180 });

    // The seeded model answers at once, through its production alias.
    const predict = async (api: Client, t: string) => {
      const res = await api.post(
        '/predict',
        {
          model: 'completion-risk',
          inputs: {
            active_days: 3,
            events_per_active_day: 2,
            minutes_per_active_day: 12,
            avg_score: 68,
            days_inactive: 9,
            touched_ratio: 0.33,
          },
        },
        t,
      );
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.predictions).toHaveLength(1);
      return res.body.version as number;
    };
    const version = await predict(ml, token);
    const search = await bridge.get('/api/content/search?q=firearm%20safety', token);
    expect(search.status).toBe(200);
    expect(search.body.results.map((r: { title: string }) => r.title)).toContain('The Four Rules of Firearm Safety');

    // ---- Ctrl-C: a clean stop
    expect(await interrupt(running)).toBe(0);
    expect(running.output()).toContain('stopped.');
    expect(existsSync(join(dataDir, 'postgres.lock'))).toBe(false);

    // ---- second start on the same data
    running = npmStart(args());
    const second = await waitFor(running, 'Press Ctrl-C to stop.', 120_000);
    expect(second).not.toContain(password!); // printed once only
    expect(second).not.toMatch(/^ {2}password: /m);
    expect(second).toContain("'admin' already exists");
    expect(second).not.toContain('(created now)');
    ({ access_token: token } = await login());
    expect(await download(token)).toBe(sha256(data));
    expect(await eventTotals(token)).toEqual(analyticsBefore);
    expect(await predict(ml, token)).toBe(version);
    const models = await ml.get('/models', token);
    expect(models.body.models.filter((m: { name: string }) => m.name === 'completion-risk')).toHaveLength(1); // not seeded twice

    expect(await interrupt(running)).toBe(0);
    running = undefined;
  });
});
