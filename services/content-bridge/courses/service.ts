/**
 * Courses: ordered content items (`sequence_number`) and their prerequisites. The item list of a
 * create or update is the whole list (replace semantics): items left out are detached from the
 * course, and an item's omitted `prerequisites` mean none. Prerequisites must be items of the same
 * course, and the prerequisite graph must stay acyclic. Items whose course changed leave the
 * content cache once the transaction has committed.
 */
import type { Queryable } from '../../kit/deps/database.ts';
import { pageByTime } from '../../kit/http/cursor.ts';
import { problem, type FieldError } from '../../kit/http/problem.ts';
import type { AppContext } from '../context.ts';
import { contentCache } from '../content/cache.ts';
import { itemsOnCycles, lockPrerequisites } from '../content/repository.ts';
import { base, checkItemList, fieldsOf, toItem, type CreateCourseBody, type ItemListBody, type UpdateCourseBody } from './model.ts';
import { coursesRepository, type CourseItemInput, type CourseRow } from './repository.ts';

export function coursesService(app: AppContext) {
  const { db } = app.deps;
  const repo = coursesRepository(db);
  const cache = contentCache(app.deps.cache, app.logger, app.config.CONTENT_CACHE_TTL_SECONDS);

  /** Inside a transaction: validates the referenced content and makes it the course's item list. */
  async function setItems(tx: Queryable, courseId: string, items: CourseItemInput[], original: ItemListBody): Promise<string[]> {
    const ids = items.map((i) => i.content_id);
    await lockPrerequisites(tx);
    const found = new Map((await repo.lockItems(ids, tx)).map((r) => [r.id, r]));
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
    const cyclic = await itemsOnCycles(tx, ids);
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

  return {
    async list(limit: number, cursor: string | undefined) {
      const { page, next } = await pageByTime({ limit, cursor }, (request) => repo.list(request));
      return { courses: page.map((r) => ({ ...base(r), item_count: r.item_count })), next_cursor: next };
    },

    async create(body: CreateCourseBody, instructorId: string) {
      const items = checkItemList(body.items ?? []);
      const { course, changed } = await db.transaction(async (tx) => {
        const course = await repo.create({ ...fieldsOf(body), title: body.title }, instructorId, tx);
        const changed = items.length ? await setItems(tx, course.id, items, body.items ?? []) : [];
        return { course, changed };
      });
      await cache.invalidate(...changed);
      return courseBody(course);
    },

    async get(courseId: string) {
      const course = await repo.find(courseId);
      if (!course) throw problem.notFound('No such course');
      return courseBody(course);
    },

    async update(courseId: string, body: UpdateCourseBody) {
      const items = body.items ? checkItemList(body.items) : undefined;
      const { course, changed } = await db.transaction(async (tx) => {
        const existing = await repo.find(courseId, { forUpdate: true }, tx);
        if (!existing) throw problem.notFound('No such course');
        const course = (await repo.update(courseId, fieldsOf(body), tx))!;
        const changed = items ? await setItems(tx, course.id, items, body.items ?? []) : [];
        return { course, changed };
      });
      await cache.invalidate(...changed);
      return courseBody(course);
    },

    /** Deletes the course; its content items stay, detached. */
    async remove(courseId: string) {
      const detached = await db.transaction((tx) => repo.remove(courseId, tx));
      if (!detached) throw problem.notFound('No such course');
      await cache.invalidate(...detached);
    },
  };
}
