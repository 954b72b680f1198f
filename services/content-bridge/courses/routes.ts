/**
 * Courses: ordered content items (`sequence_number`) and their prerequisites. Instructors and admins
 * write, any signed-in user reads. The item list of a POST/PUT is the whole list (replace semantics):
 * items left out are detached from the course, and an item's omitted `prerequisites` mean none.
 * Prerequisites must be items of the same course, and the prerequisite graph must stay acyclic.
 */
import { z } from 'zod';
import type { Queryable } from '../../kit/deps/database.ts';
import { cursorQuery, decodeTimeCursor, paginate } from '../../kit/http/cursor.ts';
import { problem, type FieldError } from '../../kit/http/problem.ts';
import { route, type RouteSpec } from '../../kit/http/routes.ts';
import type { AppContext } from '../context.ts';
import { contentCache } from '../content/cache.ts';
import { difficultySchema, titleSchema } from '../content/model.ts';
import { itemsOnCycles, lockPrerequisites } from '../content/repository.ts';
import { coursesRepository, type CourseFields, type CourseItemInput, type CourseItemRow, type CourseRow } from './repository.ts';

const courseIdParams = z.strictObject({ course_id: z.uuid() });

const itemSchema = z.strictObject({
  content_id: z.uuid(),
  sequence_number: z.number().int().min(0).max(1_000_000),
  prerequisites: z.array(z.uuid()).max(100).optional(),
});

const courseFields = {
  title: titleSchema,
  description: z.string().max(10_000).optional(),
  difficulty_level: difficultySchema.optional(),
  estimated_hours: z.number().int().min(0).max(100_000).optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  items: z.array(itemSchema).max(1000).optional(),
};

const createBody = z.strictObject(courseFields);

const updateBody = z
  .strictObject({
    ...courseFields,
    title: titleSchema.optional(),
    difficulty_level: difficultySchema.nullable().optional(),
    estimated_hours: z.number().int().min(0).max(100_000).nullable().optional(),
  })
  .refine((b) => Object.keys(b).length > 0, { message: 'nothing to update' });

const courseItemSchema = z.object({
  content_id: z.uuid(),
  title: z.string(),
  type: z.string(),
  sequence_number: z.number().int().nullable(),
  prerequisites: z.array(z.uuid()),
  duration_minutes: z.number().int().nullable(),
  difficulty_level: z.string().nullable(),
});

const courseBase = {
  course_id: z.uuid(),
  title: z.string(),
  description: z.string(),
  difficulty_level: z.string().nullable(),
  estimated_hours: z.number().int().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  instructor_id: z.uuid().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
};
const courseSchema = z.object({ ...courseBase, items: z.array(courseItemSchema) });
const courseSummarySchema = z.object({ ...courseBase, item_count: z.number().int() });

