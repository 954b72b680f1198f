/**
 * The assessment flows behind the routes: definitions, attempts (start, submit), results and manual
 * grading. A final result (all questions graded) updates course progress and records an
 * `assessment_complete` learning event in the same transaction. Failures are thrown as
 * domain errors (kit/domain-error.ts); nothing here reads or writes the HTTP exchange.
 */
import type { Queryable } from '../../kit/deps/database.ts';
import { domain, type DomainError } from '../../kit/domain-error.ts';
import type { FieldError } from '../../kit/http/problem.ts';
import type { AppContext } from '../context.ts';
import { outboxLearningEventSink, recordCourseProgress, type LearningEventSink } from './events.ts';
import { applyGrades, checkAnswers, checkGrades, gradeSubmission, score } from './grading.ts';
import {
  checkDefinition,
  totalPoints,
  type AssessmentInput,
  type AssessmentOut,
  type GradeInput,
  type ResultOut,
  type StartOut,
  type SubmitInput,
  SUBMIT_GRACE_SECONDS,
} from './model.ts';
import { assessmentsRepository, type AssessmentRow, type AttemptRow } from './repository.ts';

function toAssessment(row: AssessmentRow, opts: { revealAnswers: boolean; attemptsUsed: number }): AssessmentOut {
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

function toResult(attempt: AttemptRow, assessment: AssessmentRow, opts: { revealAnswers: boolean }): ResultOut {
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

const attemptConflict = (attempt: AttemptRow): DomainError => {
  if (attempt.submitted_at) {
    return domain.conflict('This attempt has already been submitted; start a new attempt to answer again', {
      title: 'Already Submitted',
      extensions: { attempt_id: attempt.id, submitted_at: attempt.submitted_at.toISOString() },
    });
  }
  if (attempt.expired) {
    return domain.conflict(`The attempt's deadline has passed (submissions are accepted up to ${SUBMIT_GRACE_SECONDS} s after it)`, {
      title: 'Deadline Passed',
      extensions: { attempt_id: attempt.id, deadline: attempt.deadline?.toISOString() ?? null, grace_seconds: SUBMIT_GRACE_SECONDS },
    });
  }
  return domain.conflict('The attempt cannot be submitted now');
};

export interface AssessmentServiceOptions {
  /** Where `assessment_complete` events go; defaults to the outbox sink (events.ts). */
  sink?: LearningEventSink;
}

export function assessmentService(app: AppContext, opts: AssessmentServiceOptions = {}) {
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

  return {
    async create(body: AssessmentInput, createdBy: string): Promise<AssessmentOut> {
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
      if (errors.length) throw domain.invalid('The assessment is invalid', errors);
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
        createdBy,
      });
      return toAssessment(row, { revealAnswers: true, attemptsUsed: 0 });
    },

    /** One assessment as `reader` sees it: correct answers only for staff, and the reader's attempt count. */
    async read(assessmentId: string, reader: { userId: string; isStaff: boolean }): Promise<AssessmentOut> {
      const row = await repo.find(assessmentId);
      if (!row) throw domain.notFound('No such assessment');
      const attemptsUsed = await repo.countAttempts(reader.userId, row.id);
      return toAssessment(row, { revealAnswers: reader.isStaff, attemptsUsed });
    },

    /** Starts an attempt once the prerequisites are met and while attempts are left (409 otherwise). */
    async start(assessmentId: string, userId: string): Promise<StartOut> {
      const assessment = await repo.find(assessmentId);
      if (!assessment) throw domain.notFound('No such assessment');
      const { attempt, used } = await db.transaction(async (tx) => {
        await repo.lockAttempts(tx, userId, assessment.id);
        const missing = await repo.missingPrerequisites(userId, assessment.prerequisites, tx);
        if (missing.length) {
          throw domain.conflict(
            `Complete ${missing.length} prerequisite(s) first: content items must be completed and assessments passed`,
            { title: 'Prerequisites Not Met', extensions: { missing_prerequisites: missing } },
          );
        }
        const count = await repo.countAttempts(userId, assessment.id, tx);
        if (assessment.attempts_allowed !== null && count >= assessment.attempts_allowed) {
          throw domain.conflict(`All ${assessment.attempts_allowed} allowed attempt(s) have been used`, {
            title: 'No Attempts Left',
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
      return {
        attempt_id: attempt.id,
        assessment_id: assessment.id,
        attempt_number: attempt.attempt_number,
        started_at: attempt.started_at.toISOString(),
        deadline: attempt.deadline?.toISOString() ?? null,
        attempts_allowed: assessment.attempts_allowed,
        attempts_remaining: assessment.attempts_allowed === null ? null : Math.max(0, assessment.attempts_allowed - used),
      };
    },

    /** Submits an attempt once (its owner only, before the deadline plus grace); objective questions are graded at once. */
    async submit(body: SubmitInput, userId: string): Promise<ResultOut> {
      const current = await repo.findAttempt(body.attempt_id);
      if (!current) throw domain.notFound('No such attempt');
      if (current.user_id !== userId) throw domain.forbidden('Only the user who started an attempt may submit it');
      if (current.submitted_at || current.expired) throw attemptConflict(current);
      const assessment = await repo.find(current.assessment_id);
      if (!assessment) throw domain.notFound('The assessment no longer exists');
      const answerErrors: FieldError[] = checkAnswers(assessment.questions, body.answers);
      if (answerErrors.length) throw domain.invalid('The answers do not fit the questions', answerErrors);

      const saved = await db.transaction(async (tx) => {
        const claimed = await repo.claimSubmission(tx, body.attempt_id, userId);
        if (!claimed) {
          const now = await repo.findAttempt(body.attempt_id, tx);
          throw now ? attemptConflict(now) : domain.notFound('No such attempt');
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
      return toResult(saved, assessment, { revealAnswers: false });
    },

    /** An attempt's result for its owner, or for staff (who also see the correct answers). */
    async result(attemptId: string, reader: { userId: string; isStaff: boolean }): Promise<ResultOut> {
      const attempt = await repo.findAttempt(attemptId);
      if (!attempt) throw domain.notFound('No such attempt');
      if (attempt.user_id !== reader.userId && !reader.isStaff) throw domain.forbidden("You may only read your own attempts' results");
      const assessment = await repo.find(attempt.assessment_id);
      if (!assessment) throw domain.notFound('The assessment no longer exists');
      return toResult(attempt, assessment, { revealAnswers: reader.isStaff });
    },

    /** Grades the hand-graded answers of a submitted attempt; the result becomes final when none is left. */
    async grade(body: GradeInput, graderId: string): Promise<ResultOut> {
      const { attempt, assessment } = await db.transaction(async (tx) => {
        const current = await repo.findAttempt(body.attempt_id, tx, { forUpdate: true });
        if (!current) throw domain.notFound('No such attempt');
        if (current.user_id === graderId) throw domain.forbidden('You may not grade your own attempt');
        if (current.status === 'started') {
          throw domain.conflict('The attempt has not been submitted yet', { title: 'Not Submitted' });
        }
        if (current.status === 'graded') {
          throw domain.conflict('The result of this attempt is final', { title: 'Already Graded' });
        }
        const def = (await repo.find(current.assessment_id, tx))!;
        const results = current.results ?? [];
        const errors = checkGrades(results, body.grades);
        if (errors.length) throw domain.invalid('The grades do not fit the attempt', errors);
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
      return toResult(attempt, assessment, { revealAnswers: true });
    },
  };
}

export type AssessmentService = ReturnType<typeof assessmentService>;
