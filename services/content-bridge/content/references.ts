/** The course and prerequisites a content write refers to must exist: a 422 names every one that does not. */
import type { Queryable } from '../../kit/deps/database.ts';
import { domain } from '../../kit/domain-error.ts';
import type { FieldError } from '../../kit/http/problem.ts';
import { courseExists, missingContent } from './repository.ts';

export async function checkReferences(
  tx: Queryable,
  courseId: string | null | undefined,
  prerequisites: string[] | undefined,
  prerequisitesAt: string,
): Promise<void> {
  const errors: FieldError[] = [];
  if (courseId && !(await courseExists(tx, courseId))) errors.push({ location: 'body.course_id', message: `no course ${courseId}` });
  for (const id of await missingContent(tx, prerequisites ?? [])) {
    errors.push({ location: prerequisitesAt, message: `no published content item ${id}` });
  }
  if (errors.length) throw domain.invalid('The request refers to a course or content that does not exist', errors);
}

/** Postgres' foreign-key violation: a referenced course or item was deleted meanwhile. */
export const isForeignKeyViolation = (err: unknown) => (err as { code?: string }).code === '23503';
