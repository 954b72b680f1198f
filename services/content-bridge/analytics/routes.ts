/**
 * Learning analytics (issue 4 §1): durable event ingestion (JSON events and xAPI statements), the
 * per-user and per-content aggregates, reports, and the outbound stream to the analytics module.
 * Decisions and mapping tables: README.md next to this file.
 */
import { z } from 'zod';
import { readJson } from '../../kit/http/body.ts';
import { ProblemError, problem } from '../../kit/http/problem.ts';
import { replyJson } from '../../kit/http/reply.ts';
import { route, type Principal, type RouteSpec } from '../../kit/http/routes.ts';
import type { AppContext } from '../context.ts';
import { toCsv } from './csv.ts';
import type { Forwarder } from './forwarder.ts';
import {
  EVENTS_MAX_BODY_BYTES,
  MAX_EVENTS_PER_REQUEST,
  externalId,
  isPrivileged,
  normaliseId,
  prepareEvents,
  type PreparedEvent,
} from './model.ts';
import { REPORT_TYPES, buildReport, contentAnalytics, userAnalytics } from './queries.ts';
import type { AnalyticsMetrics } from './metrics.ts';
import type { EventWriter } from './writer.ts';
import { XAPI_VERSION, XAPI_VERSION_HEADER, isSupportedXapiVersion, prepareStatements } from './xapi.ts';

/** The analytics machinery of one app, built by app.ts: tests and the benchmark read its counters. */
export interface AnalyticsRuntime {
  writer: EventWriter;
  forwarder: Forwarder | undefined;
  metrics: AnalyticsMetrics;
}

/** Longest range `GET /api/analytics/user/{id}` summarises at once, and the default when none is given. */
const MAX_RANGE_DAYS = 366;
const DEFAULT_RANGE_DAYS = 30;

const isoDate = z.iso.date();
const DAY_MS = 86_400_000;

function resolveRange(from: string | undefined, to: string | undefined): { from: string; to: string } {
  const toDate = to ?? new Date().toISOString().slice(0, 10);
  const fromDate = from ?? new Date(Date.parse(toDate) - (DEFAULT_RANGE_DAYS - 1) * DAY_MS).toISOString().slice(0, 10);
  const days = (Date.parse(toDate) - Date.parse(fromDate)) / DAY_MS + 1;
  if (days < 1) throw problem.unprocessable('The range is empty', [{ location: 'query.from', message: 'must not be after `to`' }]);
  if (days > MAX_RANGE_DAYS) {
    throw problem.unprocessable('The range is too long', [
      { location: 'query.from', message: `a range covers at most ${MAX_RANGE_DAYS} days` },
    ]);
  }
  return { from: fromDate, to: toDate };
}

const acceptedSchema = z.object({ accepted: z.array(z.string()).describe('Every event id of the request, in order, once committed') });

