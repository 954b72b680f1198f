/**
 * The user flow of issue 13 §2, as a client of the two APIs: plain Node 24 (node: built-ins, global fetch,
 * FormData and Blob), no npm packages and no imports from the repository, so it runs as is in a pod of
 * `node:24-slim`:
 *
 *   kubectl exec -i client -- env CONTENT_BRIDGE_URL=… ML_SERVER_URL=… ADMIN_EMAIL=… ADMIN_PASSWORD=… \
 *     node --input-type=module - < tests/node/support/user-flow.mjs
 *
 * Environment:
 *   CONTENT_BRIDGE_URL   e.g. http://huntmaster-content-bridge.academy.svc.cluster.local:8090 (required)
 *   ML_SERVER_URL        e.g. http://huntmaster-ml-server.academy.svc.cluster.local:8010 (required)
 *   ADMIN_EMAIL          the first admin's email (or ADMIN_USERNAME), created by the Content Bridge at start
 *   ADMIN_PASSWORD       its password (required)
 *   READY_TIMEOUT_SECONDS  how long to wait for both /readyz (default 60)
 *   TRAIN_TIMEOUT_SECONDS  how long to wait for the training job (default 180)
 *
 * Steps (each prints a progress line to stderr): both APIs ready; the admin logs in; an instructor and a
 * student register (unique names per run; the admin grants the instructor role); a course is created and a
 * PNG built here is uploaded into it (multipart), then its presigned content_url is fetched and its SHA-256
 * compared with the bytes sent; a 1000-event batch (client ids: the idempotency keys) is accepted, a replay
 * of part of it is a no-op, and the student's analytics count the events; an assessment is created by the
 * instructor, started, submitted and graded for the student; the ML Server (with the Content Bridge's
 * access tokens) trains a completion-risk model from those events and the progress rows, the new version is
 * aliased `production`, and both `POST /predict` (by alias) and OIP `POST /v2/models/{name}/infer` predict.
 *
 * Output: ONE JSON line on stdout, `{"ok": true, …what was observed…}` and exit 0; on the first failure
 * `{"ok": false, "failed_step": …, "error": …, …observed so far…}`, the message on stderr, and exit 1.
 */
import { createHash, randomBytes } from 'node:crypto';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { crc32, deflateSync } from 'node:zlib';

const started = Date.now();
const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
const observed = { ok: false, run_id: runId, steps: [] };

class FlowError extends Error {}

function env(name, fallback) {
  const value = process.env[name];
  if (value !== undefined && value !== '') return value;
  if (fallback !== undefined) return fallback;
  throw new FlowError(`the environment variable ${name} is required`);
}

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');
const log = (message) => process.stderr.write(`[user-flow ${new Date().toISOString()}] ${message}\n`);

// ---------------------------------------------------------------------------------------------
// HTTP

/**
 * One request: JSON or multipart body, bearer token; returns the parsed body. Any status other than
 * `expect` throws with the method, URL, status and the answer (a problem+json detail says why).
 */
async function call(base, method, path, { token, json, form, expect = 200, headers = {}, timeoutMs = 30_000 } = {}) {
  const url = `${base}${path}`;
  const init = { method, headers: { ...headers }, signal: AbortSignal.timeout(timeoutMs) };
  if (token) init.headers.authorization = `Bearer ${token}`;
  if (json !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(json);
  } else if (form) init.body = form;
  let res;
  try {
    res = await fetch(url, init);
  } catch (err) {
    throw new FlowError(
      `${method} ${url}: ${err.name === 'TimeoutError' ? `no answer in ${timeoutMs} ms` : (err.cause?.code ?? err.message)}`,
    );
  }
  const text = await res.text();
  let body = text;
  if (/json/.test(res.headers.get('content-type') ?? '') && text) body = JSON.parse(text);
  const expected = Array.isArray(expect) ? expect : [expect];
  if (!expected.includes(res.status)) {
    throw new FlowError(`${method} ${url}: expected ${expected.join(' or ')}, got ${res.status}: ${text.slice(0, 600)}`);
  }
  return body;
}

