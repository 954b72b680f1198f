/**
 * Training end to end: learning data seeded with SQL in the Content Bridge's tables, read through a
 * read-only role; the job registers a version with its metrics; aliasing it to production drives the
 * insights and recommendations; learning events update the online features; jobs survive restarts.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../harness/index.ts';
import type { Database } from '../../../services/kit/deps/database.ts';
import { createTestDatabase, defaultEndpoints } from '../support/content-bridge.ts';
import { connectSql, openTestDatabase } from '../support/drivers.ts';
import { client, type Client } from '../support/http.ts';
import { createReadOnlyRole, ensureContentSchema, startTestMlServer, uploadVersion, type TestMlServer } from '../support/ml-server.ts';
import { createModel, expectProblem } from './helpers.ts';
import { createUser, seedActivity, seedCourses, seedLearners, type Course } from './seed.ts';

async function waitForJob(api: Client, token: string, id: string) {
  let job: any;
  await waitUntil(
    `job ${id} finished`,
    async () => {
      job = (await api.get(`/jobs/${id}`, token)).body;
      return job.status === 'succeeded' || job.status === 'failed';
    },
    { timeoutMs: 30_000 },
  );
  return job;
}

describe('training, insights and recommendations', () => {
  let databaseUrl: string;
  let readOnlyUrl: string;
  let db: Database;
  let ml: TestMlServer;
  let api: Client;
  let admin: string;
  let courses: Course[];
  let active: string;
  let lapsed: string;

  beforeAll(async () => {
    databaseUrl = await createTestDatabase(defaultEndpoints().postgresUrl);
    await ensureContentSchema(databaseUrl);
    db = openTestDatabase(databaseUrl, { poolSize: 2 });
    courses = await seedCourses(db);
    await seedLearners(db, courses, 80);
    // Two learners half-way through the first course: one active and scoring well, one gone quiet.
    const now = new Date();
    let r = 0.3;
    const random = () => (r = ((r * 9301 + 49297) % 233280) / 233280);
    active = await createUser(db, 'active_learner');
    await seedActivity(db, active, courses[0]!, { done: 2, engagement: 0.95, lastSeenDaysAgo: 0, now, random, scoreBias: 10 });
    lapsed = await createUser(db, 'lapsed_learner');
    await seedActivity(db, lapsed, courses[0]!, { done: 2, engagement: 0.05, lastSeenDaysAgo: 45, now, random, scoreBias: -20 });
    readOnlyUrl = await createReadOnlyRole(databaseUrl);
    ml = await startTestMlServer({ databaseUrl, env: { ML_READONLY_DATABASE_URL: readOnlyUrl } });
    api = client(ml.url);
    admin = ml.token({ roles: ['admin'] });
  });
  afterAll(async () => {
    await ml?.close();
    await db?.close();
  });

  it('uses a read-only role for the learning data', async () => {
    const ro = await connectSql(readOnlyUrl);
    try {
      expect((await ro.query('SELECT count(*)::int AS n FROM content.learning_events')).rows[0].n).toBeGreaterThan(100);
      await expect(ro.query("INSERT INTO content.courses (title) VALUES ('x')")).rejects.toThrow(/read-only|permission denied/);
      await expect(ro.query('SELECT 1 FROM ml.models')).rejects.toThrow(/permission denied/);
    } finally {
      await ro.end();
    }
    expect(ml.readDb).not.toBe(ml.deps.db);
  });

  it('trains completion risk in the background and registers a version with its metrics', async () => {
    await createModel(api, admin, { name: 'completion-risk', task: 'classification', format: 'logistic' });
    const accepted = await api.post('/models/completion-risk/train', { task: 'completion_risk' }, admin);
    expect(accepted.status).toBe(202);
    expect(accepted.body.status).toBe('queued');
    expect(accepted.headers.get('location')).toBe(`/jobs/${accepted.body.job_id}`);

    const job = await waitForJob(api, admin, accepted.body.job_id);
    expect(job.status, job.error).toBe('succeeded');
    expect(job.result_version).toBe(1);
    expect(job.metrics.auc).toBeGreaterThan(0.8);
    expect(job.metrics.accuracy).toBeGreaterThan(0.7);
    expect(job.metrics.test_rows + job.metrics.train_rows).toBe(160 + 2);
    expect(job.started_at).toBeTruthy();
    expect(job.finished_at).toBeTruthy();

    const version = await api.get('/models/completion-risk/versions/1', admin);
    expect(version.body).toMatchObject({
      source: 'training',
      training_job_id: job.job_id,
      format: 'logistic',
      metrics: { auc: job.metrics.auc },
    });
    expect(Object.keys(version.body.training_stats.features).sort()).toEqual([
      'active_days',
      'avg_score',
      'days_inactive',
      'events_per_active_day',
      'minutes_per_active_day',
      'touched_ratio',
    ]);
    expect(version.body.training_stats.features.active_days.mean).toBeGreaterThan(2);
    // Training never promotes: the alias is a deliberate step.
    expect(version.body.aliases).toEqual([]);
  });

  it('fails a job with a reason when there is not enough data, and refuses unsuitable models', async () => {
    const accepted = await api.post('/models/completion-risk/train', { task: 'completion_risk', to: '2001-01-01T00:00:00Z' }, admin);
    const job = await waitForJob(api, admin, accepted.body.job_id);
    expect(job.status).toBe('failed');
    expect(job.error).toMatch(/not enough training data: 0 learner-course examples/);

    await createModel(api, admin, { name: 'a-regression', task: 'regression', format: 'linear' });
    expectProblem(await api.post('/models/a-regression/train', { task: 'completion_risk' }, admin), 422, /logistic classification/);
    expectProblem(await api.post('/models/missing/train', { task: 'completion_risk' }, admin), 404);
    expectProblem(await api.post('/models/completion-risk/train', { task: 'churn' }, admin), 422);
    expectProblem(await api.get(`/jobs/${randomUUID()}`, admin), 404);
  });

  it('gives insights: completion risk from the production model, topics and pace', async () => {
    const before = await api.get(`/api/ml/insights/${active}`, admin);
    expect(before.status).toBe(200);
    expect(before.body.completion_risk.model).toBeNull();
    expect(before.body.completion_risk.unavailable).toMatch(/no alias 'production'/);
    expect(before.body.completion_risk.courses[0].risk).toBeNull();

    expect((await api.put('/models/completion-risk/aliases/production', { version: 1 }, admin)).status).toBe(200);
    const good = (await api.get(`/api/ml/insights/${active}`, ml.token({ userId: active, roles: ['student'] }))).body;
    const bad = (await api.get(`/api/ml/insights/${lapsed}`, admin)).body;
    expect(good.completion_risk.model).toEqual({ name: 'completion-risk', version: 1 });
    expect(good.completion_risk.courses).toHaveLength(1);
    const goodCourse = good.completion_risk.courses[0];
    const badCourse = bad.completion_risk.courses[0];
    expect(goodCourse).toMatchObject({
      course_id: courses[0]!.id,
      title: 'Hunter Safety',
      completed: false,
      items_completed: 2,
      items_total: 5,
    });
    expect(badCourse.risk).toBeGreaterThan(goodCourse.risk);
    expect(bad.completion_risk.level).toBe('high');
    expect(goodCourse.risk + goodCourse.completion_probability).toBeCloseTo(1, 10);

    // Topics: the active learner scores well, the lapsed one poorly, on the tags of what they touched.
    expect(good.strong_topics.map((t: any) => t.tag)).toContain('safety');
    expect(bad.weak_topics.map((t: any) => t.tag)).toContain('safety');
    expect(good.weak_topics).toEqual([]);
    expect(good.topics.map((t: any) => t.tag).sort()).toEqual(['firearms', 'safety']);

    expect(good.pace.items_completed).toBe(2);
    expect(good.pace.items_per_week).toBeGreaterThan(0);
    expect(good.pace.minutes_per_week).toBeGreaterThan(0);
  });

  it('recommends the next items whose prerequisites are complete, by sequence or by a model', async () => {
    const bySequence = await api.get(`/api/ml/recommendations/${active}`, admin);
    expect(bySequence.status).toBe(200);
    expect(bySequence.body.ranking.method).toBe('sequence');
    // Items 1-2 are done; item 3 needs item 2 (done), item 4 needs item 3 (not done).
    expect(bySequence.body.recommendations.map((r: any) => r.content_id)).toEqual([courses[0]!.items[2]!.id]);

    // A learner with nothing done in both courses gets the first item of each.
    const fresh = await createUser(db, 'fresh_learner');
    await db.query(
      `INSERT INTO content.user_progress (user_id, course_id, content_id, progress_percentage) VALUES ($1, $2, $3, 10), ($1, $4, $5, 10)`,
      [fresh, courses[0]!.id, courses[0]!.items[0]!.id, courses[1]!.id, courses[1]!.items[0]!.id],
    );
    const freshRecs = (await api.get(`/api/ml/recommendations/${fresh}`, admin)).body;
    expect(freshRecs.recommendations.map((r: any) => r.title)).toEqual(['Field Craft 1', 'Hunter Safety 1']);

    // A recommendation model that prefers the Hunter Safety course (lower course progress first).
    await createModel(api, admin, { name: 'content-recommendation', task: 'regression', format: 'linear' });
    const up = await uploadVersion(ml.url, admin, 'content-recommendation', {
      format: 'linear',
      feature_names: ['sequence_number', 'prerequisites_count'],
      coefficients: [-1, 0],
      intercept: 10,
    });
    expect(up.status).toBe(201);
    // The same item ranks by the model now; both items have sequence 1, so the model ties and sequence breaks the tie.
    const byModel = (await api.get(`/api/ml/recommendations/${fresh}?limit=1`, admin)).body;
    expect(byModel.ranking).toEqual({ method: 'model', model: 'content-recommendation', version: 1 });
    expect(byModel.recommendations).toHaveLength(1);
    expect(byModel.recommendations[0].score).toBe(9);

    // A model that needs a feature the candidates do not have falls back to sequence, saying why.
    const up2 = await uploadVersion(ml.url, admin, 'content-recommendation', {
      format: 'linear',
      feature_names: ['difficulty'],
      coefficients: [1],
      intercept: 0,
    });
    expect(up2.status).toBe(201);
    const fallback = (await api.get(`/api/ml/recommendations/${fresh}`, admin)).body;
    expect(fallback.ranking.method).toBe('sequence');
    expect(fallback.ranking.reason).toMatch(/difficulty/);
  });

  it('folds learning events into the online features, once per event id', async () => {
    const learner = await createUser(db, 'streamed_learner');
    const course = courses[1]!;
    const events = [0, 1, 2].map((d) => ({
      event_id: `evt-${learner}-${d}`,
      event_type: d === 2 ? 'progress_update' : 'assessment_complete',
      user_id: learner.toUpperCase(),
      timestamp: new Date(Date.now() - d * 86_400_000).toISOString(),
      context: { course_id: course.id, content_id: course.items[d]!.id },
      data: d === 2 ? { progress_percentage: 100, time_spent_seconds: 600 } : { score: 90, time_spent_seconds: 300 },
    }));
    const instructor = ml.token({ roles: ['instructor'] });
    const first = await api.post('/api/ml/events/batch', { events }, instructor);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body).toEqual({ accepted: 3, duplicates: 0, skipped: 0, features_updated: 1 });
    const again = await api.post('/api/ml/events/batch', [...events, { ...events[0]!, event_id: undefined, context: null }], instructor);
    expect(again.body).toEqual({ accepted: 1, duplicates: 3, skipped: 1, features_updated: 0 });

    const { rows } = await db.query<any>('SELECT * FROM ml.user_features WHERE user_id = $1', [learner]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ course_id: course.id, score_count: 2, score_sum: 180, time_spent_seconds: 1200 });
    expect(Number(rows[0].event_count)).toBe(3);
    expect(rows[0].active_days).toHaveLength(3);
    expect(rows[0].completed_content_ids).toEqual([course.items[2]!.id]);

    const insights = (await api.get(`/api/ml/insights/${learner}`, admin)).body;
    const c = insights.completion_risk.courses.find((x: any) => x.course_id === course.id);
    expect(c.features).toMatchObject({ active_days: 3, avg_score: 90, events_per_active_day: 1 });
    expect(c.items_completed).toBe(1);
    expect(c.risk).toBeGreaterThan(0);

    expectProblem(
      await api.post('/api/ml/events/batch', { events: [{ event_type: 'content_view', user_id: learner }] }, instructor),
      422,
      /body/,
    );
  });

  it('marks jobs interrupted by a restart as failed, leaving live replicas alone', async () => {
    const model = (await db.query<{ id: string }>("SELECT id FROM ml.models WHERE name = 'completion-risk'")).rows[0]!.id;
    const insert = async (instance: string, heartbeatAgo: string) =>
      (
        await db.query<{ id: string }>(
          `INSERT INTO ml.training_jobs (model_id, task, status, instance_id, heartbeat_at, started_at)
           VALUES ($1, 'completion_risk', 'running', $2, now() - $3::interval, now()) RETURNING id`,
          [model, instance, heartbeatAgo],
        )
      ).rows[0]!.id;
    const mine = await insert('replica-a', '1 second');
    const deadReplica = await insert('replica-gone', '1 hour');
    const liveReplica = await insert('replica-b', '1 second');

    const restarted = await startTestMlServer({ databaseUrl, bucket: ml.bucket, env: { ML_INSTANCE_ID: 'replica-a' } });
    try {
      const rapi = client(restarted.url);
      const token = restarted.token({ roles: ['admin'] });
      expect((await rapi.get(`/jobs/${mine}`, token)).body).toMatchObject({ status: 'failed', error: 'interrupted by restart' });
      expect((await rapi.get(`/jobs/${deadReplica}`, token)).body).toMatchObject({ status: 'failed', error: 'interrupted by restart' });
      expect((await rapi.get(`/jobs/${liveReplica}`, token)).body).toMatchObject({ status: 'running', error: null });
    } finally {
      await restarted.close();
    }
  });
});
