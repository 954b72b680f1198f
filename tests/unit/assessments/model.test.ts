import { describe, expect, it } from 'vitest';
import {
  assessmentInputSchema,
  checkDefinition,
  totalPoints,
  type AssessmentInput,
} from '../../../services/content-bridge/assessments/model.ts';

const base = (questions: unknown[], over: Record<string, unknown> = {}): AssessmentInput =>
  assessmentInputSchema.parse({ title: 'T', type: 'quiz', passing_score: 70, questions, ...over });

const locations = (input: AssessmentInput) => checkDefinition(input).errors.map((e) => e.location);

describe('assessmentInputSchema', () => {
  it('rejects zero, negative and three-decimal points, unknown fields and out-of-range scores', () => {
    const question = { question_id: 'a', type: 'essay', question_text: 'Why?', points: 1 };
    const ok = (q: Record<string, unknown>, over: Record<string, unknown> = {}) =>
      assessmentInputSchema.safeParse({ title: 'T', type: 'quiz', passing_score: 70, questions: [q], ...over }).success;
    expect(ok(question)).toBe(true);
    expect(ok({ ...question, points: 0.25 })).toBe(true);
    expect(ok({ ...question, points: 0 })).toBe(false);
    expect(ok({ ...question, points: -2 })).toBe(false);
    expect(ok({ ...question, points: 0.125 })).toBe(false);
    expect(ok({ ...question, points: 1001 })).toBe(false);
    expect(ok({ ...question, hint: 'x' })).toBe(false);
    expect(ok({ ...question, question_id: '   ' })).toBe(false);
    expect(ok(question, { passing_score: -1 })).toBe(false);
    expect(ok(question, { passing_score: 100 })).toBe(true);
    expect(ok(question, { attempts_allowed: 0 })).toBe(false);
    expect(ok(question, { time_limit_minutes: 1.5 })).toBe(false);
    expect(ok(question, { metadata: { prerequisites: ['not-a-uuid'] } })).toBe(false);
  });
});

describe('checkDefinition', () => {
  it('stores multiple_choice answers as the option texts and true_false answers lower-case', () => {
    const { errors, questions } = checkDefinition(
      base([
        {
          question_id: 'm',
          type: 'multiple_choice',
          question_text: '?',
          options: ['Muzzle Up', 'Muzzle Down'],
          correct_answer: ' muzzle up ',
          points: 1,
        },
        { question_id: 'n', type: 'multiple_choice', question_text: '?', options: ['A', 'B', 'C'], correct_answer: ['c', 'A'], points: 2 },
        { question_id: 't', type: 'true_false', question_text: '?', correct_answer: 'TRUE', points: 1 },
        { question_id: 's', type: 'short_answer', question_text: '?', points: 1.5 },
      ]),
    );
    expect(errors).toEqual([]);
    expect(questions.map((q) => [q.question_id, q.options, q.correct_answer])).toEqual([
      ['m', ['Muzzle Up', 'Muzzle Down'], 'Muzzle Up'],
      ['n', ['A', 'B', 'C'], ['C', 'A']],
      ['t', ['true', 'false'], 'true'],
      ['s', [], null],
    ]);
    expect(totalPoints(questions)).toBe(5.5);
  });

  it('reports duplicate question ids', () => {
    const q = { question_id: 'x', type: 'essay', question_text: '?', points: 1 };
    expect(locations(base([q, q]))).toEqual(['body.questions.1.question_id']);
  });

  it('requires multiple_choice answers among distinct options', () => {
    const mc = (over: Record<string, unknown>) =>
      base([{ question_id: 'm', type: 'multiple_choice', question_text: '?', points: 1, ...over }]);
    expect(locations(mc({ options: ['A', 'B'], correct_answer: 'Z' }))).toEqual(['body.questions.0.correct_answer']);
    expect(locations(mc({ options: ['A', 'B'], correct_answer: ['A', 'Z'] }))).toEqual(['body.questions.0.correct_answer.1']);
    expect(locations(mc({ options: ['A', 'B'], correct_answer: ['A', 'a'] }))).toEqual(['body.questions.0.correct_answer.1']);
    expect(locations(mc({ options: ['A', 'B'] }))).toEqual(['body.questions.0.correct_answer']);
    expect(locations(mc({ options: ['A', 'B'], correct_answer: [] }))).toEqual(['body.questions.0.correct_answer']);
    expect(locations(mc({ options: ['A'], correct_answer: 'A' }))).toEqual(['body.questions.0.options']);
    expect(locations(mc({ options: ['A', ' a'], correct_answer: 'A' }))).toEqual(['body.questions.0.options.1']);
  });

  it("requires 'true' or 'false' for true_false", () => {
    const tf = (over: Record<string, unknown>) => base([{ question_id: 't', type: 'true_false', question_text: '?', points: 1, ...over }]);
    expect(locations(tf({ correct_answer: 'yes' }))).toEqual(['body.questions.0.correct_answer']);
    expect(locations(tf({ correct_answer: ['true'] }))).toEqual(['body.questions.0.correct_answer']);
    expect(locations(tf({}))).toEqual(['body.questions.0.correct_answer']);
    expect(locations(tf({ correct_answer: 'false', options: ['yes', 'no'] }))).toEqual(['body.questions.0.options']);
    expect(locations(tf({ correct_answer: 'false', options: ['False', 'True'] }))).toEqual([]);
  });

  it('takes no options and only a string model answer for short_answer and essay', () => {
    const open = (over: Record<string, unknown>) => base([{ question_id: 'e', type: 'essay', question_text: '?', points: 1, ...over }]);
    expect(locations(open({ options: ['A', 'B'] }))).toEqual(['body.questions.0.options']);
    expect(locations(open({ correct_answer: ['A'] }))).toEqual(['body.questions.0.correct_answer']);
    expect(locations(open({ correct_answer: 'A model essay' }))).toEqual([]);
  });

  it('reports repeated prerequisites', () => {
    const id = '0b9d7f40-4a7c-4f2e-9d55-1f0c2f1a9a11';
    const q = { question_id: 'x', type: 'essay', question_text: '?', points: 1 };
    expect(locations(base([q], { metadata: { prerequisites: [id, id] } }))).toEqual(['body.metadata.prerequisites.1']);
  });
});
