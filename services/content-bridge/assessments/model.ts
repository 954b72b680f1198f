/**
 * The assessment shape the API takes and answers with (issue 4 §2), its schemas and the checks that
 * span fields (zod checks one field at a time; `checkDefinition` checks the questions as a whole).
 *
 * Units and conventions:
 * - `passing_score` is a PERCENTAGE of the assessment's total points, 0..100 (inclusive): an attempt
 *   passes when `score_percent >= passing_score`.
 * - `points` are positive numbers with at most two decimals (stored as numeric(12,2) scores).
 * - `time_limit_minutes` and `attempts_allowed` are optional; null/omitted means no limit.
 * - `correct_answer`: multiple_choice → one option (string) or several (array, graded as an exact
 *   set); true_false → 'true' | 'false'; short_answer/essay → optional model answer for graders
 *   (these types are always graded by hand).
 */
import { z } from 'zod';
import type { FieldError } from '../../kit/http/problem.ts';

export const ASSESSMENT_TYPES = ['quiz', 'simulation', 'practical', 'certification'] as const;
export const QUESTION_TYPES = ['multiple_choice', 'true_false', 'short_answer', 'essay'] as const;
export type AssessmentType = (typeof ASSESSMENT_TYPES)[number];
export type QuestionType = (typeof QUESTION_TYPES)[number];

/** Question types a person grades (`POST /api/assessments/grade`); the rest are graded on submit. */
export const MANUAL_QUESTION_TYPES: readonly QuestionType[] = ['short_answer', 'essay'];
export const isManual = (type: QuestionType) => MANUAL_QUESTION_TYPES.includes(type);

export const TRUE_FALSE_OPTIONS = ['true', 'false'] as const;

export const MAX_QUESTIONS = 500;
export const MAX_TEXT = 10_000;
export const MAX_OPTION = 1000;
export const MAX_OPTIONS = 50;
export const MAX_POINTS = 1000;

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;
const text = (max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => !CONTROL.test(s), { message: 'must not contain control characters' });

const twoDecimals = (n: number) => Math.abs(n * 100 - Math.round(n * 100)) < 1e-6;

export const pointsSchema = z
  .number()
  .gt(0, 'points must be greater than 0')
  .max(MAX_POINTS)
  .refine(twoDecimals, { message: 'points may have at most two decimals' });

export const answerValueSchema = z.union([text(MAX_TEXT), z.array(text(MAX_OPTION)).max(MAX_OPTIONS)]);
export type AnswerValue = z.infer<typeof answerValueSchema>;

export const questionInputSchema = z.strictObject({
  question_id: text(100).trim().min(1),
  type: z.enum(QUESTION_TYPES),
  question_text: text(MAX_TEXT).trim().min(1),
  options: z.array(text(MAX_OPTION).trim().min(1)).max(MAX_OPTIONS).optional(),
  correct_answer: answerValueSchema.optional(),
  points: pointsSchema,
  metadata: z.record(z.string(), z.unknown()).optional(),
});
export type QuestionInput = z.infer<typeof questionInputSchema>;

export const difficultySchema = z.enum(['beginner', 'intermediate', 'advanced']);

export const assessmentInputSchema = z.strictObject({
  title: text(255).trim().min(1),
  type: z.enum(ASSESSMENT_TYPES),
  questions: z.array(questionInputSchema).min(1).max(MAX_QUESTIONS),
  time_limit_minutes: z.number().int().min(1).max(10_080).nullable().optional().describe('Minutes from start to deadline; null = no limit'),
  passing_score: z.number().min(0).max(100).describe('Percentage (0..100) of the total points needed to pass'),
  attempts_allowed: z.number().int().min(1).max(1000).nullable().optional().describe('Attempts per user; null = unlimited'),
  metadata: z
    .strictObject({
      course_id: z.uuid().nullable().optional(),
      difficulty_level: difficultySchema.nullable().optional(),
      prerequisites: z
        .array(z.uuid())
        .max(100)
        .optional()
        .describe('Content item ids (must be completed) or assessment ids (must be passed)'),
    })
    .optional(),
});
export type AssessmentInput = z.infer<typeof assessmentInputSchema>;

/** A question as stored in `content.assessments.questions`. */
export interface StoredQuestion {
  question_id: string;
  type: QuestionType;
  question_text: string;
  options: string[];
  correct_answer: string | string[] | null;
  points: number;
  metadata: Record<string, unknown>;
}

/** Case-, whitespace- and Unicode-form-insensitive comparison key for answers. */
export function normalizeAnswer(s: string): string {
  return s.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase();
}

/**
 * Checks what spans fields and returns the questions as stored. Never throws: the caller turns
 * errors into one 422 listing every problem.
 */
