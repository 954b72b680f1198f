/**
 * Sample data for a first `npm start`, written through the two APIs like any client would:
 *
 * - a "Hunting Safety Fundamentals" course of three text documents (real files, uploaded through the
 *   object store) chained by prerequisites, and a quiz (assessment) on it;
 * - twelve sample learners with progress (PUT /api/progress, as themselves) and a month of learning
 *   events (POST /api/analytics/events, as the admin);
 * - the `completion-risk` model, trained by the ML Server's own training job on those events and
 *   aliased `production`, so that /predict and the learner insights answer at once.
 *
 * The learner accounts have no password (nobody can log in as them); they are created with the
 * Content Bridge's users repository, and their tokens are signed in-process, which also keeps the
 * registration rate limit free for real users. Everything is deterministic (a seeded random).
 */
import { signAccessToken, type TokenSettings } from '../../services/kit/auth/tokens.ts';
import type { Role } from '../../services/kit/http/routes.ts';
import type { UsersRepository } from '../../services/content-bridge/users/repository.ts';
import { seededRandom } from '../../services/ml-server/inference/index.ts';

export interface SeedOptions {
  bridgeUrl: string;
  mlUrl: string;
  tokens: TokenSettings;
  users: UsersRepository;
  admin: { id: string; username: string; roles: Role[] };
  /** The model /predict examples use (the ML Server's COMPLETION_RISK_MODEL). */
  modelName: string;
  progress?: (step: string) => void;
}

export interface SeedResult {
  courseId: string;
  contentIds: string[];
  assessmentId: string;
  model: { name: string; version: number; metrics: Record<string, unknown> };
}

export const SAMPLE_COURSE_TITLE = 'Hunting Safety Fundamentals';

const DOCUMENTS = [
  {
    title: 'The Four Rules of Firearm Safety',
    description: 'TAB-K: the four rules that prevent almost every firearm accident, and when to check the action.',
    filename: 'four-rules-of-firearm-safety.txt',
    tags: ['safety', 'firearms'],
    objectives: ['Apply the four primary rules of firearm safety'],
    text: `THE FOUR RULES OF FIREARM SAFETY (TAB-K)

T - Treat every firearm as if it were loaded.
A - Always point the muzzle in a safe direction.
B - Be certain of your target and what is beyond it.
K - Keep your finger outside the trigger guard until you are ready to shoot.

Check the action and the chamber every time you pick up a firearm, and again before you hand it over.
Unload before crossing fences, climbing into a tree stand or getting into a vehicle.
`,
  },
  {
    title: 'Tree Stand Safety',
    description: 'Harness, haul line and three points of contact: how to climb, sit and come down safely.',
    filename: 'tree-stand-safety.txt',
    tags: ['safety', 'tree stands'],
    objectives: ['Use a full-body harness and a lifeline from the ground up'],
    text: `TREE STAND SAFETY

Falls from tree stands are among the most common hunting injuries.
- Wear a full-body fall-arrest harness, attached from the moment you leave the ground.
- Keep three points of contact while climbing.
- Raise and lower an unloaded firearm with a haul line, never while climbing.
- Tell someone where you hunt and when you will return.
`,
  },
  {
    title: 'Blaze Orange and Being Seen',
    description: 'Why blaze orange works, what not to wear in deer season, and identifying your target.',
    filename: 'blaze-orange.txt',
    tags: ['safety', 'visibility', 'ethics'],
    objectives: ['Wear enough blaze orange to be seen by other hunters'],
    text: `BLAZE ORANGE AND BEING SEEN

Deer see blaze orange poorly; people see it from far away.
- Wear a blaze orange hat and vest during firearm seasons, as your state requires.
- Never wear white or tan in deer season: it can be mistaken for a deer's tail or hide.
- Identify your target fully before you raise your firearm.
`,
  },
];

const QUIZ = {
  title: 'Hunting Safety Quiz',
  type: 'quiz',
  passing_score: 70,
  time_limit_minutes: 20,
  questions: [
    {
      question_id: 'q1',
      type: 'multiple_choice',
      question_text: 'How should you treat every firearm?',
      options: ['As if it were loaded', 'As unloaded once the safety is on', 'As unloaded if the magazine is out'],
      correct_answer: 'As if it were loaded',
      points: 2,
    },
    {
      question_id: 'q2',
      type: 'true_false',
      question_text: 'You may climb into a tree stand with a loaded firearm slung over your shoulder.',
      correct_answer: 'false',
      points: 1,
    },
    {
      question_id: 'q3',
      type: 'multiple_choice',
      question_text: 'What must you be certain of before you shoot?',
      options: ['Your target and what is beyond it', 'Only the wind direction', 'Only the distance'],
      correct_answer: 'Your target and what is beyond it',
      points: 2,
    },
  ],
};

const DAY = 86_400_000;

class SeedError extends Error {}

async function call(base: string, method: string, path: string, token: string, body?: unknown): Promise<any> {
  const init: RequestInit = { method, headers: { authorization: `Bearer ${token}` } };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
  }
  const res = await fetch(`${base}${path}`, init);
  const text = await res.text();
  if (res.status >= 300) throw new SeedError(`${method} ${path} answered ${res.status}: ${text.slice(0, 500)}`);
  return text ? JSON.parse(text) : undefined;
}

