/**
 * The node tier's client scripts (tests/node/support/user-flow.mjs and event-sender.mjs), outside the
 * cluster, against both APIs started in-process. They run as they do in a pod: `node --input-type=module -`
 * with the script on stdin and nothing but the variables they are given, so what works here works there
 * except the addresses. What they report is checked against the database and the object store.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBridge, type TestBridge } from './support/content-bridge.ts';
import { connectSql } from './support/drivers.ts';
import { client, signUp } from './support/http.ts';
import { waitUntil } from '../harness/process.ts';
import { startTestMlServer, type TestMlServer } from './support/ml-server.ts';

const SUPPORT = new URL('../node/support/', import.meta.url);

interface ScriptRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The one JSON line the script printed. */
  json: any;
}

/**
 * Runs a script as the pod does (`node --input-type=module -`, script on stdin) with only `env`, or as a
 * file (`node <path>`: how a copy in the pod runs detached). `during` gets the child once it runs (to stop
 * it early); the run is killed after `timeoutMs`.
 */
function runScript(
  file: string,
  env: Record<string, string>,
  opts: { timeoutMs?: number; asFile?: boolean; during?: (child: ReturnType<typeof spawn>) => void } = {},
): Promise<ScriptRun> {
  const path = fileURLToPath(new URL(file, SUPPORT));
  return new Promise((resolve, reject) => {
    const args = opts.asFile ? [path] : ['--input-type=module', '-'];
    const child = spawn(process.execPath, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 90_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const lines = stdout.trim().split('\n').filter(Boolean);
      let json: unknown;
      try {
        json = lines.length === 1 ? JSON.parse(lines[0]!) : undefined;
      } catch {
        json = undefined;
      }
      resolve({ code, signal, stdout, stderr, json });
    });
    child.stdin.end(opts.asFile ? undefined : readFileSync(path));
    opts.during?.(child);
  });
}

const describeRun = (run: ScriptRun) => `exit ${run.code} ${run.signal ?? ''}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`;

let bridge: TestBridge;
let ml: TestMlServer;
const sql = <R = any>(text: string, params: unknown[] = []) => bridge.deps.db.query<R>(text, params);

beforeAll(async () => {
  bridge = await startTestBridge();
  ml = await startTestMlServer({ bridge });
});

afterAll(async () => {
  await ml?.close();
  await bridge?.close();
});

describe('user-flow.mjs', () => {
  it('runs the whole user flow of issue 13 §2 and reports what it observed', { timeout: 180_000 }, async () => {
    const run = await runScript('user-flow.mjs', {
      CONTENT_BRIDGE_URL: bridge.url,
      ML_SERVER_URL: ml.url,
      ADMIN_EMAIL: bridge.adminCredentials.email,
      ADMIN_PASSWORD: bridge.adminCredentials.password,
    });
    expect(run.code, describeRun(run)).toBe(0);
    const out = run.json;
    expect(out, describeRun(run)).toMatchObject({ ok: true });
    expect(run.stderr).toMatch(/the admin logs in: ok/);
    expect(out.steps.map((s: { name: string }) => s.name)).toHaveLength(13);

    // The upload: the row, and the object's bytes in the store, are what the script sent and fetched back.
    const { rows: content } = await sql(
      `SELECT file_path, sha256, size_bytes::int AS size_bytes, mime_type, course_id::text AS course_id FROM content.content_items WHERE id = $1`,
      [out.upload.content_id],
    );
    expect(content[0]).toMatchObject({ sha256: out.upload.sha256, size_bytes: out.upload.bytes, mime_type: 'image/png' });
    expect(content[0].course_id).toBe(out.course.course_id);
    const stored = await bridge.deps.store.get(content[0].file_path);
    const hash = createHash('sha256');
    for await (const chunk of stored) hash.update(chunk as Buffer);
    expect(hash.digest('hex')).toBe(out.upload.sha256);
    expect(out.upload.fetched_sha256).toBe(out.upload.sha256);
    expect(out.upload.read_path_sha256).toBe(out.upload.sha256);

    // The 1000 events are stored once each (the replay added nothing).
    expect(out.events).toMatchObject({ sent: 1000, accepted: 1000, replayed: 50 });
    const { rows: events } = await sql(
      `SELECT count(*)::int AS n, count(DISTINCT user_id)::int AS learners FROM content.learning_events WHERE event_id LIKE $1`,
      [`flow-${out.run_id}-%`],
    );
    expect(events[0]).toEqual({ n: 1000, learners: 15 });

    // The assessment attempt is graded in the database as reported.
    const { rows: attempts } = await sql(`SELECT status, user_id::text AS user_id, passed FROM content.assessment_attempts WHERE id = $1`, [
      out.assessment.attempt_id,
    ]);
    expect(attempts[0]).toEqual({ status: 'graded', user_id: out.student.user_id, passed: true });
    expect(out.assessment).toMatchObject({ score: 3, max_score: 4, score_percent: 75, passed: true });

    // Training registered a version from this data; the alias and both predictions use it.
    const { rows: versions } = await sql(
      `SELECT v.version, v.source, v.training_job_id::text AS job, a.alias
         FROM ml.model_versions v JOIN ml.models m ON m.id = v.model_id
         LEFT JOIN ml.model_aliases a ON a.model_id = m.id AND a.version = v.version
        WHERE m.name = $1`,
      [out.training.model],
    );
    expect(versions).toEqual([{ version: out.training.version, source: 'training', job: out.training.job_id, alias: 'production' }]);
    expect(out.training.metrics.train_rows + out.training.metrics.test_rows).toBe(15); // this database holds this run only
    expect(out.predict.version).toBe(out.training.version);
    expect(out.infer.model_version).toBe(String(out.training.version));
    const probabilities = out.infer.outputs.find((o: { name: string }) => o.name === 'probabilities').data.flat();
    expect(probabilities[1]).toBeCloseTo(out.predict.prediction.probabilities['1'], 12);
  });

  it('fails with a clear message and a JSON line on the first failed step', async () => {
    const run = await runScript('user-flow.mjs', {
      CONTENT_BRIDGE_URL: bridge.url,
      ML_SERVER_URL: ml.url,
      ADMIN_EMAIL: bridge.adminCredentials.email,
      ADMIN_PASSWORD: 'not-the-password',
    });
    expect(run.code).toBe(1);
    expect(run.json, describeRun(run)).toMatchObject({ ok: false, failed_step: 'the admin logs in' });
    expect(run.json.error).toMatch(/POST .*\/auth\/login: expected 200, got 401/);
    expect(run.stderr).toMatch(/FAILED at "the admin logs in"/);
  });
});

