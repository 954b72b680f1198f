/**
 * Analytics flows: storing prepared events through the group-commit writer (a conflicting id is a
 * 409 for the whole request), the per-user summaries (the user themself, instructors, admins) over
 * a bounded range, per-content figures, and reports with normalised filters.
 */
import { problem } from '../../kit/http/problem.ts';
import type { Principal } from '../../kit/http/routes.ts';
import type { AppContext } from '../context.ts';
import { isPrivileged, normaliseId, type PreparedEvent } from './model.ts';
import { buildReport, contentAnalytics, userAnalytics } from './queries.ts';
import { DEFAULT_RANGE_DAYS, MAX_RANGE_DAYS, type ReportRequest } from './report-model.ts';
import type { EventWriter } from './writer.ts';

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

export function analyticsService(app: AppContext, writer: EventWriter) {
  const mayRead = (principal: Principal, userId: string) => principal.userId === userId || isPrivileged(principal);

  return {
    /** Stores the events once committed and returns every id of the request, in order. */
    async store(prepared: { events: PreparedEvent[]; ids: string[] }): Promise<string[]> {
      const outcome = await writer.submit(prepared.events, prepared.ids);
      if (outcome.status === 'conflict') {
        throw problem.conflict(
          `${outcome.conflicting.length} id(s) were already stored with a different body; nothing from this request was stored`,
          { conflicting_ids: outcome.conflicting },
        );
      }
      return outcome.accepted;
    },

    async userSummaries(
      principal: Principal,
      rawUserId: string,
      query: { from?: string | undefined; to?: string | undefined; course_id?: string | undefined },
    ) {
      const userId = normaliseId(rawUserId);
      if (!mayRead(principal, userId)) throw problem.forbidden("Only instructors and admins may read another user's analytics");
      const range = resolveRange(query.from, query.to);
      return userAnalytics(app.deps.db, userId, range, query.course_id ? normaliseId(query.course_id) : undefined);
    },

    content: (contentId: string) => contentAnalytics(app.deps.db, normaliseId(contentId)),

    /** The report with its filters normalised; 422 when `from` is after `to`. */
    async report(request: ReportRequest) {
      const filters = {
        ...request.filters,
        ...(request.filters.course_id ? { course_id: normaliseId(request.filters.course_id) } : {}),
        ...(request.filters.user_id ? { user_id: normaliseId(request.filters.user_id) } : {}),
      };
      if (filters.from && filters.to && filters.from > filters.to) {
        throw problem.unprocessable('The range is empty', [{ location: 'body.filters.from', message: 'must not be after `to`' }]);
      }
      return { filters, generatedAt: new Date().toISOString(), ...(await buildReport(app.deps.db, request.type, filters)) };
    },
  };
}
