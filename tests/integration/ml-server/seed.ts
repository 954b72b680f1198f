/**
 * Synthetic learners for training tests, written with SQL straight into the Content Bridge's tables:
 * users, two courses of five tagged items chained by prerequisites, progress rows and learning events.
 * A learner's engagement (0..1) drives everything: more active days, events, time and better scores,
 * and, with some noise, completing the course.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Database } from '../../../services/kit/deps/database.ts';
import { seededRandom } from '../../../services/ml-server/inference/index.ts';

export interface Course {
  id: string;
  title: string;
  items: Array<{ id: string; tags: string[]; sequence: number }>;
}

export interface SeededLearner {
  id: string;
  engagement: number;
  completed: Record<string, number>;
}

const DAY = 86_400_000;

export async function seedCourses(db: Database): Promise<Course[]> {
  const courses: Course[] = [];
  const plans = [
    { title: 'Hunter Safety', tags: [['safety'], ['safety', 'firearms'], ['firearms'], ['ethics'], ['ethics', 'law']] },
    { title: 'Field Craft', tags: [['tracking'], ['tracking', 'wildlife'], ['wildlife'], ['survival'], ['survival', 'navigation']] },
  ];
  for (const plan of plans) {
    const { rows } = await db.query<{ id: string }>('INSERT INTO content.courses (title) VALUES ($1) RETURNING id', [plan.title]);
    const course: Course = { id: rows[0]!.id, title: plan.title, items: [] };
    let previous: string | undefined;
    for (const [i, tags] of plan.tags.entries()) {
      const { rows: item } = await db.query<{ id: string }>(
        `INSERT INTO content.content_items (course_id, title, content_type, metadata, sequence_number, prerequisites)
         VALUES ($1, $2, 'document', $3, $4, $5) RETURNING id`,
        [course.id, `${plan.title} ${i + 1}`, JSON.stringify({ tags }), i + 1, JSON.stringify(previous ? [previous] : [])],
      );
      course.items.push({ id: item[0]!.id, tags, sequence: i + 1 });
      previous = item[0]!.id;
    }
    courses.push(course);
  }
  return courses;
}

export async function createUser(db: Database, name: string): Promise<string> {
  const { rows } = await db.query<{ id: string }>('INSERT INTO users.users (username, email) VALUES ($1, $2) RETURNING id', [
    name,
    `${name}@huntmaster.test`,
  ]);
  return rows[0]!.id;
}

interface EventRow {
  event_id: string;
  event_type: string;
  user_id: string;
  course_id: string;
  content_id: string;
  event_data: Record<string, number>;
  occurred_at: string;
  body_hash: string;
}

export async function insertEvents(db: Database, events: Omit<EventRow, 'event_id' | 'body_hash'>[]): Promise<void> {
  const rows: EventRow[] = events.map((e) => {
    const event_id = randomUUID();
    return { ...e, event_id, body_hash: createHash('sha256').update(event_id).digest('hex') };
  });
  for (let i = 0; i < rows.length; i += 2000) {
    await db.query(
      `INSERT INTO content.learning_events (event_id, event_type, user_id, course_id, content_id, event_data, occurred_at, body_hash)
       SELECT event_id, event_type, user_id, course_id, content_id, event_data, occurred_at, body_hash
         FROM jsonb_to_recordset($1::jsonb) AS r(event_id text, event_type text, user_id text, course_id text, content_id text,
              event_data jsonb, occurred_at timestamptz, body_hash text)`,
      [JSON.stringify(rows.slice(i, i + 2000))],
    );
  }
}

/** One learner's activity in one course: `done` items completed, engagement-driven events, last seen `lastSeenDaysAgo`. */
export async function seedActivity(
  db: Database,
  learner: string,
  course: Course,
  opts: { done: number; engagement: number; lastSeenDaysAgo: number; now: Date; random: () => number; scoreBias?: number },
): Promise<void> {
  const { done, engagement, random } = opts;
  const activeDays = 2 + Math.round(engagement * 12);
  const events: Omit<EventRow, 'event_id' | 'body_hash'>[] = [];
  const touched = Math.min(course.items.length, done + 1);
  for (let d = 0; d < activeDays; d++) {
    const day = new Date(opts.now.getTime() - (opts.lastSeenDaysAgo + d * 2) * DAY);
    // Each visit: view an item, then take its assessment.
    const visits = 1 + Math.round(engagement * 2 + random());
    for (let k = 0; k < visits; k++) {
      const item = course.items[(d + k) % touched]!;
      const score = Math.max(0, Math.min(100, 40 + engagement * 50 + (opts.scoreBias ?? 0) + (random() - 0.5) * 20));
      const at = day.getTime() + k * 120_000;
      events.push({
        event_type: 'content_view',
        user_id: learner,
        course_id: course.id,
        content_id: item.id,
        event_data: { time_spent_seconds: Math.round(200 + engagement * 900) },
        occurred_at: new Date(at).toISOString(),
      });
      events.push({
        event_type: 'assessment_complete',
        user_id: learner,
        course_id: course.id,
        content_id: item.id,
        event_data: { score: Math.round(score), time_spent_seconds: 300 },
        occurred_at: new Date(at + 60_000).toISOString(),
      });
    }
  }
  await insertEvents(db, events);
  for (const [i, item] of course.items.slice(0, touched).entries()) {
    const completed = i < done;
    await db.query(
      `INSERT INTO content.user_progress (user_id, course_id, content_id, progress_percentage, time_spent_minutes, completed_at, created_at, last_accessed)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`,
      [
        learner,
        course.id,
        item.id,
        completed ? 100 : 40,
        Math.round(10 + engagement * 30),
        completed ? new Date(opts.now.getTime() - (opts.lastSeenDaysAgo + 1) * DAY) : null,
        new Date(opts.now.getTime() - (opts.lastSeenDaysAgo + activeDays * 2) * DAY),
      ],
    );
  }
}

/** `n` learners in both courses; engaged learners tend to complete. */
export async function seedLearners(db: Database, courses: Course[], n: number, seed = 7): Promise<SeededLearner[]> {
  const random = seededRandom(seed);
  const now = new Date();
  const learners: SeededLearner[] = [];
  for (let i = 0; i < n; i++) {
    const id = await createUser(db, `learner_${seed}_${i}`);
    const engagement = random();
    const learner: SeededLearner = { id, engagement, completed: {} };
    for (const course of courses) {
      const completes = engagement + (random() - 0.5) * 0.4 > 0.5;
      const done = completes ? course.items.length : Math.floor(random() * 3);
      learner.completed[course.id] = done;
      await seedActivity(db, id, course, {
        done,
        engagement,
        lastSeenDaysAgo: completes ? Math.round(random() * 5) : 10 + Math.round(random() * 40),
        now,
        random,
      });
    }
    learners.push(learner);
  }
  return learners;
}