const daySchema = z.object({
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

const userAnalyticsSchema = z.object({
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

const contentAnalyticsSchema = z.object({
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

const reportBody = z.strictObject({
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

function xapiProblem(status: number, detail: string): ProblemError {
  return new ProblemError({ status, detail, headers: { [XAPI_VERSION_HEADER]: XAPI_VERSION } });
}

export function analyticsRoutes(app: AppContext, { writer }: Pick<AnalyticsRuntime, 'writer'>): RouteSpec[] {
  async function store(prepared: { events: PreparedEvent[]; ids: string[] }): Promise<string[]> {
    const outcome = await writer.submit(prepared.events, prepared.ids);
    if (outcome.status === 'conflict') {
      throw problem.conflict(
        `${outcome.conflicting.length} id(s) were already stored with a different body; nothing from this request was stored`,
        { conflicting_ids: outcome.conflicting },
      );
    }
    return outcome.accepted;
  }

  const mayRead = (principal: Principal, userId: string) => principal.userId === userId || isPrivileged(principal);

  return [
    route({
      method: 'post',
      path: '/api/analytics/events',
      summary: `Record one learning event or a batch of up to ${MAX_EVENTS_PER_REQUEST}; answers once they are committed`,
      tags: ['analytics'],
      access: 'authenticated',
      body: {
        stream: 'application/json',
        description:
          `One event or an array of 1-${MAX_EVENTS_PER_REQUEST}: {event_id?, event_type: content_view|progress_update|assessment_complete|login|logout, ` +
          'user_id, session_id?, timestamp (ISO 8601), context?: {course_id?, content_id?, device_type?: desktop|mobile|tablet, browser?, ip_address?}, ' +
          'data?: {progress_percentage?, time_spent_seconds?, score?, custom_fields?}}. All-or-nothing: any invalid item is a 422 with ' +
          '`body[i].field` locations. event_id is the idempotency key: a replay with the same body is accepted again without effect, ' +
          'the same id with another body is a 409 for the whole request. Students may only send events whose user_id is their own.',
      },
      responses: {
        200: { description: 'All events are durably stored', schema: acceptedSchema },
        409: { description: 'An event_id is already stored with a different body; nothing was stored' },
        422: { description: 'An item is invalid; nothing was stored' },
      },
      async handler({ ctx, principal }) {
        const body = await readJson(ctx, EVENTS_MAX_BODY_BYTES);
        replyJson(ctx, { accepted: await store(prepareEvents(body, principal!)) });
      },
    }),
    route({
      method: 'post',
      path: '/api/xapi/statements',
      summary: 'Record xAPI 1.0.x statements as learning events (same storage and idempotency as events)',
      tags: ['analytics', 'xapi'],
      access: 'authenticated',
      headers: [XAPI_VERSION_HEADER],
      body: {
        stream: 'application/json',
        description:
          `One statement or an array of 1-${MAX_EVENTS_PER_REQUEST}. Requires the ${XAPI_VERSION_HEADER} header (1.0.x). The statement id is ` +
          'the event id; actor.account.name is the platform user id, or actor.mbox a platform user email; verbs map to event types (see README).',
      },
      responses: {
        200: { description: 'The statement ids, in order', schema: z.array(z.string()) },
        400: { description: 'Missing or unsupported X-Experience-API-Version' },
        409: { description: 'A statement id is already stored with a different body; nothing was stored' },
      },
      async handler({ ctx, principal }) {
        ctx.set(XAPI_VERSION_HEADER, XAPI_VERSION);
        const version = ctx.get(XAPI_VERSION_HEADER);
        if (!isSupportedXapiVersion(version)) {
          throw xapiProblem(
            400,
            version
              ? `Unsupported ${XAPI_VERSION_HEADER} ${version}; this endpoint speaks 1.0.x`
              : `The ${XAPI_VERSION_HEADER} header is required`,
          );
        }
        const body = await readJson(ctx, EVENTS_MAX_BODY_BYTES);
        ctx.body = await store(await prepareStatements(body, principal!, app.deps.db));
      },
    }),
    route({
      method: 'get',
      path: '/api/analytics/user/{user_id}',
      summary: 'Per-day and per-course activity summaries of one user, with totals (the user themself, instructors, admins)',
      tags: ['analytics'],
      access: 'authenticated',
      params: z.strictObject({ user_id: externalId }),
      query: z.strictObject({
        from: isoDate.optional().describe(`First UTC day (default: ${DEFAULT_RANGE_DAYS - 1} days before \`to\`)`),
        to: isoDate.optional().describe('Last UTC day (default: today)'),
        course_id: externalId.optional(),
      }),
      responses: { 200: { description: 'The summaries', schema: userAnalyticsSchema } },
      async handler({ ctx, params, query, principal }) {
        const userId = normaliseId(params.user_id);
        if (!mayRead(principal!, userId)) throw problem.forbidden("Only instructors and admins may read another user's analytics");
        const range = resolveRange(query.from, query.to);
        ctx.body = await userAnalytics(app.deps.db, userId, range, query.course_id ? normaliseId(query.course_id) : undefined);
      },
    }),
    route({
      method: 'get',
      path: '/api/analytics/content/{content_id}',
      summary: 'Engagement with one content item, all time: views, unique users, average progress and time (instructors, admins)',
      tags: ['analytics'],
      access: ['instructor', 'admin'],
      params: z.strictObject({ content_id: externalId }),
      responses: { 200: { description: 'The figures (zeros when nothing was recorded)', schema: contentAnalyticsSchema } },
      async handler({ ctx, params }) {
        ctx.body = await contentAnalytics(app.deps.db, normaliseId(params.content_id));
      },
    }),
    route({
      method: 'post',
      path: '/api/analytics/reports',
      summary: 'A user_activity, content_engagement or course_summary report, as JSON or CSV (instructors, admins)',
      tags: ['analytics'],
      access: ['instructor', 'admin'],
      body: reportBody,
      responses: {
        200: {
          description: 'The report (text/csv when format is csv)',
          schema: z.object({
            type: z.enum(REPORT_TYPES),
            filters: z.record(z.string(), z.string()),
            generated_at: z.string(),
            columns: z.array(z.string()),
            rows: z.array(z.record(z.string(), z.unknown())),
            truncated: z.boolean(),
          }),
        },
      },
      async handler({ ctx, body }) {
        const filters = {
          ...body.filters,
          ...(body.filters.course_id ? { course_id: normaliseId(body.filters.course_id) } : {}),
          ...(body.filters.user_id ? { user_id: normaliseId(body.filters.user_id) } : {}),
        };
        if (filters.from && filters.to && filters.from > filters.to) {
          throw problem.unprocessable('The range is empty', [{ location: 'body.filters.from', message: 'must not be after `to`' }]);
        }
        const report = await buildReport(app.deps.db, body.type, filters);
        const generatedAt = new Date().toISOString();
        if (body.format === 'csv') {
          ctx.type = 'text/csv; charset=utf-8';
          ctx.set('Content-Disposition', `attachment; filename="${body.type}-${generatedAt.slice(0, 10)}.csv"`);
          if (report.truncated) ctx.set('X-Report-Truncated', 'true');
          ctx.body = toCsv(report.columns, report.rows);
          return;
        }
        ctx.body = { type: body.type, filters, generated_at: generatedAt, ...report };
      },
    }),
  ];
}
