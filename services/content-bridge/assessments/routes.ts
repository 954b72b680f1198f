/**
 * Assessments (issue 4 §2): instructors and admins define them; any signed-in user starts attempts
 * within `attempts_allowed` once the prerequisites are met, submits once before the deadline (plus a
 * grace of SUBMIT_GRACE_SECONDS) and reads their results; instructors and admins grade the
 * short_answer/essay questions by hand. A final result (all questions graded) emits an
 * `assessment_complete` learning event and updates course progress (see events.ts).
 *
 * Who sees correct answers: instructors and admins, in the definition and in results. Students see
 * neither the correct answers of the definition nor those of their results, only whether each
 * answer was correct and the points it earned.
 */
import { z } from 'zod';
import type { Queryable } from '../../kit/deps/database.ts';
import { ProblemError, problem, type FieldError } from '../../kit/http/problem.ts';
import { route, type Principal, type RouteSpec } from '../../kit/http/routes.ts';
import type { AppContext } from '../context.ts';
import { outboxLearningEventSink, recordCourseProgress, type LearningEventSink } from './events.ts';
import { applyGrades, checkAnswers, checkGrades, gradeSubmission, score } from './grading.ts';
import {
  answerValueSchema,
  assessmentInputSchema,
  ASSESSMENT_TYPES,
  checkDefinition,
  MAX_POINTS,
  MAX_QUESTIONS,
  MAX_TEXT,
  QUESTION_TYPES,
  totalPoints,
} from './model.ts';
import { assessmentsRepository, SUBMIT_GRACE_SECONDS, type AssessmentRow, type AttemptRow } from './repository.ts';

const isStaff = (p: Principal | undefined) => Boolean(p?.roles.some((r) => r === 'instructor' || r === 'admin'));

const answerList = z.array(z.strictObject({ question_id: z.string().min(1).max(100), answer: answerValueSchema })).max(MAX_QUESTIONS);

const submitBody = z.strictObject({ attempt_id: z.uuid(), answers: answerList });

const gradeBody = z.strictObject({
  attempt_id: z.uuid(),
  grades: z
    .array(
      z.strictObject({
        question_id: z.string().min(1).max(100),
        points: z.number().min(0).max(MAX_POINTS),
        feedback: z.string().max(MAX_TEXT).optional(),
      }),
    )
    .min(1)
    .max(MAX_QUESTIONS),
});

const answerOut = z.union([z.string(), z.array(z.string())]);

const questionOut = z.object({
  question_id: z.string(),
  type: z.enum(QUESTION_TYPES),
  question_text: z.string(),
  options: z.array(z.string()),
  correct_answer: answerOut.nullable().optional().describe('Instructors and admins only'),
  points: z.number(),
  metadata: z.record(z.string(), z.unknown()),
});

const assessmentOut = z.object({
  assessment_id: z.uuid(),
  title: z.string(),
  type: z.enum(ASSESSMENT_TYPES),
  questions: z.array(questionOut),
  total_points: z.number(),
  time_limit_minutes: z.number().int().nullable(),
  passing_score: z.number().describe('Percentage of total_points needed to pass'),
  attempts_allowed: z.number().int().nullable(),
  metadata: z.object({ course_id: z.uuid().nullable(), difficulty_level: z.string().nullable(), prerequisites: z.array(z.uuid()) }),
  created_by: z.uuid().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
  attempts_used: z.number().int().describe("The caller's attempts so far"),
  attempts_remaining: z.number().int().nullable().describe('null = unlimited'),
});

const startOut = z.object({
  attempt_id: z.uuid(),
  assessment_id: z.uuid(),
  attempt_number: z.number().int(),
  started_at: z.string(),
  deadline: z.string().nullable(),
  attempts_allowed: z.number().int().nullable(),
  attempts_remaining: z.number().int().nullable(),
});

