/**
 * Learning progress. A user records their own progress per content item; both numbers are the
 * client's cumulative totals and never go backwards (a lower report is ignored, the row keeps the
 * maximum), and `completed_at` is set once, when progress first reaches 100. Completing an item
 * whose prerequisites are not all completed is refused (409, `missing_prerequisites`).
 */
import { z } from 'zod';
import { ProblemError, problem } from '../../kit/http/problem.ts';
import { route, type RouteSpec } from '../../kit/http/routes.ts';
import type { AppContext } from '../context.ts';
import { contentRepository } from '../content/repository.ts';
import { progressRepository, type ProgressRow } from './repository.ts';

const progressBody = z.strictObject({
  progress_percentage: z
    .number()
    .min(0)
    .max(100)
    .transform((p) => Math.round(p * 100) / 100), // numeric(5,2): round here so 99.999 cannot become 100 unchecked
  time_spent_minutes: z
    .number()
    .int()
    .min(0)
    .max(10_000_000)
    .optional()
    .describe('Cumulative minutes spent on the item (not a delta); omitted keeps the recorded total'),
});

const progressSchema = z.object({
  user_id: z.uuid(),
  content_id: z.uuid(),
  course_id: z.uuid().nullable(),
  progress_percentage: z.number(),
  time_spent_minutes: z.number().int(),
  completed: z.boolean(),
  completed_at: z.string().nullable(),
  last_accessed: z.string(),
  updated_at: z.string(),
});

const progressItemSchema = progressSchema.extend({ title: z.string(), type: z.string() });

const courseRollupSchema = z.object({
  course_id: z.uuid(),
  title: z.string(),
  total_items: z.number().int(),
  completed_items: z.number().int(),
  started_items: z.number().int(),
  percent_complete: z.number(),
  time_spent_minutes: z.number().int(),
});

function toProgress(row: ProgressRow) {
  return {
    user_id: row.user_id,
    content_id: row.content_id,
    course_id: row.course_id,
    progress_percentage: Number(row.progress_percentage),
    time_spent_minutes: row.time_spent_minutes,
    completed: row.completed_at !== null,
    completed_at: row.completed_at?.toISOString() ?? null,
    last_accessed: row.last_accessed.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

export function progressRoutes(app: AppContext): RouteSpec[] {
  const { db } = app.deps;
  const repo = progressRepository(db);
  const content = contentRepository(db);

  return [
    route({
      method: 'put',
      path: '/api/progress/{content_id}',
      summary: "Record the caller's own progress on a content item (never decreases; 409 when completing before the prerequisites)",
      tags: ['progress'],
      access: 'authenticated',
      params: z.strictObject({ content_id: z.uuid() }),
      body: progressBody,
      responses: { 200: { description: 'The recorded progress', schema: progressSchema } },
      async handler({ ctx, params, body, principal }) {
        const userId = principal!.userId;
        const item = await content.find(params.content_id);
        if (!item) throw problem.notFound('No such content');
        if (body.progress_percentage >= 100) {
          const existing = await repo.find(userId, item.id);
          if (!existing?.completed_at) {
            const missing = await repo.missingPrerequisites(userId, item.id);
            if (missing.length) {
              throw new ProblemError({
                status: 409,
                title: 'Prerequisites Not Completed',
                detail: `Complete ${missing.length} prerequisite item(s) first`,
                extensions: {
                  missing_prerequisites: missing.map((m) => m.content_id),
                  missing_prerequisite_titles: missing.map((m) => m.title),
                },
              });
            }
          }
        }
        const row = await repo.record(userId, item.id, item.course_id, body.progress_percentage, body.time_spent_minutes ?? 0);
        ctx.body = toProgress(row);
      },
    }),
    route({
      method: 'get',
      path: '/api/users/{user_id}/progress',
      summary: "A user's progress: every item, and a roll-up per course (the user themself, an instructor or an admin)",
      tags: ['progress'],
      access: 'authenticated',
      params: z.strictObject({ user_id: z.uuid() }),
      responses: {
        200: {
          description: 'The progress',
          schema: z.object({
            user_id: z.uuid(),
            items: z.array(progressItemSchema),
            courses: z.array(courseRollupSchema),
            totals: z.object({ started_items: z.number().int(), completed_items: z.number().int(), time_spent_minutes: z.number().int() }),
          }),
        },
      },
      async handler({ ctx, params, principal }) {
        const self = principal!.userId === params.user_id;
        if (!self && !principal!.roles.some((r) => r === 'instructor' || r === 'admin')) {
          throw problem.forbidden("Only the user, an instructor or an admin may read a user's progress");
        }
        if (!self && !(await app.users.findById(params.user_id))) throw problem.notFound('No such user');
        const [items, courses] = await Promise.all([repo.items(params.user_id), repo.rollup(params.user_id)]);
        ctx.body = {
          user_id: params.user_id,
          items: items.map((r) => ({ ...toProgress(r), title: r.title, type: r.content_type })),
          courses: courses.map((c) => ({
            ...c,
            percent_complete: c.total_items ? Math.round((c.completed_items / c.total_items) * 10_000) / 100 : 0,
          })),
          totals: {
            started_items: items.length,
            completed_items: items.filter((i) => i.completed_at !== null).length,
            time_spent_minutes: items.reduce((sum, i) => sum + i.time_spent_minutes, 0),
          },
        };
      },
    }),
  ];
}
