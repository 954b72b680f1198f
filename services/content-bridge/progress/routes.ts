/** Learning progress over HTTP; the rules (never backwards, prerequisites before completion) are in service.ts. */
import { z } from 'zod';
import { route, type RouteSpec } from '../../kit/http/routes.ts';
import type { AppContext } from '../context.ts';
import { progressBody, progressSchema, userProgressSchema } from './model.ts';
import { progressService } from './service.ts';

export function progressRoutes(app: AppContext): RouteSpec[] {
  const progress = progressService(app);

  return [
    route({
      method: 'put',
      path: '/api/progress/{content_id}',
      summary: "Record the caller's own progress on a content item (never decreases; 409 when completing before the prerequisites)",
      tags: ['progress'],
      access: 'authenticated',
      params: z.strictObject({ content_id: z.uuid() }),
      body: progressBody,
      responses: { 200: { description: 'The recorded progress', schema: progressSchema } },
      async handler({ ctx, params, body, principal }) {
        ctx.body = await progress.record(principal!.userId, params.content_id, body);
      },
    }),
    route({
      method: 'get',
      path: '/api/users/{user_id}/progress',
      summary: "A user's progress: every item, and a roll-up per course (the user themself, an instructor or an admin)",
      tags: ['progress'],
      access: 'authenticated',
      params: z.strictObject({ user_id: z.uuid() }),
      responses: { 200: { description: 'The progress', schema: userProgressSchema } },
      async handler({ ctx, params, principal }) {
        ctx.body = await progress.ofUser(principal!, params.user_id);
      },
    }),
  ];
}
