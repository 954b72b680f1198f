/**
 * Learner insights, recommendations (the learner themself, an instructor or an admin) and the
 * learning-events intake (instructors and admins: the other modules post with a service account
 * holding the instructor role; a student cannot feed their own features).
 */
import { z } from 'zod';
import { problem } from '../../kit/http/problem.ts';
import { route, type Principal, type RouteSpec } from '../../kit/http/routes.ts';
import type { MlContext } from '../context.ts';
import { MANAGERS } from '../auth/access.ts';
import { applyEvents, eventsBody, MAX_EVENTS } from './events.ts';
import { insightsFor, recommendationsFor } from './service.ts';

function requireSelfOrStaff(principal: Principal | undefined, userId: string): void {
  if (!principal) throw problem.unauthorized();
  if (principal.userId.toLowerCase() === userId) return;
  if (principal.roles.some((r) => r === 'instructor' || r === 'admin')) return;
  throw problem.forbidden("Only the learner, an instructor or an admin can see a learner's insights");
}

/** Learners are Content Bridge users: UUIDs, compared lower-case (as the learning events store them). */
const userParams = z.object({ user_id: z.uuid().transform((id) => id.toLowerCase()) });

export function insightsRoutes(app: MlContext): RouteSpec[] {
  const deps = () => ({ db: app.deps.db, readDb: app.readDb, predictor: app.predictor, config: app.config });
  return [
    route({
      method: 'get',
      path: '/api/ml/insights/{user_id}',
      summary: 'Completion risk per course, strong and weak topics, and pace of a learner',
      tags: ['insights'],
      access: 'authenticated',
      params: userParams,
      async handler({ ctx, params, principal }) {
        requireSelfOrStaff(principal, params.user_id);
        ctx.set('Cache-Control', 'private, no-store');
        ctx.body = await insightsFor(deps(), params.user_id);
      },
    }),
    route({
      method: 'get',
      path: '/api/ml/recommendations/{user_id}',
      summary: 'Next content items (not completed, prerequisites met), ranked by the recommendation model or by sequence',
      tags: ['insights'],
      access: 'authenticated',
      params: userParams,
      query: z.object({ limit: z.coerce.number().int().min(1).max(50).default(10) }),
      async handler({ ctx, params, query, principal }) {
        requireSelfOrStaff(principal, params.user_id);
        ctx.set('Cache-Control', 'private, no-store');
        ctx.body = await recommendationsFor(deps(), params.user_id, query.limit);
      },
    }),
    route({
      method: 'post',
      path: '/api/ml/events/batch',
      summary: `Fold up to ${MAX_EVENTS} learning events into the per-learner features (idempotent per event_id)`,
      tags: ['insights'],
      access: MANAGERS,
      body: eventsBody,
      responses: {
        200: {
          description: 'What was applied',
          schema: z.object({ accepted: z.number(), duplicates: z.number(), skipped: z.number(), features_updated: z.number() }),
        },
      },
      async handler({ ctx, body }) {
        ctx.body = await applyEvents(app.deps.db, Array.isArray(body) ? body : body.events);
      },
    }),
  ];
}
