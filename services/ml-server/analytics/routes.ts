/** `GET /admin/analytics` over HTTP; what it reports and how is described in service.ts. */
import { z } from 'zod';
import { route, type RouteSpec } from '../../kit/http/routes.ts';
import type { MlContext } from '../context.ts';
import { analyticsService } from './service.ts';

export function analyticsRoutes(app: MlContext): RouteSpec[] {
  const analytics = analyticsService(app);
  return [
    route({
      method: 'get',
      path: '/admin/analytics',
      summary: 'Per model version: prediction counts, latency percentiles, cache hit ratio, errors and input drift',
      tags: ['analytics'],
      access: ['admin'],
      query: z.object({ since: z.iso.datetime({ offset: true }).optional(), model: z.string().min(1).max(200).optional() }),
      async handler({ ctx, query }) {
        const report = await analytics.report(query);
        ctx.set('Cache-Control', 'no-store');
        ctx.body = report;
      },
    }),
  ];
}