const resultOut = z.object({
  attempt_id: z.uuid(),
  assessment_id: z.uuid(),
  user_id: z.uuid(),
  attempt_number: z.number().int(),
  status: z.enum(['started', 'submitted', 'graded']),
  expired: z.boolean().describe('Never submitted, and the deadline plus grace has passed'),
  final: z.boolean(),
  pending_manual_grading: z.boolean(),
  started_at: z.string(),
  deadline: z.string().nullable(),
  submitted_at: z.string().nullable(),
  graded_at: z.string().nullable(),
  auto_score: z.number().nullable().describe('Points from automatically graded questions'),
  score: z.number().nullable().describe('Points awarded; null until final'),
  max_score: z.number(),
  score_percent: z.number().nullable(),
  passing_score: z.number(),
  passed: z.boolean().nullable(),
  questions: z.array(
    z.object({
      question_id: z.string(),
      type: z.enum(QUESTION_TYPES),
      answered: z.boolean(),
      answer: answerOut.nullable(),
      correct: z.boolean().nullable(),
      points_awarded: z.number().nullable(),
      points_possible: z.number(),
      grading: z.enum(['auto', 'pending', 'manual']),
      feedback: z.string().nullable(),
      correct_answer: answerOut.nullable().optional().describe('Instructors and admins only'),
    }),
  ),
});

function toAssessment(row: AssessmentRow, opts: { revealAnswers: boolean; attemptsUsed: number }): z.infer<typeof assessmentOut> {
  return {
    assessment_id: row.id,
    title: row.title,
    type: row.assessment_type,
    questions: row.questions.map((q) => ({
      question_id: q.question_id,
      type: q.type,
      question_text: q.question_text,
      options: q.options,
      ...(opts.revealAnswers ? { correct_answer: q.correct_answer } : {}),
      points: q.points,
      metadata: q.metadata,
    })),
    total_points: Number(row.total_points),
    time_limit_minutes: row.time_limit_minutes,
    passing_score: Number(row.passing_score),
    attempts_allowed: row.attempts_allowed,
    metadata: { course_id: row.course_id, difficulty_level: row.difficulty_level, prerequisites: row.prerequisites },
    created_by: row.created_by,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    attempts_used: opts.attemptsUsed,
    attempts_remaining: row.attempts_allowed === null ? null : Math.max(0, row.attempts_allowed - opts.attemptsUsed),
  };
}

const num = (v: string | null) => (v === null ? null : Number(v));

function toResult(attempt: AttemptRow, assessment: AssessmentRow, opts: { revealAnswers: boolean }): z.infer<typeof resultOut> {
  const correct = new Map(assessment.questions.map((q) => [q.question_id, q.correct_answer]));
  const results = attempt.results ?? [];
  return {
    attempt_id: attempt.id,
    assessment_id: attempt.assessment_id,
    user_id: attempt.user_id,
    attempt_number: attempt.attempt_number,
    status: attempt.status,
    expired: attempt.expired,
    final: attempt.status === 'graded',
    pending_manual_grading: attempt.status === 'submitted',
    started_at: attempt.started_at.toISOString(),
    deadline: attempt.deadline?.toISOString() ?? null,
    submitted_at: attempt.submitted_at?.toISOString() ?? null,
    graded_at: attempt.graded_at?.toISOString() ?? null,
    auto_score: num(attempt.auto_score),
    score: num(attempt.final_score),
    max_score: Number(attempt.max_score),
    score_percent: num(attempt.score_percent),
    passing_score: Number(assessment.passing_score),
    passed: attempt.passed,
    questions: results.map((r) => ({
      question_id: r.question_id,
      type: r.type,
      answered: r.answered,
      answer: r.answer,
      correct: r.correct,
      points_awarded: r.points_awarded,
      points_possible: r.points_possible,
      grading: r.grading,
      feedback: r.feedback,
      ...(opts.revealAnswers ? { correct_answer: correct.get(r.question_id) ?? null } : {}),
    })),
  };
}

