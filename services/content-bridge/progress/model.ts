/** Progress request and answer schemas, and the mapping from rows. */
import { z } from 'zod';
import type { ProgressRow } from './repository.ts';

export const progressBody = z.strictObject({
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

export const progressSchema = z.object({
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

export const progressItemSchema = progressSchema.extend({ title: z.string(), type: z.string() });

export const courseRollupSchema = z.object({
  course_id: z.uuid(),
  title: z.string(),
  total_items: z.number().int(),
  completed_items: z.number().int(),
  started_items: z.number().int(),
  percent_complete: z.number(),
  time_spent_minutes: z.number().int(),
});

export function toProgress(row: ProgressRow) {
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

export const userProgressSchema = z.object({
  user_id: z.uuid(),
  items: z.array(progressItemSchema),
  courses: z.array(courseRollupSchema),
  totals: z.object({ started_items: z.number().int(), completed_items: z.number().int(), time_spent_minutes: z.number().int() }),
});
