/**
 * Pure grading: no I/O, so every rule is unit-tested directly.
 *
 * - multiple_choice: the answer (a string or an array) is compared as a SET with the correct
 *   answer(s): exactly the right options, no more, no fewer. All-or-nothing.
 * - true_false: 'true' / 'false'.
 * - Every string comparison ignores case, surrounding whitespace, runs of inner whitespace and
 *   Unicode compatibility forms (see `normalizeAnswer`).
 * - short_answer / essay: wait for a person (`grading: 'pending'`); unanswered ones score 0 and need
 *   no grading.
 * - A question without an answer scores 0 (`answered: false`).
 */
import type { FieldError } from '../../kit/http/problem.ts';
import { isManual, normalizeAnswer, round2, type AnswerValue, type QuestionType, type StoredQuestion } from './model.ts';

export type Grading = 'auto' | 'pending' | 'manual';

/** One question's result, as stored in `assessment_attempts.results`. */
export interface QuestionResult {
  question_id: string;
  type: QuestionType;
  answered: boolean;
  answer: AnswerValue | null;
  /** null while a manual question waits; manual grades count as correct when full points are given. */
  correct: boolean | null;
  points_awarded: number | null;
  points_possible: number;
  grading: Grading;
  feedback: string | null;
}

export interface GradedSubmission {
  results: QuestionResult[];
  autoPoints: number;
  maxPoints: number;
  pendingManual: boolean;
}

export interface SubmittedAnswer {
  question_id: string;
  answer: AnswerValue;
}

/** Answers that do not fit their question (unknown ids, duplicates, wrong shapes) → one 422. */
export function checkAnswers(questions: StoredQuestion[], answers: SubmittedAnswer[]): FieldError[] {
  const errors: FieldError[] = [];
  const byId = new Map(questions.map((q) => [q.question_id, q]));
  const seen = new Set<string>();
  answers.forEach((a, i) => {
    const at = `body.answers.${i}`;
    const q = byId.get(a.question_id);
    if (!q) {
      errors.push({ location: `${at}.question_id`, message: `'${a.question_id}' is not a question of this assessment` });
      return;
    }
    if (seen.has(a.question_id)) errors.push({ location: `${at}.question_id`, message: `'${a.question_id}' is answered twice` });
    seen.add(a.question_id);
    if (q.type !== 'multiple_choice' && Array.isArray(a.answer)) {
      errors.push({ location: `${at}.answer`, message: `a ${q.type} answer must be a string` });
    } else if (q.type === 'true_false' && !['true', 'false'].includes(normalizeAnswer(a.answer as string))) {
      errors.push({ location: `${at}.answer`, message: "a true_false answer must be 'true' or 'false'" });
    }
  });
  return errors;
}

const isBlank = (a: AnswerValue | undefined): boolean =>
  a === undefined || (Array.isArray(a) ? a.every((s) => normalizeAnswer(s) === '') : normalizeAnswer(a) === '');

function asSet(value: string | string[]): Set<string> {
  return new Set((Array.isArray(value) ? value : [value]).map(normalizeAnswer).filter((s) => s !== ''));
}

/** Exact set equality after normalisation. */
export function sameSet(a: string | string[], b: string | string[]): boolean {
  const x = asSet(a);
  const y = asSet(b);
  return x.size === y.size && [...x].every((v) => y.has(v));
}

export function isCorrect(q: StoredQuestion, answer: AnswerValue): boolean {
  if (q.correct_answer === null) return false;
  if (q.type === 'multiple_choice') return sameSet(answer, q.correct_answer);
  if (Array.isArray(answer) || Array.isArray(q.correct_answer)) return false;
  return normalizeAnswer(answer) === normalizeAnswer(q.correct_answer);
}

export function gradeSubmission(questions: StoredQuestion[], answers: SubmittedAnswer[]): GradedSubmission {
  const byId = new Map(answers.map((a) => [a.question_id, a.answer]));
  const results = questions.map((q): QuestionResult => {
    const answer = byId.get(q.question_id);
    const base = { question_id: q.question_id, type: q.type, points_possible: q.points, feedback: null };
    if (isBlank(answer)) return { ...base, answered: false, answer: answer ?? null, correct: false, points_awarded: 0, grading: 'auto' };
    if (isManual(q.type)) return { ...base, answered: true, answer: answer!, correct: null, points_awarded: null, grading: 'pending' };
    const correct = isCorrect(q, answer!);
    return { ...base, answered: true, answer: answer!, correct, points_awarded: correct ? q.points : 0, grading: 'auto' };
  });
  return {
    results,
    autoPoints: round2(results.reduce((sum, r) => sum + (r.points_awarded ?? 0), 0)),
    maxPoints: round2(questions.reduce((sum, q) => sum + q.points, 0)),
    pendingManual: results.some((r) => r.grading === 'pending'),
  };
}

export interface ManualGrade {
  question_id: string;
  points: number;
  feedback?: string | undefined;
}

/** Grades that cannot apply to these results: unknown, objective, unanswered, out of range, repeated. */
export function checkGrades(results: QuestionResult[], grades: ManualGrade[]): FieldError[] {
  const errors: FieldError[] = [];
  const byId = new Map(results.map((r) => [r.question_id, r]));
  const seen = new Set<string>();
  grades.forEach((g, i) => {
    const at = `body.grades.${i}`;
    const r = byId.get(g.question_id);
    if (!r) errors.push({ location: `${at}.question_id`, message: `'${g.question_id}' is not a question of this assessment` });
    else if (!isManual(r.type))
      errors.push({ location: `${at}.question_id`, message: `'${g.question_id}' is ${r.type}: it is graded automatically` });
    else if (!r.answered) errors.push({ location: `${at}.question_id`, message: `'${g.question_id}' was not answered (it scores 0)` });
    else if (g.points > r.points_possible) {
      errors.push({ location: `${at}.points`, message: `at most ${r.points_possible} point(s) for '${g.question_id}'` });
    }
    if (seen.has(g.question_id)) errors.push({ location: `${at}.question_id`, message: `'${g.question_id}' is graded twice` });
    seen.add(g.question_id);
  });
  return errors;
}

/** Applies manual grades (already checked) to a copy of the results. */
export function applyGrades(results: QuestionResult[], grades: ManualGrade[]): QuestionResult[] {
  const byId = new Map(grades.map((g) => [g.question_id, g]));
  return results.map((r) => {
    const g = byId.get(r.question_id);
    if (!g) return r;
    const points = round2(g.points);
    return { ...r, points_awarded: points, correct: points >= r.points_possible, grading: 'manual', feedback: g.feedback ?? null };
  });
}

export interface Score {
  points: number;
  maxPoints: number;
  percent: number;
  passed: boolean;
}

/** `passing_score` is a percentage: passed when percent >= passing_score. */
export function score(results: QuestionResult[], passingScore: number): Score {
  const points = round2(results.reduce((sum, r) => sum + (r.points_awarded ?? 0), 0));
  const maxPoints = round2(results.reduce((sum, r) => sum + r.points_possible, 0));
  const percent = maxPoints > 0 ? round2((points / maxPoints) * 100) : 0;
  // Compared unrounded, so 69.996 % does not pass a 70 % bar through rounding.
  const passed = maxPoints > 0 && points * 100 >= passingScore * maxPoints - 1e-9;
  return { points, maxPoints, percent, passed };
}
