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
import { COMPLETION_FEATURES, completionFeatures, isCompleted, type Aggregates } from '../training/features.ts';
import { insightsRepository, type InsightsRepository } from './repository.ts';

export const STRONG_TOPIC = 75;
export const WEAK_TOPIC = 60;

export interface InsightsDeps {
  db: Database;
  readDb: Database;
  predictor: Predictor;
  config: MlServerConfig;
}

/** P(the positive class): the second class of a binary classifier, or a regression value. */
function positiveScore(output: PredictionOutput): number {
  if ('value' in output) return output.value;
  const probabilities = Object.values(output.probabilities);
  return probabilities[probabilities.length - 1] ?? Number.NaN;
}

const riskLevel = (risk: number) => (risk >= 2 / 3 ? 'high' : risk >= 1 / 3 ? 'medium' : 'low');

async function userAggregates(repo: InsightsRepository, userId: string): Promise<Aggregates[]> {
  const fromContent = await repo.contentAggregates(userId);
  const online = await repo.onlineFeatures(userId);
  const byCourse = new Map(fromContent.map((a) => [a.courseId, a]));
  const missing = online.filter((o) => !byCourse.has(o.course_id)).map((o) => o.course_id);
  const itemCounts = missing.length ? await repo.publishedItemCounts(missing) : new Map<string, number>();
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

async function topicScores(repo: InsightsRepository, userId: string) {
  const rows = await repo.topicScores(userId);
  return rows.map((r) => ({ tag: r.tag, score: Math.round(r.score * 10) / 10, items: r.items, scored_items: r.scored }));
}

async function pace(repo: InsightsRepository, userId: string, now: Date) {
  const r = await repo.pace(userId, now);
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
  const repo = insightsRepository(deps);
  const [aggregates, topics, learnerPace] = await Promise.all([
    userAggregates(repo, userId),
    topicScores(repo, userId),
    pace(repo, userId, now),
  ]);
  const courseIds = aggregates.map((a) => a.courseId);
  const titles = courseIds.length ? await repo.courseTitles(courseIds) : new Map<string, string>();

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
  const repo = insightsRepository(deps);
  const candidates = await repo.recommendationCandidates(userId);
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
      const [aggregates, topics] = await Promise.all([userAggregates(repo, userId), topicScores(repo, userId)]);
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
