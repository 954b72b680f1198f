import { describe, expect, it } from 'vitest';
import {
  applyGrades,
  checkAnswers,
  checkGrades,
  gradeSubmission,
  isCorrect,
  sameSet,
  score,
  type QuestionResult,
} from '../../../services/content-bridge/assessments/grading.ts';
import { normalizeAnswer, type StoredQuestion } from '../../../services/content-bridge/assessments/model.ts';

const q = (over: Partial<StoredQuestion> & Pick<StoredQuestion, 'question_id' | 'type'>): StoredQuestion => ({
  question_text: 'text',
  options: [],
  correct_answer: null,
  points: 1,
  metadata: {},
  ...over,
});

const questions: StoredQuestion[] = [
  q({ question_id: 'mc', type: 'multiple_choice', options: ['A', 'B', 'C'], correct_answer: ['A', 'C'], points: 2 }),
  q({ question_id: 'one', type: 'multiple_choice', options: ['Hillside', 'Water'], correct_answer: 'Hillside' }),
  q({ question_id: 'tf', type: 'true_false', options: ['true', 'false'], correct_answer: 'false' }),
  q({ question_id: 'sa', type: 'short_answer', correct_answer: 'heart-lung', points: 3 }),
  q({ question_id: 'es', type: 'essay', points: 4 }),
];

describe('normalizeAnswer / sameSet', () => {
  it('ignores case, outer and inner whitespace and compatibility forms', () => {
    expect(normalizeAnswer('  Heart   LUNG\t')).toBe('heart lung');
    expect(normalizeAnswer('ｆｕｌｌ')).toBe('full'); // full-width letters
  });

  it('compares sets exactly, in any order', () => {
    expect(sameSet(['a', 'c'], ['C', ' a '])).toBe(true);
    expect(sameSet(['a'], ['a', 'c'])).toBe(false);
    expect(sameSet(['a', 'b', 'c'], ['a', 'c'])).toBe(false);
    expect(sameSet('a', ['A'])).toBe(true);
    expect(sameSet(['a', 'a'], ['a'])).toBe(true); // a repeated pick is still one pick
    expect(sameSet([], ['a'])).toBe(false);
  });
});

describe('isCorrect', () => {
  it('grades multiple_choice as a set and single strings insensitively', () => {
    expect(isCorrect(questions[0]!, ['c', 'a'])).toBe(true);
    expect(isCorrect(questions[0]!, 'A')).toBe(false);
    expect(isCorrect(questions[1]!, ' hillside ')).toBe(true);
    expect(isCorrect(questions[1]!, ['Hillside'])).toBe(true);
    expect(isCorrect(questions[2]!, 'FALSE')).toBe(true);
    expect(isCorrect(questions[2]!, 'true')).toBe(false);
  });
});

describe('checkAnswers', () => {
  it('accepts answers that fit their questions', () => {
    expect(
      checkAnswers(questions, [
        { question_id: 'mc', answer: ['A'] },
        { question_id: 'tf', answer: ' True ' },
        { question_id: 'sa', answer: 'x' },
      ]),
    ).toEqual([]);
  });

  it('reports unknown ids, repeats, lists where a string is needed and bad true/false values', () => {
    const errors = checkAnswers(questions, [
      { question_id: 'zz', answer: 'x' },
      { question_id: 'tf', answer: 'true' },
      { question_id: 'tf', answer: 'false' },
      { question_id: 'sa', answer: ['x'] },
      { question_id: 'one', answer: 'Water' },
    ]);
    expect(errors.map((e) => e.location)).toEqual(['body.answers.0.question_id', 'body.answers.2.question_id', 'body.answers.3.answer']);
    expect(checkAnswers(questions, [{ question_id: 'tf', answer: 'maybe' }])[0]).toMatchObject({ location: 'body.answers.0.answer' });
  });
});

