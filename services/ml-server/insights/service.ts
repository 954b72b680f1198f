/**
 * Learner insights and recommendations, computed from the Content Bridge's tables (read through the
 * read-only pool), the online features in ml.user_features, and the served models.
 *
 * - Completion risk per course: 1 − P(completed) from the model aliased `production` of
 *   COMPLETION_RISK_MODEL (default `completion-risk`); null, with the reason, when there is none.
 * - Topics: for every tag (content_items.metadata.tags) of the items the learner touched, the mean
 *   of each item's assessment score (learning events' event_data.score) or, without a score, its
 *   progress percentage. Strong: ≥ 75; weak: < 60 (at most 5 each).
 * - Pace: completed items and minutes (user_progress.time_spent_minutes) per week since the first
 *   progress row (at least one week), and over the last 4 weeks.
 * - Recommendations: published items of the learner's courses, not completed, whose prerequisites
 *   are all completed; ranked by RECOMMENDATION_MODEL (production alias, else latest version) when it
 *   exists and accepts the candidate features, else by course and sequence number.
 */
import type { Database } from '../../kit/deps/database.ts';
import { ProblemError } from '../../kit/http/problem.ts';
import type { MlServerConfig } from '../config.ts';
import type { Predictor, PredictionOutput } from '../serving/predictor.ts';
import { COMPLETION_FEATURES, completionFeatures, isCompleted, readAggregates, type Aggregates } from '../training/features.ts';

export const STRONG_TOPIC = 75;
export const WEAK_TOPIC = 60;

export interface InsightsDeps {
  db: Database;
  readDb: Database;
  predictor: Predictor;
  config: MlServerConfig;
}

/** Reads in one READ ONLY transaction of the read pool. */
function readOnly<T>(db: Database, fn: (q: Database['query']) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.query('SET TRANSACTION READ ONLY');
    return fn(tx.query.bind(tx) as Database['query']);
  });
}

/** P(the positive class): the second class of a binary classifier, or a regression value. */
function positiveScore(output: PredictionOutput): number {
  if ('value' in output) return output.value;
  const probabilities = Object.values(output.probabilities);
  return probabilities[probabilities.length - 1] ?? Number.NaN;
}

const riskLevel = (risk: number) => (risk >= 2 / 3 ? 'high' : risk >= 1 / 3 ? 'medium' : 'low');

async function userAggregates(deps: InsightsDeps, userId: string): Promise<Aggregates[]> {
  const fromContent = await readOnly(deps.readDb, (query) => readAggregates({ query }, { userId }));
  const { rows: online } = await deps.db.query<{
    course_id: string;
    event_count: number;
    active_days: number;
    contents: number;
    completed: number;
    time_spent_seconds: number;
    score_sum: number;
    score_count: number;
    last_event_at: Date | null;
  }>(
    `SELECT course_id::text AS course_id, event_count::float8 AS event_count, cardinality(active_days) AS active_days,
            cardinality(content_ids) AS contents, cardinality(completed_content_ids) AS completed,
            time_spent_seconds, score_sum, score_count, last_event_at
       FROM ml.user_features WHERE user_id = $1`,
    [userId],
  );
  const byCourse = new Map(fromContent.map((a) => [a.courseId, a]));
  const missing = online.filter((o) => !byCourse.has(o.course_id)).map((o) => o.course_id);
  const itemCounts = new Map<string, number>();
  if (missing.length) {
    const { rows } = await readOnly(deps.readDb, (query) =>
      query<{ course_id: string; n: number }>(
        `SELECT course_id::text AS course_id, count(*)::int AS n FROM content.content_items
          WHERE status = 'published' AND course_id::text = ANY($1::text[]) GROUP BY course_id`,
        [missing],
      ),
    );
    for (const r of rows) itemCounts.set(r.course_id, r.n);
  }
  // The online features (from the events batch endpoint) are fresher: they replace the event-derived
  // aggregates of the same course; touched and completed items take the larger of both counts.
  for (const o of online) {
    const base = byCourse.get(o.course_id);
    const courseItems = base?.courseItems ?? itemCounts.get(o.course_id) ?? 0;
    if (courseItems === 0) continue;
    byCourse.set(o.course_id, {
      userId,
      courseId: o.course_id,
      eventCount: Number(o.event_count),
      activeDays: o.active_days,
      timeSpentSeconds: Number(o.time_spent_seconds),
      scoreSum: Number(o.score_sum),
      scoreCount: o.score_count,
      lastEventAt: o.last_event_at ? new Date(o.last_event_at) : null,
      contentsTouched: Math.max(base?.contentsTouched ?? 0, o.contents),
      completed: Math.max(base?.completed ?? 0, o.completed),
      courseItems,
    });
  }
  return [...byCourse.values()];
}