export async function seedSampleData(opts: SeedOptions): Promise<SeedResult> {
  const step = opts.progress ?? (() => undefined);
  const tokenFor = (u: { id: string; username: string; roles: Role[] }) =>
    signAccessToken(opts.tokens, { userId: u.id, username: u.username, roles: u.roles }).token;
  const admin = tokenFor(opts.admin);
  const bridge = (method: string, path: string, body?: unknown, token = admin) => call(opts.bridgeUrl, method, path, token, body);
  const ml = (method: string, path: string, body?: unknown) => call(opts.mlUrl, method, path, admin, body);

  step('uploading the sample course');
  const contentIds: string[] = [];
  for (const doc of DOCUMENTS) {
    const form = new FormData();
    form.append('title', doc.title);
    form.append('type', 'document');
    form.append(
      'metadata',
      JSON.stringify({
        description: doc.description,
        tags: doc.tags,
        learning_objectives: doc.objectives,
        difficulty_level: 'beginner',
        duration_minutes: 10,
      }),
    );
    form.append('file', new Blob([doc.text], { type: 'text/plain' }), doc.filename);
    contentIds.push((await bridge('POST', '/api/content/upload', form)).content_id);
  }
  const course = await bridge('POST', '/api/courses', {
    title: SAMPLE_COURSE_TITLE,
    description: 'The safety basics every hunter needs before the first season: firearms, tree stands and visibility.',
    difficulty_level: 'beginner',
    estimated_hours: 1,
    metadata: { sample: true },
    items: contentIds.map((id, i) => ({ content_id: id, sequence_number: i + 1, prerequisites: i ? [contentIds[i - 1]!] : [] })),
  });
  const courseId: string = course.course_id;
  const assessment = await bridge('POST', '/api/assessments', { ...QUIZ, metadata: { course_id: courseId, difficulty_level: 'beginner' } });
  const assessmentId: string = assessment.assessment_id;

  step('recording sample learner activity');
  const random = seededRandom(20_26);
  const now = Date.now();
  const events: unknown[] = [];
  for (let i = 0; i < 12; i++) {
    const username = `sample_learner_${String(i + 1).padStart(2, '0')}`;
    const existing = await opts.users.findByLogin({ username });
    const learner =
      existing ??
      (await opts.users.create({ username, email: `${username}@example.com`, passwordHash: null, profile: {}, roles: ['student'] }));
    const token = tokenFor({ id: learner.id, username, roles: ['student'] });
    // Engagement drives everything; every other learner finishes the course (with a little noise in the rest).
    const engagement = Math.min(1, Math.max(0, (i % 2 === 0 ? 0.65 : 0.25) + (random() - 0.5) * 0.3));
    const finishes = i % 2 === 0;
    const activeDays = 1 + Math.round(engagement * 9 + random() * 2);
    const lastSeenDaysAgo = finishes ? Math.floor(random() * 3) : 8 + Math.floor(random() * 15);
    for (let d = 0; d < activeDays; d++) {
      const day = now - (lastSeenDaysAgo + d * 2) * DAY - Math.floor(random() * 8) * 3_600_000;
      const views = 1 + Math.floor(engagement * 3 * random());
      for (let v = 0; v < views; v++) {
        const item = contentIds[Math.min(contentIds.length - 1, Math.floor(random() * (finishes ? 3 : 2)))]!;
        events.push({
          event_id: `sample-${username}-${d}-${v}`,
          event_type: 'content_view',
          user_id: learner.id,
          timestamp: new Date(day + v * 600_000).toISOString(),
          context: { course_id: courseId, content_id: item, device_type: random() < 0.6 ? 'desktop' : 'mobile' },
          data: { time_spent_seconds: Math.round(120 + engagement * 900 * random()) },
        });
      }
    }
    const score = Math.round(Math.min(100, Math.max(0, 45 + engagement * 55 + (random() - 0.5) * 20)));
    events.push({
      event_id: `sample-${username}-quiz`,
      event_type: 'assessment_complete',
      user_id: learner.id,
      timestamp: new Date(now - lastSeenDaysAgo * DAY).toISOString(),
      context: { course_id: courseId },
      data: { score },
    });
    const itemsDone = finishes ? contentIds.length : Math.floor(random() * 2);
    for (const [n, id] of contentIds.entries()) {
      const pct = n < itemsDone ? 100 : n === itemsDone ? Math.round(20 + random() * 50) : 0;
      if (pct > 0)
        await bridge(
          'PUT',
          `/api/progress/${id}`,
          { progress_percentage: pct, time_spent_minutes: Math.round(5 + 20 * engagement) },
          token,
        );
    }
  }
  await bridge('POST', '/api/analytics/events', events);

  step('training the completion-risk model');
  const name = opts.modelName;
  const { models } = (await ml('GET', '/models')) as { models: Array<{ name: string }> };
  if (!models.some((m) => m.name === name)) {
    await ml('POST', '/models', {
      name,
      task: 'classification',
      format: 'logistic',
      description: 'Risk that a learner does not complete a course (sample, trained on the seeded learners)',
    });
  }
  const job = await ml('POST', `/models/${name}/train`, { task: 'completion_risk' });
  const jobId: string = job.job_id;
  const deadline = Date.now() + 60_000;
  let finished: any;
  while (Date.now() < deadline) {
    finished = await ml('GET', `/jobs/${jobId}`);
    if (finished.status === 'succeeded' || finished.status === 'failed') break;
    await new Promise((r) => setTimeout(r, 200));
  }
  if (finished?.status !== 'succeeded')
    throw new SeedError(`training job ${jobId} did not succeed: ${finished?.error ?? finished?.status}`);
  await ml('PUT', `/models/${name}/aliases/production`, { version: finished.result_version });
  return { courseId, contentIds, assessmentId, model: { name, version: finished.result_version, metrics: finished.metrics } };
}
