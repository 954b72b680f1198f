/**
 * Learning analytics (issue 4 §1): durable event ingestion (JSON events and xAPI statements), the
 * per-user and per-content aggregates, reports, and the outbound stream to the analytics module.
 * Decisions and mapping tables: README.md next to this file.
 */
import { z } from 'zod';
import { readJson } from '../../kit/http/body.ts';
import { ProblemError } from '../../kit/http/problem.ts';
import { replyJson } from '../../kit/http/reply.ts';
import { route, type RouteSpec } from '../../kit/http/routes.ts';
import type { AppContext } from '../context.ts';
import { toCsv } from './csv.ts';
import type { Forwarder } from './forwarder.ts';
import { EVENTS_MAX_BODY_BYTES, MAX_EVENTS_PER_REQUEST, externalId, prepareEvents } from './model.ts';
import { REPORT_TYPES } from './queries.ts';
import type { AnalyticsMetrics } from './metrics.ts';
import { DEFAULT_RANGE_DAYS, acceptedSchema, contentAnalyticsSchema, isoDate, reportBody, userAnalyticsSchema } from './report-model.ts';
import { analyticsService } from './service.ts';
import type { EventWriter } from './writer.ts';
import { XAPI_VERSION, XAPI_VERSION_HEADER, isSupportedXapiVersion, prepareStatements } from './xapi.ts';

/** The analytics machinery of one app, built by app.ts: tests and the benchmark read its counters. */
export interface AnalyticsRuntime {
  writer: EventWriter;
  forwarder: Forwarder | undefined;
  metrics: AnalyticsMetrics;
}

function xapiProblem(status: number, detail: string): ProblemError {
  return new ProblemError({ status, detail, headers: { [XAPI_VERSION_HEADER]: XAPI_VERSION } });
}

export function analyticsRoutes(app: AppContext, { writer }: Pick<AnalyticsRuntime, 'writer'>): RouteSpec[] {
  const analytics = analyticsService(app, writer);

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
        replyJson(ctx, { accepted: await analytics.store(prepareEvents(body, principal!)) });
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
        ctx.body = await analytics.store(await prepareStatements(body, principal!, app.deps.db));
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
        ctx.body = await analytics.userSummaries(principal!, params.user_id, query);
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
        ctx.body = await analytics.content(params.content_id);
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
        const { filters, generatedAt, ...report } = await analytics.report(body);
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