async function topicScores(deps: InsightsDeps, userId: string) {
  return readOnly(deps.readDb, async (query) => {
    const { rows } = await query<{ tag: string; items: number; score: number; scored: number }>(
      `WITH scores AS (
         SELECT e.content_id::text AS content_id, avg((e.event_data ->> 'score')::float8) AS score
           FROM content.learning_events e
          WHERE e.user_id = $1 AND e.content_id IS NOT NULL AND jsonb_typeof(e.event_data -> 'score') = 'number'
          GROUP BY e.content_id
       ),
       prog AS (
         SELECT p.content_id::text AS content_id, p.progress_percentage::float8 AS progress
           FROM content.user_progress p WHERE p.user_id = $2
       )
       SELECT t.tag, count(*)::int AS items, avg(coalesce(s.score, pr.progress))::float8 AS score, count(s.score)::int AS scored
         FROM content.content_items ci
         CROSS JOIN LATERAL jsonb_array_elements_text(
           CASE WHEN jsonb_typeof(ci.metadata -> 'tags') = 'array' THEN ci.metadata -> 'tags' ELSE '[]'::jsonb END) AS t(tag)
         LEFT JOIN scores s ON s.content_id = ci.id::text
         LEFT JOIN prog pr ON pr.content_id = ci.id::text
        WHERE s.content_id IS NOT NULL OR pr.content_id IS NOT NULL
        GROUP BY t.tag
        ORDER BY t.tag`,
      [userId, userId],
    );
    return rows.map((r) => ({ tag: r.tag, score: Math.round(r.score * 10) / 10, items: r.items, scored_items: r.scored }));
  });
}

async function pace(deps: InsightsDeps, userId: string, now: Date) {
  const { rows } = await readOnly(deps.readDb, (query) =>
    query<{ completed: number; minutes: number; first_at: Date | null; recent_completed: number; recent_minutes: number }>(
      `SELECT count(*) FILTER (WHERE completed_at IS NOT NULL)::int AS completed,
              coalesce(sum(time_spent_minutes), 0)::float8 AS minutes,
              min(created_at) AS first_at,
              count(*) FILTER (WHERE completed_at >= $2::timestamptz - interval '28 days')::int AS recent_completed,
              coalesce(sum(time_spent_minutes) FILTER (WHERE last_accessed >= $2::timestamptz - interval '28 days'), 0)::float8 AS recent_minutes
         FROM content.user_progress WHERE user_id = $1`,
      [userId, now],
    ),
  );
  const r = rows[0]!;
  const weeks = r.first_at ? Math.max(1, (now.getTime() - new Date(r.first_at).getTime()) / (7 * 86_400_000)) : 1;
  const round = (x: number) => Math.round(x * 100) / 100;
  return {
    items_completed: r.completed,
    weeks_active: round(weeks),
    items_per_week: round(r.completed / weeks),
    minutes_per_week: round(Number(r.minutes) / weeks),
    last_4_weeks: { items_per_week: round(r.recent_completed / 4), minutes_per_week: round(Number(r.recent_minutes) / 4) },
  };
}

export async function insightsFor(deps: InsightsDeps, userId: string, now = new Date()) {
  const [aggregates, topics, learnerPace] = await Promise.all([
    userAggregates(deps, userId),
    topicScores(deps, userId),
    pace(deps, userId, now),
  ]);
  const courseIds = aggregates.map((a) => a.courseId);
  const titles = new Map<string, string>();
  if (courseIds.length) {
    const { rows } = await readOnly(deps.readDb, (query) =>
      query<{ id: string; title: string }>('SELECT id::text AS id, title FROM content.courses WHERE id::text = ANY($1::text[])', [
        courseIds,
      ]),
    );
    for (const r of rows) titles.set(r.id, r.title);
  }

  let model: { name: string; version: number } | null = null;
  let unavailable: string | null = null;
  let scores: number[] = [];
  if (aggregates.length) {
    try {
      const result = await deps.predictor.predict({
        model: deps.config.COMPLETION_RISK_MODEL,
        alias: 'production',
        rows: aggregates.map((a) => completionFeatures(a, now)),
        userId,
      });
      model = { name: result.model, version: result.version };
      scores = result.outputs().map(positiveScore);
    } catch (err) {
      if (!(err instanceof ProblemError)) throw err;
      unavailable = err.detail ?? err.message;
    }
  }
  const courses = aggregates.map((a, i) => {
    const completed = isCompleted(a);
    const p = scores[i];
    const risk = model && p !== undefined && Number.isFinite(p) ? (completed ? 0 : 1 - p) : null;
    return {
      course_id: a.courseId,
      title: titles.get(a.courseId) ?? null,
      completed,
      items_completed: a.completed,
      items_total: a.courseItems,
      completion_probability: model && p !== undefined && Number.isFinite(p) ? p : null,
      risk,
      risk_level: risk === null ? null : riskLevel(risk),
      features: completionFeatures(a, now),
    };
  });
  const open = courses.filter((c) => !c.completed && c.risk !== null);
  const overall = open.length ? Math.max(...open.map((c) => c.risk!)) : model ? 0 : null;
  return {
    user_id: userId,
    generated_at: now.toISOString(),
    completion_risk: {
      model,
      ...(unavailable ? { unavailable } : {}),
      overall,
      level: overall === null ? null : riskLevel(overall),
      features: [...COMPLETION_FEATURES],
      courses,
    },
    strong_topics: topics
      .filter((t) => t.score >= STRONG_TOPIC)
      .sort((a, b) => b.score - a.score)
      .slice(0, 5),
    weak_topics: topics
      .filter((t) => t.score < WEAK_TOPIC)
      .sort((a, b) => a.score - b.score)
      .slice(0, 5),
    topics,
    pace: learnerPace,
  };
}

