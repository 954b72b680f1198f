/** Courses' request and answer schemas, and the pure checks and mappings between them and the rows. */
import { z } from 'zod';
import { problem, type FieldError } from '../../kit/http/problem.ts';
import { difficultySchema, titleSchema } from '../content/model.ts';
import type { CourseFields, CourseItemInput, CourseItemRow, CourseRow } from './repository.ts';

export const courseIdParams = z.strictObject({ course_id: z.uuid() });

export const itemSchema = z.strictObject({
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

export const createBody = z.strictObject(courseFields);

export const updateBody = z
  .strictObject({
    ...courseFields,
    title: titleSchema.optional(),
    difficulty_level: difficultySchema.nullable().optional(),
    estimated_hours: z.number().int().min(0).max(100_000).nullable().optional(),
  })
  .refine((b) => Object.keys(b).length > 0, { message: 'nothing to update' });

export const courseItemSchema = z.object({
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
export const courseSchema = z.object({ ...courseBase, items: z.array(courseItemSchema) });
export const courseSummarySchema = z.object({ ...courseBase, item_count: z.number().int() });

export function base(row: CourseRow) {
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

export function toItem(row: CourseItemRow): z.infer<typeof courseItemSchema> {
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
export function checkItemList(items: z.infer<typeof itemSchema>[]): CourseItemInput[] {
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

export type CreateCourseBody = z.infer<typeof createBody>;
export type UpdateCourseBody = z.infer<typeof updateBody>;
export type ItemListBody = z.infer<typeof itemSchema>[];

export const fieldsOf = (body: UpdateCourseBody): CourseFields => ({
  title: body.title,
  description: body.description,
  difficultyLevel: body.difficulty_level,
  estimatedHours: body.estimated_hours,
  metadata: body.metadata,
});
