/** `GET /api/integrations/health`: is each configured module reachable, and how fast. */
import { z } from 'zod';
import { route, type RouteSpec } from '../../kit/http/routes.ts';
import type { AppContext } from '../context.ts';

const moduleHealth = z.object({
  status: z.enum(['healthy', 'timeout', 'error']),
  response_time_ms: z.number(),
  url: z.string(),
  error: z.string().optional(),
});

export async function checkModule(url: string, timeoutMs: number): Promise<z.infer<typeof moduleHealth>> {
  const target = new URL('health', url.endsWith('/') ? url : `${url}/`).toString();
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const res = await fetch(target, { signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return res.ok
      ? { status: 'healthy', response_time_ms: elapsed(), url: target }
      : { status: 'error', response_time_ms: elapsed(), url: target, error: `HTTP ${res.status}` };
  } catch (err) {
    const timedOut = (err as Error).name === 'TimeoutError';
    return {
      status: timedOut ? 'timeout' : 'error',
      response_time_ms: elapsed(),
      url: target,
      error: timedOut ? undefined : (err as Error).message,
    };
  }
}

export function integrationHealthRoutes(app: AppContext): RouteSpec[] {
  const c = app.config;
  const modules: Record<string, string | undefined> = {
    curriculum: c.HMA_CURRICULUM_API_URL,
    user_management: c.HMA_USER_MGMT_API_URL,
    analytics: c.HMA_ANALYTICS_API_URL,
    assessment: c.HMA_ASSESSMENT_API_URL,
    social: c.HMA_SOCIAL_API_URL,
  };
  return [
    route({
      method: 'get',
      path: '/api/integrations/health',
      summary: "Each configured module's health (GET <url>/health), checked in parallel with a timeout",
      tags: ['integrations'],
      access: ['admin'],
      responses: { 200: { description: 'Per-module status', schema: z.record(z.string(), moduleHealth) } },
      async handler({ ctx }) {
        const configured = Object.entries(modules).filter((entry): entry is [string, string] => Boolean(entry[1]));
        const results = await Promise.all(configured.map(([, url]) => checkModule(url, c.HMA_INTEGRATION_HEALTH_TIMEOUT_MS)));
        ctx.body = Object.fromEntries(configured.map(([name], i) => [name, results[i]]));
      },
    }),
  ];
}