const attemptConflict = (attempt: AttemptRow): ProblemError => {
  if (attempt.submitted_at) {
    return new ProblemError({
      status: 409,
      title: 'Already Submitted',
      detail: 'This attempt has already been submitted; start a new attempt to answer again',
      extensions: { attempt_id: attempt.id, submitted_at: attempt.submitted_at.toISOString() },
    });
  }
  if (attempt.expired) {
    return new ProblemError({
      status: 409,
      title: 'Deadline Passed',
      detail: `The attempt's deadline has passed (submissions are accepted up to ${SUBMIT_GRACE_SECONDS} s after it)`,
      extensions: { attempt_id: attempt.id, deadline: attempt.deadline?.toISOString() ?? null, grace_seconds: SUBMIT_GRACE_SECONDS },
    });
  }
  return problem.conflict('The attempt cannot be submitted now');
};

export interface AssessmentRouteOptions {
  /** Where `assessment_complete` events go; defaults to the outbox sink (events.ts). */
  sink?: LearningEventSink;
}

export function assessmentRoutes(app: AppContext, opts: AssessmentRouteOptions = {}): RouteSpec[] {
  const { db } = app.deps;
  const repo = assessmentsRepository(db);
  const sink = opts.sink ?? outboxLearningEventSink(app.logger);

  /** The final-result side effects, in the finalising transaction. */
  async function finalise(tx: Queryable, assessment: AssessmentRow, attempt: AttemptRow): Promise<void> {
    const scorePercent = Number(attempt.score_percent);
    const contentIds = await recordCourseProgress(tx, {
      userId: attempt.user_id,
      assessmentId: assessment.id,
      courseId: assessment.course_id,
      attemptId: attempt.id,
      scorePercent,
      passed: attempt.passed === true,
    });
    await sink.record(tx, {
      event_type: 'assessment_complete',
      event_id: attempt.id,
      user_id: attempt.user_id,
      course_id: assessment.course_id,
      content_id: contentIds[0] ?? null,
      occurred_at: (attempt.graded_at ?? new Date()).toISOString(),
      data: {
        assessment_id: assessment.id,
        attempt_id: attempt.id,
        score: scorePercent,
        points: Number(attempt.final_score),
        max_points: Number(attempt.max_score),
        passed: attempt.passed === true,
        passing_score: Number(assessment.passing_score),
        attempt_number: attempt.attempt_number,
      },
    });
  }

  return [
    route({
      method: 'post',
      path: '/api/assessments',
      summary: 'Create an assessment (passing_score is a percentage 0..100 of the total points)',
      tags: ['assessments'],
      access: ['instructor', 'admin'],
      body: assessmentInputSchema,
      responses: { 201: { description: 'The assessment, with correct answers', schema: assessmentOut } },
      async handler({ ctx, body, principal }) {
        const { errors, questions } = checkDefinition(body);
        const courseId = body.metadata?.course_id ?? null;
        const prerequisites = body.metadata?.prerequisites ?? [];
        if (courseId && !(await repo.courseExists(courseId)))
          errors.push({ location: 'body.metadata.course_id', message: `no course ${courseId}` });
        const kinds = await repo.classify(prerequisites);
        prerequisites.forEach((p, i) => {
          if (!kinds.has(p))
            errors.push({ location: `body.metadata.prerequisites.${i}`, message: `${p} is neither a content item nor an assessment` });
        });
        if (errors.length) throw problem.unprocessable('The assessment is invalid', errors);
        const row = await repo.create({
          title: body.title,
          type: body.type,
          questions,
          totalPoints: totalPoints(questions),
          timeLimitMinutes: body.time_limit_minutes ?? null,
          passingScore: body.passing_score,
          attemptsAllowed: body.attempts_allowed ?? null,
          courseId,
          difficultyLevel: body.metadata?.difficulty_level ?? null,
          prerequisites,
          createdBy: principal!.userId,
        });
        ctx.status = 201;
        ctx.set('Location', `/api/assessments/${row.id}`);
        ctx.body = toAssessment(row, { revealAnswers: true, attemptsUsed: 0 });
      },
    }),
    route({
      method: 'get',
      path: '/api/assessments/{assessment_id}',
      summary: 'One assessment; correct answers only for instructors and admins',
      tags: ['assessments'],
      access: 'authenticated',
      params: z.strictObject({ assessment_id: z.uuid() }),
      responses: { 200: { description: 'The assessment', schema: assessmentOut } },
      async handler({ ctx, params, principal }) {
        const row = await repo.find(params.assessment_id);
        if (!row) throw problem.notFound('No such assessment');
        const attemptsUsed = await repo.countAttempts(principal!.userId, row.id);
        ctx.body = toAssessment(row, { revealAnswers: isStaff(principal), attemptsUsed });
      },
    }),
    route({
      method: 'post',
      path: '/api/assessments/{assessment_id}/start',
      summary: 'Start an attempt (409 when no attempts are left or prerequisites are not met)',
      tags: ['assessments'],
      access: 'authenticated',
      params: z.strictObject({ assessment_id: z.uuid() }),
      responses: { 201: { description: 'The new attempt', schema: startOut } },
      async handler({ ctx, params, principal }) {
        const userId = principal!.userId;
        const assessment = await repo.find(params.assessment_id);
        if (!assessment) throw problem.notFound('No such assessment');
        const { attempt, used } = await db.transaction(async (tx) => {
          await repo.lockAttempts(tx, userId, assessment.id);
          const missing = await repo.missingPrerequisites(userId, assessment.prerequisites, tx);
          if (missing.length) {
            throw new ProblemError({
              status: 409,
              title: 'Prerequisites Not Met',
              detail: `Complete ${missing.length} prerequisite(s) first: content items must be completed and assessments passed`,
              extensions: { missing_prerequisites: missing },
            });
          }
          const count = await repo.countAttempts(userId, assessment.id, tx);
          if (assessment.attempts_allowed !== null && count >= assessment.attempts_allowed) {
            throw new ProblemError({
              status: 409,
              title: 'No Attempts Left',
              detail: `All ${assessment.attempts_allowed} allowed attempt(s) have been used`,
              extensions: { attempts_allowed: assessment.attempts_allowed, attempts_used: count },
            });
          }
          const started = await repo.startAttempt(tx, {
            assessmentId: assessment.id,
            userId,
            attemptNumber: count + 1,
            timeLimitMinutes: assessment.time_limit_minutes,
            maxScore: Number(assessment.total_points),
          });
          return { attempt: started, used: count + 1 };
        });
        ctx.status = 201;
        ctx.body = {
          attempt_id: attempt.id,
          assessment_id: assessment.id,
          attempt_number: attempt.attempt_number,
          started_at: attempt.started_at.toISOString(),
          deadline: attempt.deadline?.toISOString() ?? null,
          attempts_allowed: assessment.attempts_allowed,
          attempts_remaining: assessment.attempts_allowed === null ? null : Math.max(0, assessment.attempts_allowed - used),
        };
      },
    }),
    route({
      method: 'post',
      path: '/api/assessments/submit',
      summary: `Submit an attempt once (its owner only, up to ${SUBMIT_GRACE_SECONDS} s after the deadline); objective questions are graded at once`,
      tags: ['assessments'],
      access: 'authenticated',
      body: submitBody,
      responses: { 200: { description: 'The result (pending_manual_grading when short_answer/essay answers wait)', schema: resultOut } },
      async handler({ ctx, body, principal }) {
        const userId = principal!.userId;
        const current = await repo.findAttempt(body.attempt_id);
        if (!current) throw problem.notFound('No such attempt');
        if (current.user_id !== userId) throw problem.forbidden('Only the user who started an attempt may submit it');
        if (current.submitted_at || current.expired) throw attemptConflict(current);
        const assessment = await repo.find(current.assessment_id);
        if (!assessment) throw problem.notFound('The assessment no longer exists');
        const answerErrors: FieldError[] = checkAnswers(assessment.questions, body.answers);
        if (answerErrors.length) throw problem.unprocessable('The answers do not fit the questions', answerErrors);

        const saved = await db.transaction(async (tx) => {
          const claimed = await repo.claimSubmission(tx, body.attempt_id, userId);
          if (!claimed) {
            const now = await repo.findAttempt(body.attempt_id, tx);
            throw now ? attemptConflict(now) : problem.notFound('No such attempt');
          }
          const graded = gradeSubmission(assessment.questions, body.answers);
          const final = graded.pendingManual ? null : score(graded.results, Number(assessment.passing_score));
          const row = await repo.saveResults(tx, claimed.id, {
            answers: body.answers,
            results: graded.results,
            autoScore: graded.autoPoints,
            final: final && { points: final.points, percent: final.percent, passed: final.passed, gradedBy: null },
          });
          if (final) await finalise(tx, assessment, row);
          return row;
        });
        ctx.body = toResult(saved, assessment, { revealAnswers: false });
      },
    }),
    route({
      method: 'get',
      path: '/api/assessments/results/{attempt_id}',
      summary: 'Results of an attempt: its owner, or an instructor or admin (who also see the correct answers)',
      tags: ['assessments'],
      access: 'authenticated',
      params: z.strictObject({ attempt_id: z.uuid() }),
      responses: { 200: { description: 'The result', schema: resultOut } },
      async handler({ ctx, params, principal }) {
        const attempt = await repo.findAttempt(params.attempt_id);
        if (!attempt) throw problem.notFound('No such attempt');
        const staff = isStaff(principal);
        if (attempt.user_id !== principal!.userId && !staff) throw problem.forbidden("You may only read your own attempts' results");
        const assessment = await repo.find(attempt.assessment_id);
        if (!assessment) throw problem.notFound('The assessment no longer exists');
        ctx.body = toResult(attempt, assessment, { revealAnswers: staff });
      },
    }),
    route({
      method: 'post',
      path: '/api/assessments/grade',
      summary: 'Grade short_answer/essay answers of a submitted attempt; the result becomes final when none is left ungraded',
      tags: ['assessments'],
      access: ['instructor', 'admin'],
      body: gradeBody,
      responses: { 200: { description: 'The result after grading', schema: resultOut } },
      async handler({ ctx, body, principal }) {
        const graderId = principal!.userId;
        const { attempt, assessment } = await db.transaction(async (tx) => {
          const current = await repo.findAttempt(body.attempt_id, tx, { forUpdate: true });
          if (!current) throw problem.notFound('No such attempt');
          if (current.user_id === graderId) throw problem.forbidden('You may not grade your own attempt');
          if (current.status === 'started') {
            throw new ProblemError({ status: 409, title: 'Not Submitted', detail: 'The attempt has not been submitted yet' });
          }
          if (current.status === 'graded') {
            throw new ProblemError({ status: 409, title: 'Already Graded', detail: 'The result of this attempt is final' });
          }
          const def = (await repo.find(current.assessment_id, tx))!;
          const results = current.results ?? [];
          const errors = checkGrades(results, body.grades);
          if (errors.length) throw problem.unprocessable('The grades do not fit the attempt', errors);
          await repo.saveGrades(tx, current.id, body.grades, graderId);
          const updated = applyGrades(results, body.grades);
          const done = !updated.some((r) => r.grading === 'pending');
          const final = done ? score(updated, Number(def.passing_score)) : null;
          const row = await repo.saveResults(tx, current.id, {
            results: updated,
            final: final && { points: final.points, percent: final.percent, passed: final.passed, gradedBy: graderId },
          });
          if (final) await finalise(tx, def, row);
          return { attempt: row, assessment: def };
        });
        ctx.body = toResult(attempt, assessment, { revealAnswers: true });
      },
    }),
  ];
}