export async function recommendationsFor(deps: InsightsDeps, userId: string, limit: number) {
  const candidates = await readOnly(deps.readDb, async (query) => {
    const { rows } = await query<{
      content_id: string;
      course_id: string;
      course_title: string;
      title: string;
      content_type: string;
      sequence_number: number | null;
      tags: unknown;
      prerequisites: string[];
    }>(
      `WITH my_courses AS (
         SELECT course_id::text AS course_id FROM content.user_progress WHERE user_id = $1 AND course_id IS NOT NULL
         UNION
         SELECT course_id::text FROM content.learning_events WHERE user_id = $2 AND course_id IS NOT NULL
       ),
       done AS (SELECT content_id::text AS content_id FROM content.user_progress WHERE user_id = $1 AND completed_at IS NOT NULL)
       SELECT ci.id::text AS content_id, ci.course_id::text AS course_id, c.title AS course_title, ci.title, ci.content_type,
              ci.sequence_number, ci.metadata -> 'tags' AS tags, ci.prerequisites
         FROM content.content_items ci JOIN content.courses c ON c.id = ci.course_id
        WHERE ci.status = 'published'
          AND ci.course_id::text IN (SELECT course_id FROM my_courses)
          AND ci.id::text NOT IN (SELECT content_id FROM done)
          AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements_text(ci.prerequisites) AS p(id) WHERE p.id NOT IN (SELECT content_id FROM done))
        ORDER BY c.title, ci.course_id, ci.sequence_number NULLS LAST, ci.created_at, ci.id`,
      [userId, userId],
    );
    return rows;
  });
  const items = candidates.map((c) => ({
    content_id: c.content_id,
    course_id: c.course_id,
    course_title: c.course_title,
    title: c.title,
    content_type: c.content_type,
    sequence_number: c.sequence_number,
    tags: Array.isArray(c.tags) ? (c.tags as unknown[]).map(String) : [],
    prerequisites: c.prerequisites,
  }));
  let ranking: { method: 'model' | 'sequence'; model?: string; version?: number; reason?: string } = { method: 'sequence' };
  let scored = items.map((item) => ({ ...item, score: null as number | null }));
  if (items.length) {
    try {
      const [aggregates, topics] = await Promise.all([userAggregates(deps, userId), topicScores(deps, userId)]);
      const progress = new Map(aggregates.map((a) => [a.courseId, a.courseItems ? a.completed / a.courseItems : 0]));
      const topicScore = new Map(topics.map((t) => [t.tag, t.score]));
      const rows = items.map((item) => {
        const known = item.tags.map((t) => topicScore.get(t)).filter((s): s is number => s !== undefined);
        return {
          sequence_number: item.sequence_number,
          course_progress: progress.get(item.course_id) ?? 0,
          topic_score: known.length ? known.reduce((a, b) => a + b, 0) / known.length : null,
          prerequisites_count: item.prerequisites.length,
          content_type: item.content_type,
        };
      });
      const result = await deps.predictor.predict({ model: deps.config.RECOMMENDATION_MODEL, rows, userId });
      const outputs = result.outputs();
      scored = items.map((item, i) => ({ ...item, score: positiveScore(outputs[i]!) }));
      scored.sort((a, b) => b.score! - a.score! || (a.sequence_number ?? Infinity) - (b.sequence_number ?? Infinity));
      ranking = { method: 'model', model: result.model, version: result.version };
    } catch (err) {
      if (!(err instanceof ProblemError)) throw err;
      ranking = { method: 'sequence', reason: err.detail ?? err.message };
    }
  }
  return { user_id: userId, ranking, recommendations: scored.slice(0, limit) };
}
