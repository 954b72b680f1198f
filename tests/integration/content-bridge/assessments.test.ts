/**
 * Assessments against real PostgreSQL and Redis: definitions, attempts, prerequisites, submission
 * (including 50 concurrent submits), deadlines, manual grading, results, events and progress.
 * Courses and content rows are created with SQL, not through the courses/content API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBridge, type TestBridge } from '../support/content-bridge.ts';
import { client, signUp, type Client } from '../support/http.ts';

interface User {
  token: string;
  userId: string;
}

let tb: TestBridge;
let api: Client;
let admin: User;
let instructor: User;
let student: User;
let other: User;

const sql = <R = any>(text: string, params: unknown[] = []) => tb.deps.db.query<R>(text, params);

async function createCourse(title = 'Elk Hunting 101'): Promise<string> {
  const { rows } = await sql<{ id: string }>('INSERT INTO content.courses (title, instructor_id) VALUES ($1, $2) RETURNING id', [
    title,
    instructor.userId,
  ]);
  return rows[0]!.id;
}

async function createContent(courseId: string | null, type = 'document', metadata: Record<string, unknown> = {}): Promise<string> {
  const { rows } = await sql<{ id: string }>(
    `INSERT INTO content.content_items (course_id, title, content_type, metadata, status) VALUES ($1, $2, $3, $4, 'published') RETURNING id`,
    [courseId, `item ${Math.random()}`, type, JSON.stringify(metadata)],
  );
  return rows[0]!.id;
}

const objectiveQuestions = () => [
  {
    question_id: 'q1',
    type: 'multiple_choice',
    question_text: 'Which habits are safe?',
    options: ['Muzzle in a safe direction', 'Finger off the trigger', 'Loaded gun in the truck'],
    correct_answer: ['Muzzle in a safe direction', 'Finger off the trigger'],
    points: 2,
    metadata: { topic: 'safety' },
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
];

const quiz = (over: Record<string, unknown> = {}) => ({
  title: 'Firearm safety basics',
  type: 'quiz',
  questions: objectiveQuestions(),
  time_limit_minutes: 30,
  passing_score: 75,
  attempts_allowed: 3,
  metadata: { difficulty_level: 'beginner' },
  ...over,
});

const allCorrect = [
  { question_id: 'q1', answer: ['Finger off the trigger', 'Muzzle in a safe direction'] },
  { question_id: 'q2', answer: 'true' },
  { question_id: 'q3', answer: 'Hillside' },
];

async function createAssessment(body: Record<string, unknown> = quiz()): Promise<any> {
  const res = await api.post('/api/assessments', body, instructor.token);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

async function start(assessmentId: string, who: User = student) {
  return api.post(`/api/assessments/${assessmentId}/start`, undefined, who.token);
}

async function startOk(assessmentId: string, who: User = student): Promise<string> {
  const res = await start(assessmentId, who);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.attempt_id;
}

const submit = (attemptId: string, answers: unknown[], who: User = student) =>
  api.post('/api/assessments/submit', { attempt_id: attemptId, answers }, who.token);

beforeAll(async () => {
  tb = await startTestBridge();
  api = client(tb.url);
  const login = await api.post('/auth/login', { username: 'admin', password: tb.adminCredentials.password });
  admin = { token: login.body.access_token, userId: login.body.user?.user_id ?? '' };
  instructor = await signUp(api, { username: 'instructor_a', adminToken: admin.token, roles: ['instructor'] });
  student = await signUp(api, { username: 'student_a' });
  other = await signUp(api, { username: 'student_b' });
});

afterAll(() => tb?.close());

describe('creating assessments', () => {
  it('lets an instructor create one and echoes the definition with correct answers', async () => {
    const courseId = await createCourse();
    const res = await api.post(
      '/api/assessments',
      quiz({ metadata: { course_id: courseId, difficulty_level: 'beginner', prerequisites: [] } }),
      instructor.token,
    );
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe(`/api/assessments/${res.body.assessment_id}`);
    expect(res.body).toMatchObject({
      title: 'Firearm safety basics',
      type: 'quiz',
      total_points: 4,
      passing_score: 75,
      time_limit_minutes: 30,
      attempts_allowed: 3,
      metadata: { course_id: courseId, difficulty_level: 'beginner', prerequisites: [] },
      created_by: instructor.userId,
    });
    expect(res.body.questions[0].correct_answer).toEqual(['Muzzle in a safe direction', 'Finger off the trigger']);
    expect(res.body.questions[1]).toMatchObject({ options: ['true', 'false'], correct_answer: 'true' });
  });

  it('lets an admin create one; limits may be left out (unlimited)', async () => {
    const res = await api.post('/api/assessments', quiz({ time_limit_minutes: undefined, attempts_allowed: null }), admin.token);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ time_limit_minutes: null, attempts_allowed: null, attempts_remaining: null });
  });

  it('refuses anonymous callers (401) and students (403)', async () => {
    expect((await api.post('/api/assessments', quiz())).status).toBe(401);
    const res = await api.post('/api/assessments', quiz(), student.token);
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
  });

  it.each([
    [
      'duplicate question ids',
      { questions: [...objectiveQuestions(), { ...objectiveQuestions()[1], question_id: 'q1' }] },
      'body.questions.3.question_id',
    ],
    [
      'a multiple_choice answer that is not an option',
      { questions: [{ ...objectiveQuestions()[2], correct_answer: 'Pond' }] },
      'body.questions.0.correct_answer',
    ],
    [
      'one of several multiple_choice answers that is not an option',
      { questions: [{ ...objectiveQuestions()[0], correct_answer: ['Finger off the trigger', 'Safety on'] }] },
      'body.questions.0.correct_answer.1',
    ],
    [
      'a multiple_choice question with one option',
      { questions: [{ ...objectiveQuestions()[2], options: ['Hillside'] }] },
      'body.questions.0.options',
    ],
    [
      'a true_false answer other than true/false',
      { questions: [{ ...objectiveQuestions()[1], correct_answer: 'yes' }] },
      'body.questions.0.correct_answer',
    ],
    [
      'a true_false answer given as a list',
      { questions: [{ ...objectiveQuestions()[1], correct_answer: ['true'] }] },
      'body.questions.0.correct_answer',
    ],
    ['zero points', { questions: [{ ...objectiveQuestions()[1], points: 0 }] }, 'body.questions.0.points'],
    ['negative points', { questions: [{ ...objectiveQuestions()[1], points: -1 }] }, 'body.questions.0.points'],
    ['no questions', { questions: [] }, 'body.questions'],
    ['an unknown question type', { questions: [{ ...objectiveQuestions()[1], type: 'matching' }] }, 'body.questions.0.type'],
    [
      'options on an essay',
      { questions: [{ question_id: 'e', type: 'essay', question_text: 'Why?', options: ['a', 'b'], points: 1 }] },
      'body.questions.0.options',
    ],
    ['a passing score above 100', { passing_score: 101 }, 'body.passing_score'],
    ['an unknown assessment type', { type: 'exam' }, 'body.type'],
    ['an unknown top-level field', { grading: 'lenient' }, 'body'],
    ['an unknown metadata field', { metadata: { course: 'x' } }, 'body.metadata'],
    ['an unknown course', { metadata: { course_id: '00000000-0000-4000-8000-000000000001' } }, 'body.metadata.course_id'],
    ['an unknown prerequisite', { metadata: { prerequisites: ['00000000-0000-4000-8000-000000000002'] } }, 'body.metadata.prerequisites.0'],
  ])('rejects %s with 422', async (_name, over, location) => {
    const res = await api.post('/api/assessments', quiz(over), instructor.token);
    expect(res.status, JSON.stringify(res.body)).toBe(422);
    expect(res.body.errors.map((e: { location: string }) => e.location)).toContain(location);
  });
});

describe('reading an assessment', () => {
  let assessment: any;
  beforeAll(async () => {
    assessment = await createAssessment(
      quiz({
        questions: [
          ...objectiveQuestions(),
          { question_id: 'q4', type: 'short_answer', question_text: 'Name a caliber', correct_answer: '.308', points: 1 },
        ],
      }),
    );
  });

  it('hides every correct answer from students', async () => {
    const res = await api.get(`/api/assessments/${assessment.assessment_id}`, student.token);
    expect(res.status).toBe(200);
    expect(res.body.questions).toHaveLength(4);
    for (const q of res.body.questions) expect(q).not.toHaveProperty('correct_answer');
    expect(JSON.stringify(res.body)).not.toContain('.308');
    expect(res.body).toMatchObject({ attempts_used: 0, attempts_remaining: 3 });
    expect(res.body.questions[0]).toMatchObject({
      question_id: 'q1',
      options: expect.any(Array),
      points: 2,
      metadata: { topic: 'safety' },
    });
  });

  it('shows correct answers to instructors and admins', async () => {
    for (const who of [instructor, admin]) {
      const res = await api.get(`/api/assessments/${assessment.assessment_id}`, who.token);
      expect(res.status).toBe(200);
      expect(res.body.questions.map((q: any) => q.correct_answer)).toEqual([
        ['Muzzle in a safe direction', 'Finger off the trigger'],
        'true',
        'Hillside',
        '.308',
      ]);
    }
  });

  it('answers 401 without a token, 404 for an unknown id and 422 for a malformed one', async () => {
    expect((await api.get(`/api/assessments/${assessment.assessment_id}`)).status).toBe(401);
    expect((await api.get('/api/assessments/00000000-0000-4000-8000-000000000003', student.token)).status).toBe(404);
    expect((await api.get('/api/assessments/not-a-uuid', student.token)).status).toBe(422);
  });
});

describe('starting and submitting', () => {
  it('starts an attempt with a deadline of started_at + time limit', async () => {
    const a = await createAssessment();
    const res = await start(a.assessment_id);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ assessment_id: a.assessment_id, attempt_number: 1, attempts_allowed: 3, attempts_remaining: 2 });
    expect(Date.parse(res.body.deadline) - Date.parse(res.body.started_at)).toBe(30 * 60_000);
    const again = await start(a.assessment_id);
    expect(again.body).toMatchObject({ attempt_number: 2, attempts_remaining: 1 });
    expect((await api.get(`/api/assessments/${a.assessment_id}`, student.token)).body).toMatchObject({
      attempts_used: 2,
      attempts_remaining: 1,
    });
  });

  it('refuses to start anonymously (401) or an unknown assessment (404)', async () => {
    const a = await createAssessment();
    expect((await api.post(`/api/assessments/${a.assessment_id}/start`)).status).toBe(401);
    expect((await start('00000000-0000-4000-8000-000000000004')).status).toBe(404);
  });

  it('grades objective answers at once: set match, case and whitespace insensitive', async () => {
    const a = await createAssessment();
    const attemptId = await startOk(a.assessment_id);
    const res = await submit(attemptId, [
      { question_id: 'q1', answer: ['  finger OFF the   trigger', 'MUZZLE IN A SAFE DIRECTION'] },
      { question_id: 'q2', answer: ' TRUE ' },
      { question_id: 'q3', answer: 'hillside' },
    ]);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({
      attempt_id: attemptId,
      status: 'graded',
      final: true,
      pending_manual_grading: false,
      score: 4,
      max_score: 4,
      score_percent: 100,
      passed: true,
    });
    expect(res.body.questions.map((q: any) => [q.question_id, q.correct, q.points_awarded])).toEqual([
      ['q1', true, 2],
      ['q2', true, 1],
      ['q3', true, 1],
    ]);
    for (const q of res.body.questions) expect(q).not.toHaveProperty('correct_answer');
  });

  it('scores a partial multiple_choice selection, an extra option and a missing answer as wrong', async () => {
    const a = await createAssessment();
    const subset = await submit(await startOk(a.assessment_id), [
      { question_id: 'q1', answer: ['Finger off the trigger'] },
      { question_id: 'q2', answer: 'false' },
    ]);
    expect(subset.status).toBe(200);
    expect(subset.body).toMatchObject({ score: 0, score_percent: 0, passed: false, status: 'graded' });
    expect(subset.body.questions[2]).toMatchObject({ question_id: 'q3', answered: false, correct: false, points_awarded: 0 });

    const superset = await submit(await startOk(a.assessment_id), [
      { question_id: 'q1', answer: ['Finger off the trigger', 'Muzzle in a safe direction', 'Loaded gun in the truck'] },
      { question_id: 'q2', answer: 'true' },
      { question_id: 'q3', answer: ['Hillside'] },
    ]);
    expect(superset.body).toMatchObject({ score: 2, score_percent: 50, passed: false });
    expect(superset.body.questions[0]).toMatchObject({ correct: false, points_awarded: 0 });
    expect(superset.body.questions[2]).toMatchObject({ correct: true, points_awarded: 1 });
  });

  it('passes at exactly the passing percentage', async () => {
    const a = await createAssessment(quiz({ passing_score: 75 }));
    const res = await submit(await startOk(a.assessment_id), [allCorrect[0], allCorrect[1]]);
    expect(res.body).toMatchObject({ score: 3, score_percent: 75, passed: true });
  });

  it('refuses a second submission of the same attempt with 409', async () => {
    const a = await createAssessment();
    const attemptId = await startOk(a.assessment_id);
    expect((await submit(attemptId, allCorrect)).status).toBe(200);
    const again = await submit(attemptId, []);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ title: 'Already Submitted', attempt_id: attemptId });
  });

  it("refuses another user's submission (403) and anonymous ones (401)", async () => {
    const a = await createAssessment();
    const attemptId = await startOk(a.assessment_id);
    expect((await submit(attemptId, allCorrect, other)).status).toBe(403);
    expect((await submit(attemptId, allCorrect, instructor)).status).toBe(403);
    expect((await api.post('/api/assessments/submit', { attempt_id: attemptId, answers: allCorrect })).status).toBe(401);
    expect((await submit('00000000-0000-4000-8000-000000000005', allCorrect)).status).toBe(404);
    // None of that consumed the attempt.
    expect((await submit(attemptId, allCorrect)).status).toBe(200);
  });

  it.each([
    ['an unknown question', [{ question_id: 'nope', answer: 'x' }], 'body.answers.0.question_id'],
    ['a question answered twice', [allCorrect[1], allCorrect[1]], 'body.answers.1.question_id'],
    ['a list for a true_false question', [{ question_id: 'q2', answer: ['true'] }], 'body.answers.0.answer'],
    ['a true_false answer that is neither', [{ question_id: 'q2', answer: 'maybe' }], 'body.answers.0.answer'],
    ['a non-string answer', [{ question_id: 'q2', answer: 1 }], 'body.answers.0.answer'],
    ['an unknown field', [{ question_id: 'q2', answer: 'true', confidence: 1 }], 'body.answers.0'],
  ])('rejects %s with 422 and leaves the attempt open', async (_name, answers, location) => {
    const a = await createAssessment();
    const attemptId = await startOk(a.assessment_id);
    const res = await submit(attemptId, answers);
    expect(res.status, JSON.stringify(res.body)).toBe(422);
    expect(res.body.errors.map((e: { location: string }) => e.location)).toContain(location);
    expect((await submit(attemptId, allCorrect)).status).toBe(200);
  });

  it('rejects a submission after the deadline (plus 30 s grace) with 409 and accepts one within the grace', async () => {
    const a = await createAssessment();
    const late = await startOk(a.assessment_id);
    await sql(`UPDATE content.assessment_attempts SET deadline = now() - interval '31 seconds' WHERE id = $1`, [late]);
    const res = await submit(late, allCorrect);
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ title: 'Deadline Passed', grace_seconds: 30, attempt_id: late });
    const row = (await sql('SELECT status, submitted_at FROM content.assessment_attempts WHERE id = $1', [late])).rows[0];
    expect(row).toMatchObject({ status: 'started', submitted_at: null });
    const results = await api.get(`/api/assessments/results/${late}`, student.token);
    expect(results.body).toMatchObject({ status: 'started', expired: true, score: null, questions: [] });

    const inGrace = await startOk(a.assessment_id);
    await sql(`UPDATE content.assessment_attempts SET deadline = now() - interval '10 seconds' WHERE id = $1`, [inGrace]);
    expect((await submit(inGrace, allCorrect)).status).toBe(200);
  });

  it('enforces attempts_allowed', async () => {
    const a = await createAssessment(quiz({ attempts_allowed: 2 }));
    await startOk(a.assessment_id);
    await startOk(a.assessment_id);
    const third = await start(a.assessment_id);
    expect(third.status).toBe(409);
    expect(third.body).toMatchObject({ title: 'No Attempts Left', attempts_allowed: 2, attempts_used: 2 });
    // Another user's attempts are counted separately.
    await startOk(a.assessment_id, other);
  });
});

describe('concurrency', () => {
  it('grades exactly one of 50 parallel submissions of one attempt', async () => {
    const courseId = await createCourse('Concurrency course');
    const a = await createAssessment(quiz({ metadata: { course_id: courseId } }));
    const attemptId = await startOk(a.assessment_id);
    const results = await Promise.all(Array.from({ length: 50 }, () => submit(attemptId, allCorrect)));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(49);
    for (const r of results.filter((x) => x.status === 409)) expect(r.body.title).toBe('Already Submitted');
    const rows = (await sql('SELECT status, final_score FROM content.assessment_attempts WHERE id = $1', [attemptId])).rows;
    expect(rows).toEqual([{ status: 'graded', final_score: '4.00' }]);
    const events = await sql('SELECT count(*)::int AS n FROM content.assessment_events_outbox WHERE attempt_id = $1', [attemptId]);
    expect(events.rows[0].n).toBe(1);
  });

  it('lets exactly attempts_allowed of 10 parallel starts through', async () => {
    const a = await createAssessment(quiz({ attempts_allowed: 2 }));
    const results = await Promise.all(Array.from({ length: 10 }, () => start(a.assessment_id, other)));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(2);
    expect(statuses.filter((s) => s === 409)).toHaveLength(8);
    expect(
      results
        .filter((r) => r.status === 201)
        .map((r) => r.body.attempt_number)
        .sort(),
    ).toEqual([1, 2]);
    const count = await sql('SELECT count(*)::int AS n FROM content.assessment_attempts WHERE assessment_id = $1', [a.assessment_id]);
    expect(count.rows[0].n).toBe(2);
  });
});

describe('prerequisites', () => {
  it('refuses to start until content is completed and prerequisite assessments are passed', async () => {
    const courseId = await createCourse('Prereq course');
    const reading = await createContent(courseId);
    const basics = await createAssessment(quiz({ title: 'Basics' }));
    const advanced = await createAssessment(
      quiz({ title: 'Advanced', metadata: { course_id: courseId, prerequisites: [reading, basics.assessment_id] } }),
    );

    const blocked = await start(advanced.assessment_id);
    expect(blocked.status).toBe(409);
    expect(blocked.body.title).toBe('Prerequisites Not Met');
    expect(blocked.body.missing_prerequisites).toEqual([
      { id: reading, kind: 'content', title: expect.any(String) },
      { id: basics.assessment_id, kind: 'assessment', title: 'Basics' },
    ]);

    // Started but not completed content still blocks; completed content does not.
    await sql('INSERT INTO content.user_progress (user_id, content_id, course_id, progress_percentage) VALUES ($1, $2, $3, 50)', [
      student.userId,
      reading,
      courseId,
    ]);
    expect((await start(advanced.assessment_id)).body.missing_prerequisites).toHaveLength(2);
    await sql('UPDATE content.user_progress SET progress_percentage = 100, completed_at = now() WHERE user_id = $1 AND content_id = $2', [
      student.userId,
      reading,
    ]);
    const onlyAssessment = await start(advanced.assessment_id);
    expect(onlyAssessment.body.missing_prerequisites).toEqual([{ id: basics.assessment_id, kind: 'assessment', title: 'Basics' }]);

    // A failed attempt is not enough; a passed one is.
    expect((await submit(await startOk(basics.assessment_id), [])).body.passed).toBe(false);
    expect((await start(advanced.assessment_id)).status).toBe(409);
    expect((await submit(await startOk(basics.assessment_id), allCorrect)).body.passed).toBe(true);
    expect((await start(advanced.assessment_id)).status).toBe(201);
    // Refused starts did not use attempts.
    expect((await api.get(`/api/assessments/${advanced.assessment_id}`, student.token)).body.attempts_used).toBe(1);
  });
});

describe('manual grading', () => {
  let courseId: string;
  let linkedItem: string;
  let assessment: any;
  let attemptId: string;

  const manualQuiz = () =>
    quiz({
      title: 'Field judgement',
      passing_score: 60,
      questions: [
        objectiveQuestions()[1], // true_false, 1 point
        { question_id: 'sa', type: 'short_answer', question_text: 'Name the vital zone', correct_answer: 'heart-lung', points: 4 },
        { question_id: 'es', type: 'essay', question_text: 'Describe a safe stalk', points: 5 },
        { question_id: 'es2', type: 'essay', question_text: 'Optional reflection', points: 2 },
      ],
    });

  beforeAll(async () => {
    courseId = await createCourse('Judgement course');
    const draft = manualQuiz();
    assessment = await createAssessment({ ...draft, metadata: { course_id: courseId } });
    linkedItem = await createContent(courseId, 'assessment', { assessment_id: assessment.assessment_id });
    attemptId = await startOk(assessment.assessment_id);
  });

  const grade = (body: unknown, who: User = instructor) => api.post('/api/assessments/grade', body, who.token);

  it('leaves short_answer and essay answers pending after submission', async () => {
    const res = await submit(attemptId, [
      { question_id: 'q2', answer: 'true' },
      { question_id: 'sa', answer: 'Heart and lungs' },
      { question_id: 'es', answer: 'Wind in my face, slow steps, <b>patience</b>.' },
    ]);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: 'submitted',
      final: false,
      pending_manual_grading: true,
      passed: null,
      score: null,
      auto_score: 1,
    });
    expect(res.body.questions.map((q: any) => [q.question_id, q.grading, q.points_awarded])).toEqual([
      ['q2', 'auto', 1],
      ['sa', 'pending', null],
      ['es', 'pending', null],
      ['es2', 'auto', 0], // unanswered: 0, nothing to grade
    ]);
    const events = await sql('SELECT count(*)::int AS n FROM content.assessment_events_outbox WHERE attempt_id = $1', [attemptId]);
    expect(events.rows[0].n).toBe(0);
    const progress = await sql('SELECT 1 FROM content.user_progress WHERE user_id = $1 AND content_id = $2', [student.userId, linkedItem]);
    expect(progress.rowCount).toBe(0);
  });

  it('refuses grading by students (403), anonymous callers (401) and of unsubmitted attempts (409)', async () => {
    const body = { attempt_id: attemptId, grades: [{ question_id: 'sa', points: 4 }] };
    expect((await grade(body, student)).status).toBe(403);
    expect((await api.post('/api/assessments/grade', body)).status).toBe(401);
    const open = await startOk(assessment.assessment_id, other);
    const res = await grade({ attempt_id: open, grades: [{ question_id: 'sa', points: 1 }] });
    expect(res.status).toBe(409);
    expect(res.body.title).toBe('Not Submitted');
    expect((await grade({ attempt_id: '00000000-0000-4000-8000-000000000006', grades: [{ question_id: 'sa', points: 1 }] })).status).toBe(
      404,
    );
  });

  it.each([
    ['an objective question', [{ question_id: 'q2', points: 1 }], 'body.grades.0.question_id'],
    ['an unanswered question', [{ question_id: 'es2', points: 1 }], 'body.grades.0.question_id'],
    ['an unknown question', [{ question_id: 'zz', points: 1 }], 'body.grades.0.question_id'],
    ['more points than the question is worth', [{ question_id: 'sa', points: 4.5 }], 'body.grades.0.points'],
    ['negative points', [{ question_id: 'sa', points: -1 }], 'body.grades.0.points'],
    [
      'the same question twice',
      [
        { question_id: 'sa', points: 1 },
        { question_id: 'sa', points: 2 },
      ],
      'body.grades.1.question_id',
    ],
    ['no grades', [], 'body.grades'],
  ])('rejects grading %s with 422', async (_name, grades, location) => {
    const res = await grade({ attempt_id: attemptId, grades });
    expect(res.status, JSON.stringify(res.body)).toBe(422);
    expect(res.body.errors.map((e: { location: string }) => e.location)).toContain(location);
  });

  it('keeps the result open while a manual question is ungraded, then finalises it', async () => {
    const partial = await grade({ attempt_id: attemptId, grades: [{ question_id: 'sa', points: 3, feedback: 'Close: heart-lung area' }] });
    expect(partial.status).toBe(200);
    expect(partial.body).toMatchObject({ status: 'submitted', pending_manual_grading: true, passed: null });
    expect(partial.body.questions[1]).toMatchObject({ grading: 'manual', points_awarded: 3, correct: false, correct_answer: 'heart-lung' });

    const done = await grade({ attempt_id: attemptId, grades: [{ question_id: 'es', points: 5, feedback: 'Excellent' }] });
    expect(done.status).toBe(200);
    // 1 + 3 + 5 + 0 of 12 = 75 % ≥ 60 %
    expect(done.body).toMatchObject({
      status: 'graded',
      final: true,
      pending_manual_grading: false,
      score: 9,
      max_score: 12,
      score_percent: 75,
      passed: true,
    });

    const again = await grade({ attempt_id: attemptId, grades: [{ question_id: 'es', points: 1 }] });
    expect(again.status).toBe(409);
    expect(again.body.title).toBe('Already Graded');

    const grades = await sql(
      'SELECT question_id, points, feedback, graded_by FROM content.assessment_grades WHERE attempt_id = $1 ORDER BY question_id',
      [attemptId],
    );
    expect(grades.rows).toEqual([
      { question_id: 'es', points: '5.00', feedback: 'Excellent', graded_by: instructor.userId },
      { question_id: 'sa', points: '3.00', feedback: 'Close: heart-lung area', graded_by: instructor.userId },
    ]);
  });

  it('shows the student their feedback but not the correct answers', async () => {
    const res = await api.get(`/api/assessments/results/${attemptId}`, student.token);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'graded', passed: true, score: 9 });
    expect(res.body.questions[1]).toMatchObject({ feedback: 'Close: heart-lung area', points_awarded: 3 });
    for (const q of res.body.questions) expect(q).not.toHaveProperty('correct_answer');
    expect(JSON.stringify(res.body)).not.toContain('heart-lung"');
  });

  it('lets instructors and admins read results, nobody else', async () => {
    const mine = await api.get(`/api/assessments/results/${attemptId}`, instructor.token);
    expect(mine.status).toBe(200);
    expect(mine.body.questions[0]).toHaveProperty('correct_answer', 'true');
    expect((await api.get(`/api/assessments/results/${attemptId}`, admin.token)).status).toBe(200);
    const denied = await api.get(`/api/assessments/results/${attemptId}`, other.token);
    expect(denied.status).toBe(403);
    expect((await api.get(`/api/assessments/results/${attemptId}`)).status).toBe(401);
    expect((await api.get('/api/assessments/results/00000000-0000-4000-8000-000000000007', student.token)).status).toBe(404);
  });

  it('emitted one assessment_complete event and completed the linked course item', async () => {
    const outbox = await sql(
      'SELECT event_type, user_id, course_id, content_id, payload, forwarded_at FROM content.assessment_events_outbox WHERE attempt_id = $1',
      [attemptId],
    );
    expect(outbox.rows).toHaveLength(1);
    expect(outbox.rows[0]).toMatchObject({
      event_type: 'assessment_complete',
      user_id: student.userId,
      course_id: courseId,
      content_id: linkedItem,
    });
    expect(outbox.rows[0].payload.data).toMatchObject({
      assessment_id: assessment.assessment_id,
      attempt_id: attemptId,
      score: 75,
      passed: true,
      points: 9,
    });
    expect(outbox.rows[0].forwarded_at).toBeInstanceOf(Date);

    const events = await sql(
      `SELECT event_id::text, user_id::text, course_id::text, content_id::text, event_data FROM content.learning_events
        WHERE user_id::text = $1 AND event_type = 'assessment_complete' AND event_data -> 'custom_fields' ->> 'assessment_id' = $2`,
      [student.userId, assessment.assessment_id],
    );
    expect(events.rows).toEqual([
      {
        event_id: attemptId,
        user_id: student.userId,
        course_id: courseId,
        content_id: linkedItem,
        event_data: expect.objectContaining({ score: 75 }),
      },
    ]);
    // Folded into the learning analytics like any other event.
    const summary = await sql(
      'SELECT assessments_completed, score_sum, score_count FROM content.analytics_daily_summaries WHERE user_id = $1 AND course_id = $2',
      [student.userId, courseId],
    );
    expect(summary.rows).toEqual([{ assessments_completed: 1, score_sum: '75', score_count: 1 }]);

    const progress = await sql(
      'SELECT course_id, progress_percentage, completed_at, metadata FROM content.user_progress WHERE user_id = $1 AND content_id = $2',
      [student.userId, linkedItem],
    );
    expect(progress.rows).toHaveLength(1);
    expect(progress.rows[0]).toMatchObject({
      course_id: courseId,
      progress_percentage: '100.00',
      metadata: { last_assessment: { attempt_id: attemptId, passed: true } },
    });
    expect(progress.rows[0].completed_at).toBeInstanceOf(Date);
  });

  it('records a failed final result without completing the item, and never lowers progress', async () => {
    const failing = await startOk(assessment.assessment_id, other);
    await submit(failing, [{ question_id: 'q2', answer: 'false' }], other); // all manual questions unanswered → final at once
    const res = await api.get(`/api/assessments/results/${failing}`, other.token);
    expect(res.body).toMatchObject({ status: 'graded', passed: false, score: 0 });
    const progress = await sql(
      'SELECT progress_percentage, completed_at FROM content.user_progress WHERE user_id = $1 AND content_id = $2',
      [other.userId, linkedItem],
    );
    expect(progress.rows).toEqual([{ progress_percentage: '0.00', completed_at: null }]);

    // The student who passed fails a later attempt: still 100 % and completed.
    const later = await startOk(assessment.assessment_id);
    await submit(later, [], student);
    const kept = await sql('SELECT progress_percentage, completed_at FROM content.user_progress WHERE user_id = $1 AND content_id = $2', [
      student.userId,
      linkedItem,
    ]);
    expect(kept.rows[0].progress_percentage).toBe('100.00');
    expect(kept.rows[0].completed_at).toBeInstanceOf(Date);
  });

  it('refuses an instructor grading their own attempt', async () => {
    const own = await startOk(assessment.assessment_id, instructor);
    await submit(own, [{ question_id: 'sa', answer: 'heart-lung' }], instructor);
    const res = await grade({ attempt_id: own, grades: [{ question_id: 'sa', points: 4 }] });
    expect(res.status).toBe(403);
    expect((await grade({ attempt_id: own, grades: [{ question_id: 'sa', points: 4 }] }, admin)).status).toBe(200);
  });
});