function base(row: CourseRow) {
  return {
    course_id: row.id,
    title: row.title,
    description: row.description,
    difficulty_level: row.difficulty_level,
    estimated_hours: row.estimated_hours,
    metadata: row.metadata,
    instructor_id: row.instructor_id,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

function toItem(row: CourseItemRow): z.infer<typeof courseItemSchema> {
  return {
    content_id: row.id,
    title: row.title,
    type: row.content_type,
    sequence_number: row.sequence_number,
    prerequisites: row.prerequisites,
    duration_minutes: row.metadata.duration_minutes ?? null,
    difficulty_level: row.metadata.difficulty_level ?? null,
  };
}

/** Checks the item list on its own: duplicates, and prerequisites that are not items of the list. */
function checkItemList(items: z.infer<typeof itemSchema>[]): CourseItemInput[] {
  const errors: FieldError[] = [];
  const ids = new Set<string>();
  const sequences = new Set<number>();
  items.forEach((item, i) => {
    if (ids.has(item.content_id)) errors.push({ location: `body.items.${i}.content_id`, message: `${item.content_id} is listed twice` });
    if (sequences.has(item.sequence_number))
      errors.push({ location: `body.items.${i}.sequence_number`, message: `${item.sequence_number} is used twice` });
    ids.add(item.content_id);
    sequences.add(item.sequence_number);
  });
  items.forEach((item, i) => {
    (item.prerequisites ?? []).forEach((p, j) => {
      if (!ids.has(p)) errors.push({ location: `body.items.${i}.prerequisites.${j}`, message: `${p} is not an item of this course` });
      else if (p === item.content_id)
        errors.push({ location: `body.items.${i}.prerequisites.${j}`, message: 'an item cannot require itself' });
    });
  });
  if (errors.length) throw problem.unprocessable('The course items are invalid', errors);
  return items.map((i) => ({
    content_id: i.content_id,
    sequence_number: i.sequence_number,
    prerequisites: [...new Set(i.prerequisites ?? [])],
  }));
}

export function courseRoutes(app: AppContext): RouteSpec[] {
  const { db } = app.deps;
  const repo = coursesRepository(db);
  const cache = contentCache(app.deps.cache, app.logger, app.config.CONTENT_CACHE_TTL_SECONDS);

  /** Inside a transaction: validates the referenced content and makes it the course's item list. */
  async function setItems(
    tx: Queryable,
    courseId: string,
    items: CourseItemInput[],
    original: z.infer<typeof itemSchema>[],
  ): Promise<string[]> {
    await lockPrerequisites(tx);
    const found = new Map(
      (
        await repo.lockItems(
          items.map((i) => i.content_id),
          tx,
        )
      ).map((r) => [r.id, r]),
    );
    const errors: FieldError[] = [];
    original.forEach((item, i) => {
      const row = found.get(item.content_id);
      if (!row || row.status !== 'published')
        errors.push({ location: `body.items.${i}.content_id`, message: `no published content item ${item.content_id}` });
      else if (row.course_id && row.course_id !== courseId) {
        errors.push({ location: `body.items.${i}.content_id`, message: `${item.content_id} belongs to course ${row.course_id}` });
      }
    });
    if (errors.length) throw problem.unprocessable('The course refers to content it cannot hold', errors);
    const changed = await repo.replaceItems(courseId, items, tx);
    const cyclic = await itemsOnCycles(
      tx,
      items.map((i) => i.content_id),
    );
    if (cyclic.length) {
      throw problem.unprocessable('The prerequisites form a cycle', [
        { location: 'body.items', message: `these items (indirectly) require themselves: ${cyclic.join(', ')}` },
      ]);
    }
    return changed;
  }

  async function courseBody(row: CourseRow) {
    return { ...base(row), items: (await repo.items(row.id)).map(toItem) };
  }

  const fieldsOf = (body: z.infer<typeof updateBody>): CourseFields => ({
    title: body.title,
    description: body.description,
    difficultyLevel: body.difficulty_level,
    estimatedHours: body.estimated_hours,
    metadata: body.metadata,
  });

  return [
    route({
      method: 'get',
      path: '/api/courses',
      summary: 'All courses, oldest first, with keyset pagination',
      tags: ['courses'],
      access: 'authenticated',
      query: z.strictObject({ limit: z.coerce.number().int().min(1).max(200).default(50), cursor: z.string().max(500).optional() }),
      responses: {
        200: {
          description: 'A page of courses',
          schema: z.object({ courses: z.array(courseSummarySchema), next_cursor: z.string().nullable() }),
        },
      },
      async handler({ ctx, query }) {
        const after = query.cursor ? decodeTimeCursor(query.cursor) : undefined;
        const rows = await cursorQuery(() => repo.list({ limit: query.limit + 1, after }));
        const { page, next } = paginate(rows, query.limit, (r) => ({ order: 'time', createdAt: r.cursor_ts, id: r.id }));
        ctx.body = {
          courses: page.map((r) => ({ ...base(r), item_count: r.item_count })),
          next_cursor: next,
        };
      },
    }),
    route({
      method: 'post',
      path: '/api/courses',
      summary: 'Create a course, optionally with its ordered items and their prerequisites',
      tags: ['courses'],
      access: ['instructor', 'admin'],
      body: createBody,
      responses: { 201: { description: 'The course', schema: courseSchema } },
      async handler({ ctx, body, principal }) {
        const items = checkItemList(body.items ?? []);
        const { course, changed } = await db.transaction(async (tx) => {
          const course = await repo.create({ ...fieldsOf(body), title: body.title }, principal!.userId, tx);
          const changed = items.length ? await setItems(tx, course.id, items, body.items ?? []) : [];
          return { course, changed };
        });
        await cache.invalidate(...changed);
        ctx.status = 201;
        ctx.set('Location', `/api/courses/${course.id}`);
        ctx.body = await courseBody(course);
      },
    }),
    route({
      method: 'get',
      path: '/api/courses/{course_id}',
      summary: 'One course with its published items in order, with their prerequisites',
      tags: ['courses'],
      access: 'authenticated',
      params: courseIdParams,
      responses: { 200: { description: 'The course', schema: courseSchema } },
      async handler({ ctx, params }) {
        const course = await repo.find(params.course_id);
        if (!course) throw problem.notFound('No such course');
        ctx.body = await courseBody(course);
      },
    }),
    route({
      method: 'put',
      path: '/api/courses/{course_id}',
      summary: 'Update course fields; `items`, when present, replaces the whole ordered item list',
      tags: ['courses'],
      access: ['instructor', 'admin'],
      params: courseIdParams,
      body: updateBody,
      responses: { 200: { description: 'The course', schema: courseSchema } },
      async handler({ ctx, params, body }) {
        const items = body.items ? checkItemList(body.items) : undefined;
        const { course, changed } = await db.transaction(async (tx) => {
          const existing = await repo.find(params.course_id, { forUpdate: true }, tx);
          if (!existing) throw problem.notFound('No such course');
          const course = (await repo.update(params.course_id, fieldsOf(body), tx))!;
          const changed = items ? await setItems(tx, course.id, items, body.items ?? []) : [];
          return { course, changed };
        });
        await cache.invalidate(...changed);
        ctx.body = await courseBody(course);
      },
    }),
    route({
      method: 'delete',
      path: '/api/courses/{course_id}',
      summary: 'Delete a course; its content items stay, detached from it',
      tags: ['courses'],
      access: ['instructor', 'admin'],
      params: courseIdParams,
      responses: { 204: { description: 'Deleted' } },
      async handler({ ctx, params }) {
        const detached = await db.transaction((tx) => repo.remove(params.course_id, tx));
        if (!detached) throw problem.notFound('No such course');
        await cache.invalidate(...detached);
        ctx.status = 204;
      },
    }),
  ];
}