describe('gradeSubmission', () => {
  it('grades objective questions and leaves answered manual ones pending', () => {
    const graded = gradeSubmission(questions, [
      { question_id: 'mc', answer: ['C', 'A'] },
      { question_id: 'one', answer: 'Water' },
      { question_id: 'tf', answer: 'false' },
      { question_id: 'sa', answer: 'the heart' },
    ]);
    expect(graded.results.map((r) => [r.question_id, r.correct, r.points_awarded, r.grading, r.answered])).toEqual([
      ['mc', true, 2, 'auto', true],
      ['one', false, 0, 'auto', true],
      ['tf', true, 1, 'auto', true],
      ['sa', null, null, 'pending', true],
      ['es', false, 0, 'auto', false],
    ]);
    expect(graded).toMatchObject({ autoPoints: 3, maxPoints: 11, pendingManual: true });
  });

  it('treats blank answers as unanswered', () => {
    const graded = gradeSubmission(questions, [
      { question_id: 'sa', answer: '   ' },
      { question_id: 'mc', answer: [] },
    ]);
    expect(graded.pendingManual).toBe(false);
    expect(graded.results.filter((r) => r.answered)).toEqual([]);
    expect(graded.autoPoints).toBe(0);
  });
});

describe('manual grades', () => {
  const pending = (): QuestionResult[] =>
    gradeSubmission(questions, [
      { question_id: 'sa', answer: 'heart' },
      { question_id: 'es', answer: 'essay' },
      { question_id: 'tf', answer: 'false' },
    ]).results;

  it('accepts points within range for answered manual questions only', () => {
    expect(
      checkGrades(pending(), [
        { question_id: 'sa', points: 3 },
        { question_id: 'es', points: 0 },
      ]),
    ).toEqual([]);
    const errors = checkGrades(pending(), [
      { question_id: 'tf', points: 1 },
      { question_id: 'sa', points: 3.5 },
      { question_id: 'nope', points: 1 },
      { question_id: 'es', points: 1 },
      { question_id: 'es', points: 2 },
    ]);
    expect(errors.map((e) => e.location)).toEqual([
      'body.grades.0.question_id',
      'body.grades.1.points',
      'body.grades.2.question_id',
      'body.grades.4.question_id',
    ]);
    const unanswered = gradeSubmission(questions, []).results;
    expect(checkGrades(unanswered, [{ question_id: 'es', points: 1 }])[0]!.message).toMatch(/not answered/);
  });

  it('applies grades with feedback and marks full points as correct', () => {
    const updated = applyGrades(pending(), [
      { question_id: 'sa', points: 3, feedback: 'spot on' },
      { question_id: 'es', points: 1.234 },
    ]);
    expect(updated.find((r) => r.question_id === 'sa')).toMatchObject({
      points_awarded: 3,
      correct: true,
      grading: 'manual',
      feedback: 'spot on',
    });
    expect(updated.find((r) => r.question_id === 'es')).toMatchObject({
      points_awarded: 1.23,
      correct: false,
      grading: 'manual',
      feedback: null,
    });
    expect(updated.some((r) => r.grading === 'pending')).toBe(false);
  });
});

describe('score', () => {
  const results = (awarded: number[], possible: number[]): QuestionResult[] =>
    awarded.map((a, i) => ({
      question_id: `q${i}`,
      type: 'essay',
      answered: true,
      answer: 'x',
      correct: null,
      points_awarded: a,
      points_possible: possible[i]!,
      grading: 'manual',
      feedback: null,
    }));

  it('passes at exactly the passing percentage and not below it', () => {
    expect(score(results([3, 0], [3, 1]), 75)).toEqual({ points: 3, maxPoints: 4, percent: 75, passed: true });
    expect(score(results([2], [3]), 66.67)).toMatchObject({ percent: 66.67, passed: false }); // 66.666… %
    expect(score(results([2], [3]), 66.66).passed).toBe(true);
  });

  it('does not round a result up past the bar', () => {
    // 69.996 % rounds to 70.00 for display but does not pass a 70 % bar.
    const s = score(results([6999.6], [10000]), 70);
    expect(s.percent).toBe(70);
    expect(s.passed).toBe(false);
  });

  it('passes anything against a 0 % bar', () => {
    expect(score(results([0], [5]), 0).passed).toBe(true);
  });
});