export function checkDefinition(input: AssessmentInput): { errors: FieldError[]; questions: StoredQuestion[] } {
  const errors: FieldError[] = [];
  const seen = new Set<string>();
  const questions: StoredQuestion[] = [];
  input.questions.forEach((q, i) => {
    const at = (field: string) => `body.questions.${i}.${field}`;
    if (seen.has(q.question_id)) errors.push({ location: at('question_id'), message: `question id '${q.question_id}' is used twice` });
    seen.add(q.question_id);
    let options: string[] = [];
    let correct: string | string[] | null = null;
    switch (q.type) {
      case 'multiple_choice': {
        options = q.options ?? [];
        if (options.length < 2) errors.push({ location: at('options'), message: 'a multiple_choice question needs at least two options' });
        const keys = options.map(normalizeAnswer);
        keys.forEach((k, j) => {
          if (keys.indexOf(k) !== j) errors.push({ location: at(`options.${j}`), message: `option '${options[j]}' is listed twice` });
        });
        const answers = q.correct_answer === undefined ? [] : Array.isArray(q.correct_answer) ? q.correct_answer : [q.correct_answer];
        if (answers.length === 0)
          errors.push({ location: at('correct_answer'), message: 'a multiple_choice question needs a correct answer' });
        const answerKeys = answers.map(normalizeAnswer);
        answers.forEach((a, j) => {
          const where = Array.isArray(q.correct_answer) ? at(`correct_answer.${j}`) : at('correct_answer');
          if (!keys.includes(answerKeys[j]!)) errors.push({ location: where, message: `'${a}' is not one of the options` });
          else if (answerKeys.indexOf(answerKeys[j]!) !== j) errors.push({ location: where, message: `'${a}' is listed twice` });
        });
        // Stored as the option texts themselves, so what instructors see matches the options exactly.
        const mapped = answerKeys.map((k) => options[keys.indexOf(k)] ?? k);
        correct = Array.isArray(q.correct_answer) ? mapped : (mapped[0] ?? null);
        break;
      }
      case 'true_false': {
        options = [...TRUE_FALSE_OPTIONS];
        if (q.options && (q.options.length !== 2 || !['false', 'true'].every((o) => q.options!.map(normalizeAnswer).includes(o)))) {
          errors.push({ location: at('options'), message: "a true_false question's options, when given, must be 'true' and 'false'" });
        }
        const answer = typeof q.correct_answer === 'string' ? normalizeAnswer(q.correct_answer) : undefined;
        if (answer !== 'true' && answer !== 'false') {
          errors.push({ location: at('correct_answer'), message: "a true_false question's correct_answer must be 'true' or 'false'" });
        } else {
          correct = answer;
        }
        break;
      }
      case 'short_answer':
      case 'essay': {
        if (q.options?.length) errors.push({ location: at('options'), message: `a ${q.type} question takes no options` });
        if (Array.isArray(q.correct_answer)) {
          errors.push({ location: at('correct_answer'), message: `a ${q.type} question's model answer must be a string` });
        } else {
          correct = q.correct_answer ?? null;
        }
        break;
      }
    }
    questions.push({
      question_id: q.question_id,
      type: q.type,
      question_text: q.question_text,
      options,
      correct_answer: correct,
      points: q.points,
      metadata: q.metadata ?? {},
    });
  });
  const prerequisites = input.metadata?.prerequisites ?? [];
  prerequisites.forEach((p, j) => {
    if (prerequisites.indexOf(p) !== j) errors.push({ location: `body.metadata.prerequisites.${j}`, message: `${p} is listed twice` });
  });
  return { errors, questions };
}

export const round2 = (n: number) => Math.round(n * 100) / 100;

export function totalPoints(questions: StoredQuestion[]): number {
  return round2(questions.reduce((sum, q) => sum + q.points, 0));
}

// Request and response schemas of the routes (routes.ts).

const answerList = z.array(z.strictObject({ question_id: z.string().min(1).max(100), answer: answerValueSchema })).max(MAX_QUESTIONS);

export const submitBody = z.strictObject({ attempt_id: z.uuid(), answers: answerList });

export const gradeBody = z.strictObject({
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

export const assessmentOut = z.object({
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

export const startOut = z.object({
  attempt_id: z.uuid(),
  assessment_id: z.uuid(),
  attempt_number: z.number().int(),
  started_at: z.string(),
  deadline: z.string().nullable(),
  attempts_allowed: z.number().int().nullable(),
  attempts_remaining: z.number().int().nullable(),
});

export const resultOut = z.object({
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

export type SubmitInput = z.infer<typeof submitBody>;
export type GradeInput = z.infer<typeof gradeBody>;
export type AssessmentOut = z.infer<typeof assessmentOut>;
export type StartOut = z.infer<typeof startOut>;
export type ResultOut = z.infer<typeof resultOut>;

/** Seconds after the deadline a submission is still accepted (clock skew, network latency). */
export const SUBMIT_GRACE_SECONDS = 30;
