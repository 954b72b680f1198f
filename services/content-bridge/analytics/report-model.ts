/** The answers of the analytics reads and the report request, as OpenAPI shows them. */
import { z } from 'zod';
import { externalId } from './model.ts';
import { REPORT_TYPES } from './queries.ts';

/** Longest range `GET /api/analytics/user/{id}` summarises at once, and the default when none is given. */
export const MAX_RANGE_DAYS = 366;
export const DEFAULT_RANGE_DAYS = 30;

export const isoDate = z.iso.date();

export const acceptedSchema = z.object({
  accepted: z.array(z.string()).describe('Every event id of the request, in order, once committed'),
});

export const daySchema = z.object({
  course_id: z.string().nullable(),
  date: z.string(),
  events: z.number().int(),
  content_views: z.number().int(),
  total_time_seconds: z.number(),
  total_time_minutes: z.number().int(),
  content_items_accessed: z.number().int(),
  progress_made: z.number().nullable(),
  assessments_completed: z.number().int(),
  average_score: z.number().nullable(),
});

export const userAnalyticsSchema = z.object({
  user_id: z.string(),
  from: z.string(),
  to: z.string(),
  days: z.array(daySchema),
  courses: z.array(daySchema.omit({ date: true }).extend({ active_days: z.number().int() })),
  totals: z.object({
    active_days: z.number().int(),
    events: z.number().int(),
    content_views: z.number().int(),
    total_time_seconds: z.number(),
    total_time_minutes: z.number().int(),
    content_items_accessed: z.number().int(),
    assessments_completed: z.number().int(),
    average_score: z.number().nullable(),
  }),
});

export const contentAnalyticsSchema = z.object({
  content_id: z.string(),
  course_id: z.string().nullable(),
  events: z.number().int(),
  views: z.number().int(),
  unique_users: z.number().int(),
  total_time_seconds: z.number(),
  average_progress: z.number().nullable(),
  average_time_seconds: z.number().nullable().describe('Total time spent divided by unique users'),
  assessments_completed: z.number().int(),
  average_score: z.number().nullable(),
  first_event_at: z.string().nullable(),
  last_event_at: z.string().nullable(),
});

export const reportBody = z.strictObject({
  type: z.enum(REPORT_TYPES),
  filters: z
    .strictObject({
      from: isoDate.optional(),
      to: isoDate.optional(),
      course_id: externalId.optional(),
      user_id: externalId.optional(),
    })
    .default({}),
  format: z.enum(['json', 'csv']).default('json'),
});

export type ReportRequest = z.infer<typeof reportBody>;