function check(condition, message) {
  if (!condition) throw new FlowError(message);
}

async function step(name, fn) {
  const t0 = Date.now();
  log(`${name} ...`);
  try {
    const result = await fn();
    const ms = Date.now() - t0;
    observed.steps.push({ name, ms });
    log(`${name}: ok (${ms} ms)`);
    return result;
  } catch (err) {
    err.step = name;
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Test data built here

/** A valid 24×24 RGB PNG whose pixels depend on the run, so every run uploads different bytes. */
function makePng(seed) {
  const width = 24;
  const height = 24;
  const chunk = (type, data) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, 'latin1');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
    return Buffer.concat([head, data, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.writeUInt8(8, 8); // bit depth
  ihdr.writeUInt8(2, 9); // colour type: truecolour
  const raw = Buffer.alloc(height * (1 + width * 3));
  const noise = createHash('sha256').update(seed).digest();
  for (let y = 0; y < height; y++) {
    const row = y * (1 + width * 3); // filter byte 0 (none)
    for (let x = 0; x < width; x++) {
      raw[row + 1 + x * 3] = (x * 10 + noise[y % 32]) & 0xff;
      raw[row + 2 + x * 3] = (y * 10 + noise[x % 32]) & 0xff;
      raw[row + 3 + x * 3] = noise[(x + y) % 32];
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A small deterministic generator (mulberry32), so the event mix is the same on every run. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DAY_MS = 86_400_000;
const EVENT_COUNT = 1000;

/**
 * 1000 learning events in the course, the training data of the completion-risk model: the learners who
 * complete the course (real accounts, whose progress rows carry the label) are active on many days with
 * good scores and time spent; the others (ids of learners the platform does not know, which an admin may
 * send events for) on a few days, long ago, with low scores. Ids are the run's, so a replay is a no-op.
 */
function learningEvents({ completers, droppers, courseId, contentId, now }) {
  const random = prng(13);
  const learners = [...completers.map((id) => ({ id, completes: true })), ...droppers.map((id) => ({ id, completes: false }))];
  const events = [];
  for (let i = 0; i < EVENT_COUNT; i++) {
    const learner = learners[i % learners.length];
    const daysAgo = learner.completes ? 1 + Math.floor(random() * 14) : 10 + Math.floor(random() * 4);
    const kind = random();
    const type = kind < 0.6 ? 'content_view' : kind < 0.85 ? 'progress_update' : 'assessment_complete';
    const data = { time_spent_seconds: Math.round((learner.completes ? 120 : 20) + random() * 180) };
    if (type === 'progress_update') data.progress_percentage = Math.round(random() * (learner.completes ? 100 : 40));
    if (type === 'assessment_complete') data.score = Math.round((learner.completes ? 70 : 30) + random() * 35);
    events.push({
      event_id: `flow-${runId}-${String(i).padStart(4, '0')}`,
      event_type: type,
      user_id: learner.id,
      session_id: `flow-${runId}-${learner.id.slice(0, 8)}`,
      timestamp: new Date(now - daysAgo * DAY_MS - Math.floor(random() * 6 * 3600_000)).toISOString(),
      context: { course_id: courseId, content_id: contentId, device_type: 'desktop' },
      data,
    });
  }
  return events;
}

// ---------------------------------------------------------------------------------------------
// The flow

async function main() {
  const bridge = env('CONTENT_BRIDGE_URL').replace(/\/+$/, '');
  const ml = env('ML_SERVER_URL').replace(/\/+$/, '');
  const adminEmail = process.env.ADMIN_EMAIL || undefined;
  const adminUsername = adminEmail ? undefined : env('ADMIN_USERNAME', undefined);
  const adminPassword = env('ADMIN_PASSWORD');
  const readyTimeoutMs = Number(env('READY_TIMEOUT_SECONDS', '60')) * 1000;
  const trainTimeoutMs = Number(env('TRAIN_TIMEOUT_SECONDS', '180')) * 1000;
  observed.content_bridge = bridge;
  observed.ml_server = ml;

  await step('both APIs answer /readyz', async () => {
    for (const base of [bridge, ml]) {
      const deadline = Date.now() + readyTimeoutMs;
      let last;
      for (;;) {
        try {
          const res = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(5000) });
          const text = await res.text();
          if (res.status === 200) break;
          last = `${res.status} ${text.slice(0, 200)}`;
        } catch (err) {
          last = err.cause?.code ?? err.message;
        }
        if (Date.now() > deadline) throw new FlowError(`${base}/readyz not 200 within ${readyTimeoutMs} ms: ${last}`);
        await sleep(1000);
      }
    }
  });

  const admin = await step('the admin logs in', async () => {
    const login = await call(bridge, 'POST', '/auth/login', {
      json: adminEmail ? { email: adminEmail, password: adminPassword } : { username: adminUsername, password: adminPassword },
    });
    check(login.user?.roles?.includes('admin'), `the account logged in as the admin has roles ${JSON.stringify(login.user?.roles)}`);
    observed.admin = { user_id: login.user.user_id, username: login.user.username };
    return { token: login.access_token, userId: login.user.user_id };
  });

  /** Registers a new account (unique per run), optionally grants roles as the admin, and logs in. */
  async function newAccount(kind, roles) {
    const username = `flow_${kind}_${runId}`;
    const email = `${username}@flow.huntmaster.test`;
    const password = `Flow-${randomBytes(12).toString('base64url')}`;
    const reg = await call(bridge, 'POST', '/auth/register', { json: { username, email, password }, expect: 201 });
    const userId = reg.user.user_id;
    if (roles) await call(bridge, 'PUT', `/api/users/${userId}`, { token: admin.token, json: { roles } });
    const login = await call(bridge, 'POST', '/auth/login', { json: { username, password } });
    check(login.user.user_id === userId, `${username} logged in as ${login.user.user_id}, registered as ${userId}`);
    return { token: login.access_token, userId, username, roles: login.user.roles };
  }

  const student = await step('a student registers and logs in', async () => {
    const account = await newAccount('student', undefined);
    check(JSON.stringify(account.roles) === '["student"]', `a registered account has roles ${JSON.stringify(account.roles)}`);
    observed.student = { user_id: account.userId, username: account.username };
    return account;
  });

  const instructor = await step('an instructor registers, gets the role from the admin, and logs in', async () => {
    const account = await newAccount('instructor', ['instructor']);
    check(account.roles.includes('instructor'), `the instructor's token has roles ${JSON.stringify(account.roles)}`);
    observed.instructor = { user_id: account.userId, username: account.username };
    return account;
  });

  const course = await step('the instructor creates a course', async () => {
    const created = await call(bridge, 'POST', '/api/courses', {
      token: instructor.token,
      json: { title: `Flow course ${runId}`, description: 'Created by the user-flow client', difficulty_level: 'beginner' },
      expect: 201,
    });
    observed.course = { course_id: created.course_id };
    return created;
  });

  const content = await step('the instructor uploads a PNG, and its presigned URL returns the same bytes', async () => {
    const png = makePng(runId);
    const digest = sha256(png);
    const form = new FormData();
    form.append('title', `Flow diagram ${runId}`);
    form.append('type', 'document');
    form.append('course_id', course.course_id);
    form.append('metadata', JSON.stringify({ tags: ['flow', 'safety'], description: 'A PNG built by the user-flow client' }));
    form.append('file', new Blob([png], { type: 'image/png' }), `flow-${runId}.png`);
    const uploaded = await call(bridge, 'POST', '/api/content/upload', { token: instructor.token, form, expect: 201 });
    check(uploaded.mime_type === 'image/png', `the upload was stored as ${uploaded.mime_type}, not image/png`);
    check(uploaded.size_bytes === png.length, `the upload was stored with ${uploaded.size_bytes} bytes, ${png.length} sent`);
    check(uploaded.sha256 === digest, `the API recorded SHA-256 ${uploaded.sha256}, the bytes sent have ${digest}`);
    check(/^https?:\/\//.test(uploaded.content_url), `content_url is not an absolute URL: ${uploaded.content_url}`);

    /** The bytes behind a presigned URL, fetched without any token: the URL alone grants the read. */
    const fetchObject = async (url) => {
      let res;
      try {
        res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
      } catch (err) {
        throw new FlowError(`GET ${url}: ${err.cause?.code ?? err.message}`);
      }
      const bytes = Buffer.from(await res.arrayBuffer());
      check(res.status === 200, `GET ${url}: ${res.status} ${bytes.toString('utf8', 0, 300)}`);
      return bytes;
    };
    const fromUpload = await fetchObject(uploaded.content_url);
    check(
      sha256(fromUpload) === digest,
      `the presigned URL of the upload returned ${fromUpload.length} bytes with SHA-256 ${sha256(fromUpload)}`,
    );
    // The read path (cached metadata, a fresh presigned URL) as the student sees it.
    const read = await call(bridge, 'GET', `/api/content/${uploaded.content_id}`, { token: student.token });
    const fromRead = await fetchObject(read.content_url);
    check(sha256(fromRead) === digest, `the presigned URL of GET /api/content returned SHA-256 ${sha256(fromRead)}`);
    observed.upload = {
      content_id: uploaded.content_id,
      object_key: uploaded.object_key,
      bytes: png.length,
      sha256: digest,
      content_url_origin: new URL(uploaded.content_url).origin,
      fetched_sha256: sha256(fromUpload),
      read_path_sha256: sha256(fromRead),
    };
    return uploaded;
  });

  await step('the admin, the instructor and the student complete the course item (the positive labels)', async () => {
    for (const who of [admin, instructor, student]) {
      const progress = await call(bridge, 'PUT', `/api/progress/${content.content_id}`, {
        token: who.token,
        json: { progress_percentage: 100, time_spent_minutes: 12 },
      });
      check(progress.completed === true, `progress of ${who.userId} is not completed: ${JSON.stringify(progress)}`);
    }
  });

  await step('a 1000-event learning-events batch is accepted', async () => {
    const completers = [admin.userId, instructor.userId, student.userId];
    const droppers = Array.from({ length: 12 }, (_, i) => `flow-${runId}-learner-${String(i).padStart(2, '0')}`);
    const batch = learningEvents({ completers, droppers, courseId: course.course_id, contentId: content.content_id, now: Date.now() });
    const t0 = Date.now();
    const res = await call(bridge, 'POST', '/api/analytics/events', { token: admin.token, json: batch, timeoutMs: 120_000 });
    const ms = Date.now() - t0;
    check(Array.isArray(res.accepted) && res.accepted.length === EVENT_COUNT, `accepted ${res.accepted?.length} of ${EVENT_COUNT} events`);
    check(
      res.accepted.every((id, i) => id === batch[i].event_id),
      'the accepted ids are not the ids sent, in order',
    );
    // Ids are idempotency keys: sending part of the batch again is accepted and stores nothing new.
    const replay = await call(bridge, 'POST', '/api/analytics/events', { token: admin.token, json: batch.slice(0, 50) });
    check(replay.accepted.length === 50, `a replay of 50 events was acknowledged as ${replay.accepted.length}`);
    const mine = batch.filter((e) => e.user_id === student.userId);
    // What the student can read about themself counts exactly their events of this batch (fresh account; the replay added nothing).
    const from = new Date(Date.now() - 20 * DAY_MS).toISOString().slice(0, 10);
    const summary = await call(bridge, 'GET', `/api/analytics/user/${student.userId}?from=${from}`, { token: student.token });
    check(
      summary.totals.events === mine.length,
      `the student's analytics count ${summary.totals.events} events, ${mine.length} were sent for them`,
    );
    observed.events = {
      sent: batch.length,
      accepted: res.accepted.length,
      first_id: batch[0].event_id,
      last_id: batch.at(-1).event_id,
      batch_ms: ms,
      replayed: replay.accepted.length,
      student_events_counted: summary.totals.events,
      learners: { completing: completers.length, others: droppers.length },
    };
  });

  await step('an assessment is created, taken by the student, and graded', async () => {
    const assessment = await call(bridge, 'POST', '/api/assessments', {
      token: instructor.token,
      expect: 201,
      json: {
        title: `Firearm safety check ${runId}`,
        type: 'quiz',
        passing_score: 75,
        time_limit_minutes: 30,
        attempts_allowed: 2,
        metadata: { course_id: course.course_id, difficulty_level: 'beginner' },
        questions: [
          {
            question_id: 'q1',
            type: 'multiple_choice',
            question_text: 'Which habits are safe?',
            options: ['Muzzle in a safe direction', 'Finger off the trigger', 'Loaded gun in the truck'],
            correct_answer: ['Muzzle in a safe direction', 'Finger off the trigger'],
            points: 2,
          },
          { question_id: 'q2', type: 'true_false', question_text: 'Treat every firearm as loaded.', correct_answer: 'true', points: 1 },
          {
            question_id: 'q3',
            type: 'multiple_choice',
            question_text: 'The best backstop?',
            options: ['Hillside', 'Water', 'Open sky'],
            correct_answer: 'Hillside',
            points: 1,
          },
        ],
      },
    });
    const seen = await call(bridge, 'GET', `/api/assessments/${assessment.assessment_id}`, { token: student.token });
    check(
      seen.questions.every((q) => q.correct_answer === undefined || q.correct_answer === null),
      'the student sees correct answers',
    );
    const attempt = await call(bridge, 'POST', `/api/assessments/${assessment.assessment_id}/start`, { token: student.token, expect: 201 });
    // Two of three questions right: 3 of 4 points, exactly the passing score of 75 %.
    const result = await call(bridge, 'POST', '/api/assessments/submit', {
      token: student.token,
      json: {
        attempt_id: attempt.attempt_id,
        answers: [
          { question_id: 'q1', answer: ['Finger off the trigger', 'Muzzle in a safe direction'] },
          { question_id: 'q2', answer: 'true' },
          { question_id: 'q3', answer: 'Water' },
        ],
      },
    });
    check(result.status === 'graded' && result.final === true, `the submitted attempt is ${result.status} (final ${result.final})`);
    check(result.score === 3 && result.max_score === 4, `graded ${result.score} of ${result.max_score} points, expected 3 of 4`);
    check(result.score_percent === 75 && result.passed === true, `graded ${result.score_percent} %, passed ${result.passed}`);
    const again = await call(bridge, 'GET', `/api/assessments/results/${attempt.attempt_id}`, { token: student.token });
    check(again.score === result.score && again.passed === result.passed, 'the stored result differs from the submit answer');
    observed.assessment = {
      assessment_id: assessment.assessment_id,
      attempt_id: attempt.attempt_id,
      status: result.status,
      score: result.score,
      max_score: result.max_score,
      score_percent: result.score_percent,
      passed: result.passed,
      questions: result.questions.map((q) => ({ question_id: q.question_id, correct: q.correct })),
    };
  });

  const modelName = `flow-risk-${runId}`;
  const trained = await step('the ML Server trains a completion-risk model from the events', async () => {
    // The ML Server takes the Content Bridge's access tokens as they are.
    await call(ml, 'POST', '/models', {
      token: admin.token,
      expect: 201,
      json: { name: modelName, task: 'classification', format: 'logistic', description: 'Trained by the user-flow client' },
    });
    const accepted = await call(ml, 'POST', `/models/${modelName}/train`, {
      token: admin.token,
      json: { task: 'completion_risk' },
      expect: 202,
    });
    const deadline = Date.now() + trainTimeoutMs;
    let job;
    for (;;) {
      job = await call(ml, 'GET', `/jobs/${accepted.job_id}`, { token: admin.token });
      if (job.status === 'succeeded' || job.status === 'failed') break;
      if (Date.now() > deadline) throw new FlowError(`training job ${accepted.job_id} still ${job.status} after ${trainTimeoutMs} ms`);
      await sleep(500);
    }
    check(job.status === 'succeeded', `training job ${job.job_id} failed: ${job.error}`);
    check(Number.isInteger(job.result_version), `the job registered no version: ${JSON.stringify(job)}`);
    // The examples include this run's 15 learners of the course (other runs' courses may add more).
    const rows = job.metrics.train_rows + job.metrics.test_rows;
    check(rows >= 15, `the job trained on ${rows} learner-course examples, this run alone provides 15`);
    observed.training = { model: modelName, job_id: job.job_id, version: job.result_version, metrics: job.metrics };
    return job;
  });

  await step('the trained version is aliased production', async () => {
    const alias = await call(ml, 'PUT', `/models/${modelName}/aliases/production`, {
      token: instructor.token,
      json: { version: trained.result_version },
    });
    check(alias.version === trained.result_version, `the alias points at ${alias.version}`);
    const model = await call(ml, 'GET', `/models/${modelName}`, { token: student.token });
    observed.training.aliases = model.aliases;
  });

  // An engaged learner, as the training features describe one.
  const features = {
    active_days: 9,
    events_per_active_day: 5,
    minutes_per_active_day: 14,
    avg_score: 88,
    days_inactive: 1,
    touched_ratio: 1,
  };

  const predicted = await step('POST /predict by alias answers with the trained version', async () => {
    const res = await call(ml, 'POST', '/predict', {
      token: student.token,
      json: { model: modelName, alias: 'production', inputs: [features] },
    });
    check(res.version === trained.result_version, `/predict used version ${res.version}, the alias points at ${trained.result_version}`);
    const p = res.predictions?.[0];
    check(
      p && p.probabilities && Object.keys(p.probabilities).length === 2,
      `/predict returned no class probabilities: ${JSON.stringify(res)}`,
    );
    const sum = Object.values(p.probabilities).reduce((a, b) => a + b, 0);
    check(Math.abs(sum - 1) < 1e-9, `the probabilities sum to ${sum}`);
    observed.predict = { model: res.model, version: res.version, prediction: p, cached: res.cached };
    return p;
  });

  await step('OIP POST /v2/models/{name}/infer answers the same', async () => {
    const res = await call(ml, 'POST', `/v2/models/${modelName}/infer`, {
      token: student.token,
      json: {
        id: `flow-${runId}`,
        inputs: Object.entries(features).map(([name, value]) => ({ name, shape: [1], datatype: 'FP64', data: [value] })),
      },
    });
    check(res.model_version === String(trained.result_version), `infer used version ${res.model_version}`);
    const label = res.outputs?.find((o) => o.name === 'label');
    const probabilities = res.outputs?.find((o) => o.name === 'probabilities');
    check(label && probabilities, `infer returned outputs ${JSON.stringify(res.outputs)}`);
    const p1 = probabilities.data.flat()[1];
    check(
      Math.abs(p1 - predicted.probabilities['1']) < 1e-12,
      `infer gives P(completed) ${p1}, /predict gave ${predicted.probabilities['1']} for the same input`,
    );
    check(String(label.data[0]) === String(predicted.label), `infer labels ${label.data[0]}, /predict ${predicted.label}`);
    observed.infer = { model_name: res.model_name, model_version: res.model_version, id: res.id, outputs: res.outputs };
  });
}

try {
  await main();
  observed.ok = true;
  observed.duration_ms = Date.now() - started;
  process.stdout.write(`${JSON.stringify(observed)}\n`);
  log(`done in ${observed.duration_ms} ms`);
} catch (err) {
  observed.ok = false;
  observed.failed_step = err.step ?? null;
  observed.error = err instanceof FlowError ? err.message : String(err?.stack ?? err);
  observed.duration_ms = Date.now() - started;
  process.stdout.write(`${JSON.stringify(observed)}\n`);
  log(`FAILED${err.step ? ` at "${err.step}"` : ''}: ${observed.error}`);
  process.exitCode = 1;
}
