import type { RouteSpec } from '../../kit/http/routes.ts';
import type { AppContext } from '../context.ts';
import { integrationHealthRoutes } from './health.ts';
import { ssoRoutes } from './sso.ts';
import { webhookRoutes } from './webhooks.ts';

/** Everything the other modules call: webhooks, SSO and the integration health check. */
export function integrationRoutes(app: AppContext): RouteSpec[] {
  return [...webhookRoutes(app), ...ssoRoutes(app), ...integrationHealthRoutes(app)];
}