describe('event-sender.mjs', () => {
  let student: { token: string; userId: string; password: string };
  let dir: string;

  beforeAll(async () => {
    student = await signUp(client(bridge.url), { username: 'sender_student' });
    dir = mkdtempSync(join(tmpdir(), 'event-sender-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** The acknowledged ids (either format) of a report. */
  const idsOf = (out: any): string[] =>
    out.acknowledged.format === 'ids'
      ? out.acknowledged.ids
      : out.acknowledged.ranges.flatMap(([a, b]: [number, number]) =>
          Array.from({ length: b - a + 1 }, (_, i) => `${out.id_prefix}${a + i}`),
        );

  async function storedCount(ids: string[]): Promise<number> {
    const { rows } = await sql<{ n: number }>('SELECT count(*)::int AS n FROM content.learning_events WHERE event_id = ANY($1::text[])', [
      ids,
    ]);
    return rows[0]!.n;
  }

  /**
   * Resolves once `n` events of the run are stored: the tests below stop the sender on that condition,
   * not after a fixed time, so a slow start on a busy machine changes nothing.
   */
  async function stored(runId: string, n: number): Promise<void> {
    await waitUntil(
      `${n} events of ${runId} stored`,
      async () =>
        ((
          await bridge.deps.db.query<{ n: number }>('SELECT count(*)::int AS n FROM content.learning_events WHERE event_id LIKE $1', [
            `${runId}-%`,
          ])
        ).rows[0]?.n ?? 0) >= n,
      { timeoutMs: 30_000 },
    );
  }

  it('sends for DURATION_SECONDS, and every acknowledged id is in content.learning_events', { timeout: 60_000 }, async () => {
    const run = await runScript('event-sender.mjs', {
      CONTENT_BRIDGE_URL: bridge.url,
      ACCESS_TOKEN: student.token,
      DURATION_SECONDS: '3',
      RATE: '20',
      STOP_FILE: join(dir, 'never'),
    });
    expect(run.code, describeRun(run)).toBe(0);
    const out = run.json;
    expect(out.failed, describeRun(run)).toBe(0);
    expect(out.failuresByReason).toEqual({});
    expect(out.stop_reason).toBe('duration');
    expect(out.user_id).toBe(student.userId);
    // 20 requests/s for 3 s at most (an open loop: a stalled machine skips ticks, it never sends more).
    expect(out.sent).toBeGreaterThanOrEqual(1);
    expect(out.sent).toBeLessThanOrEqual(61);
    expect(out.ok).toBe(out.sent);
    expect(out.acknowledged.format).toBe('ranges');
    expect(out.acknowledged.ranges).toEqual([[1, out.sent * 10]]);
    expect(out.acknowledged_count).toBe(out.ok * 10);
    expect(out.durationMs).toBeGreaterThanOrEqual(3000);
    expect(out.maxGapMs).toBeGreaterThan(0);
    expect(out.maxGapMs).toBeLessThan(out.durationMs);

    const ids = idsOf(out);
    expect(new Set(ids).size).toBe(out.acknowledged_count);
    expect(await storedCount(ids)).toBe(ids.length);
    const { rows } = await sql('SELECT DISTINCT user_id FROM content.learning_events WHERE event_id = ANY($1::text[])', [ids]);
    expect(rows).toEqual([{ user_id: student.userId }]);
    // The SQL it prints for the lead engineer finds nothing missing, and does find ids that are not there.
    expect(Number((await sql(out.check_sql)).rows[0].missing)).toBe(0);
    const widened = out.check_sql.replace(`(1,${out.sent * 10})`, `(1,${out.sent * 10 + 7})`);
    expect(Number((await sql(widened)).rows[0].missing)).toBe(7);
  });

  it('logs in with credentials, stops when the stop file appears, and lists ids with ACK_FORMAT=ids', { timeout: 60_000 }, async () => {
    const stopFile = join(dir, 'stop');
    const run = await runScript(
      'event-sender.mjs',
      {
        CONTENT_BRIDGE_URL: bridge.url,
        LOGIN_USERNAME: 'sender_student',
        LOGIN_PASSWORD: student.password,
        RATE: '10',
        BATCH_SIZE: '3',
        ACK_FORMAT: 'ids',
        STOP_FILE: stopFile,
        RUN_ID: 'es-stopfile',
      },
      { during: () => void stored('es-stopfile', 9).then(() => writeFileSync(stopFile, '')) },
    );
    expect(run.code, describeRun(run)).toBe(0);
    const out = run.json;
    expect(out).toMatchObject({ stop_reason: 'stop file', failed: 0, id_prefix: 'es-stopfile-', user_id: student.userId });
    expect(out.ok).toBeGreaterThan(0);
    expect(out.acknowledged.ids).toHaveLength(out.ok * 3);
    expect(out.acknowledged.ids[0]).toBe('es-stopfile-1');
    expect(await storedCount(out.acknowledged.ids)).toBe(out.acknowledged.ids.length);
  });

  it('ignores a stop file left by an earlier run until it is touched again', { timeout: 60_000 }, async () => {
    const stopFile = join(dir, 'stale-stop');
    writeFileSync(stopFile, '');
    utimesSync(stopFile, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    const startedAt = Date.now();
    const run = await runScript(
      'event-sender.mjs',
      { CONTENT_BRIDGE_URL: bridge.url, ACCESS_TOKEN: student.token, RATE: '10', STOP_FILE: stopFile, RUN_ID: 'es-stale' },
      { during: () => void stored('es-stale', 50).then(() => writeFileSync(stopFile, '')) },
    );
    expect(run.code, describeRun(run)).toBe(0);
    expect(run.stderr).toMatch(/exists already: ignored until it is touched again/);
    expect(run.json).toMatchObject({ stop_reason: 'stop file', failed: 0 });
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(500); // it did not stop on the stale file at once
    expect(run.json.ok).toBeGreaterThanOrEqual(5);
  });

  it('runs as a file too, and stops on SIGTERM', { timeout: 60_000 }, async () => {
    const run = await runScript(
      'event-sender.mjs',
      { CONTENT_BRIDGE_URL: bridge.url, ACCESS_TOKEN: student.token, RATE: '10', STOP_FILE: join(dir, 'never'), RUN_ID: 'es-sigterm' },
      { asFile: true, during: (child) => void stored('es-sigterm', 10).then(() => child.kill('SIGTERM')) },
    );
    expect(run.code, describeRun(run)).toBe(0);
    expect(run.json).toMatchObject({ stop_reason: 'SIGTERM', failed: 0 });
    expect(run.json.ok).toBeGreaterThan(0);
    expect(await storedCount(idsOf(run.json))).toBe(run.json.acknowledged_count);
  });

  it('renews a short-lived token with its refresh token and keeps sending', { timeout: 60_000 }, async () => {
    const shortLived = await startTestBridge({ env: { JWT_ACCESS_TTL_SECONDS: '30' } });
    try {
      const user = await signUp(client(shortLived.url), { username: 'sender_renewing' });
      const run = await runScript('event-sender.mjs', {
        CONTENT_BRIDGE_URL: shortLived.url,
        LOGIN_EMAIL: user.email,
        LOGIN_PASSWORD: user.password,
        TOKEN_RENEW_BEFORE_SECONDS: '27', // 3 s after each token is issued
        DURATION_SECONDS: '5',
        RATE: '10',
        STOP_FILE: join(dir, 'never'),
      });
      expect(run.code, describeRun(run)).toBe(0);
      expect(run.json.tokenRenewals, describeRun(run)).toBeGreaterThanOrEqual(1);
      expect(run.json).toMatchObject({ tokenRenewalFailures: 0, failed: 0, user_id: user.userId });
      expect(run.stderr).not.toMatch(/logging in again/); // renewed with the refresh token, not a new login
      const { rows } = await shortLived.deps.db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM content.learning_events WHERE event_id LIKE $1',
        [`${run.json.id_prefix}%`],
      );
      expect(rows[0]!.n).toBe(run.json.acknowledged_count);
    } finally {
      await shortLived.close();
    }
  });

  it(
    'counts the requests of a Content Bridge going away as failed, and everything it acknowledged is stored',
    { timeout: 60_000 },
    async () => {
      const leaving = await startTestBridge();
      let closed = false;
      try {
        const user = await signUp(client(leaving.url), { username: 'sender_leaving' });
        const runId = `leaving-${Date.now()}`;
        const stopFile = join(dir, 'leaving-stop');
        // The bridge goes once events are really being stored (read through its own pool, on either
        // driver), and the sender stops a while after: a condition, not a clock, so a slow start on a
        // busy machine changes nothing.
        const storedSoFar = async () =>
          Number(
            (
              await leaving.deps.db.query<{ n: number }>('SELECT count(*)::int AS n FROM content.learning_events WHERE event_id LIKE $1', [
                `${runId}-%`,
              ])
            ).rows[0]?.n ?? 0,
          );
        const run = await runScript(
          'event-sender.mjs',
          { CONTENT_BRIDGE_URL: leaving.url, ACCESS_TOKEN: user.token, RATE: '20', RUN_ID: runId, STOP_FILE: stopFile },
          {
            during: () =>
              void (async () => {
                await waitUntil('events stored', async () => (await storedSoFar()) >= 50, { timeoutMs: 30_000 });
                closed = true;
                await leaving.close();
                await new Promise((r) => setTimeout(r, 1500));
                writeFileSync(stopFile, '');
              })(),
          },
        );
        expect(run.code, describeRun(run)).toBe(0);
        const out = run.json;
        expect(out.ok, describeRun(run)).toBeGreaterThan(0);
        expect(out.failed).toBeGreaterThan(0);
        expect(out.ok + out.failed).toBe(out.sent);
        for (const reason of Object.keys(out.failuresByReason)) expect(reason).toMatch(/^(network_|http_503$|timeout$)/);
        expect(out.firstFailureAtMs).toBeGreaterThan(0);
        // The run ends in a gap of at least the 1.5 s the bridge was gone. Not measured from the first
        // failure: on a busy machine a request may time out while the bridge is still up.
        const tail = (out.longestGaps as Array<{ atMs: number; ms: number }>).find((g) => g.atMs + g.ms >= out.durationMs - 500);
        expect(tail?.ms, JSON.stringify(out.longestGaps)).toBeGreaterThanOrEqual(1000);
        // Read after the shutdown, from the database itself: nothing acknowledged is missing.
        const db = await connectSql(leaving.databaseUrl);
        try {
          const { rows } = await db.query(out.check_sql);
          expect(Number(rows[0].missing)).toBe(0);
          const stored = await db.query('SELECT count(*)::int AS n FROM content.learning_events WHERE event_id LIKE $1', [
            `${out.id_prefix}%`,
          ]);
          expect(stored.rows[0].n).toBeGreaterThanOrEqual(out.acknowledged_count);
        } finally {
          await db.end();
        }
      } finally {
        if (!closed) await leaving.close();
      }
    },
  );

  it('counts refused requests as failed, by reason, and acknowledges none of their ids', { timeout: 60_000 }, async () => {
    // A student may only send their own events: naming another user makes every request a 403.
    const run = await runScript('event-sender.mjs', {
      CONTENT_BRIDGE_URL: bridge.url,
      ACCESS_TOKEN: student.token,
      EVENT_USER_ID: 'someone-else',
      DURATION_SECONDS: '1',
      RATE: '10',
      STOP_FILE: join(dir, 'never'),
      RUN_ID: 'es-refused',
    });
    expect(run.code, describeRun(run)).toBe(0);
    const out = run.json;
    expect(out.ok).toBe(0);
    expect(out.failed).toBe(out.sent);
    expect(out.failuresByReason).toEqual({ http_403: out.sent });
    expect(out.failureSamples.http_403).toMatch(/own events/);
    expect(out.acknowledged).toEqual({ format: 'ranges', ranges: [] });
    expect(out.acknowledged_count).toBe(0);
    expect(out.maxGapMs).toBe(out.durationMs); // no successful answer at all
    const { rows } = await sql(`SELECT count(*)::int AS n FROM content.learning_events WHERE event_id LIKE 'es-refused-%'`);
    expect(rows[0].n).toBe(0);
  });
});
