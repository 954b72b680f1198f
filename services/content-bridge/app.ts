/**
 * Assembles the Content Bridge from its dependencies. `main.ts` calls this with real config; tests
 * call it with the harness's servers, so they exercise exactly the production wiring.
 */
import { authenticate } from '../kit/auth/authenticate.ts';
import { hashPassword } from '../kit/auth/passwords.ts';
import { cachedVerifier, tokenSettingsFromConfig } from '../kit/auth/tokens.ts';
import type { Deps } from '../kit/deps/index.ts';
import { createServiceApp, type ServiceApp } from '../kit/http/app.ts';
import { mountObjectUrls } from '../kit/http/object-urls.ts';
import { createRateLimiter } from '../kit/http/rate-limit.ts';
import type { RouteSpec } from '../kit/http/routes.ts';
import type { Logger } from '../kit/observability/logger.ts';
import { logMailer, type Mailer } from './auth/mailer.ts';
import { RATE_RULES } from './auth/rate-rules.ts';
import { refreshTokens } from './auth/refresh-tokens.ts';
import { revocationList } from '../kit/auth/revocation.ts';
import { authRoutes } from './auth/routes.ts';
import type { ContentBridgeConfig } from './config.ts';
import type { AppContext } from './context.ts';
import { simulationRoutes } from '../kit/http/simulation.ts';
import { usersRepository } from './users/repository.ts';
import { userRoutes } from './users/routes.ts';
import { createForwarder, type Forwarder } from './analytics/forwarder.ts';
import { createAnalyticsMetrics } from './analytics/metrics.ts';
import { analyticsRoutes, type AnalyticsRuntime } from './analytics/routes.ts';
import { createEventWriter } from './analytics/writer.ts';
import { contentRoutes } from './content/routes.ts';
import { courseRoutes } from './courses/routes.ts';
import { progressRoutes } from './progress/routes.ts';
import { assessmentRoutes } from './assessments/routes.ts';
import { socialRoutes } from './social/routes.ts';
import { integrationRoutes } from './integrations/routes.ts';

export const SERVICE_NAME = 'content-bridge';

function scaleRules<T extends Record<string, { limit: number }>>(rules: T, scale: number): T {
  return Object.fromEntries(Object.entries(rules).map(([k, r]) => [k, { ...r, limit: Math.round(r.limit * scale) }])) as T;
}

export interface BuildOptions {
  config: ContentBridgeConfig;
  deps: Deps;
  logger: Logger;
  mailer?: Mailer;
  rateRules?: Partial<typeof RATE_RULES>;
}

export interface ContentBridge extends ServiceApp {
  context: AppContext;
  routes: RouteSpec[];
  analytics: AnalyticsRuntime;
}

/** The outbound learning-event stream, when HMA_ANALYTICS_API_URL is set and events are enabled. */
function analyticsForwarder(context: AppContext): Forwarder | undefined {
  const { config } = context;
  if (!config.HMA_ANALYTICS_API_URL || !config.HMA_ANALYTICS_EVENTS_ENABLED) return undefined;
  return createForwarder(context.deps.db, context.logger, {
    url: config.HMA_ANALYTICS_API_URL,
    batchSize: config.HMA_ANALYTICS_BATCH_SIZE,
    flushIntervalMs: config.HMA_ANALYTICS_FLUSH_INTERVAL * 1000,
    requestTimeoutMs: config.HMA_ANALYTICS_REQUEST_TIMEOUT * 1000,
    maxBackoffMs: config.HMA_ANALYTICS_MAX_BACKOFF * 1000,
    serviceToken: config.HMA_ANALYTICS_SERVICE_TOKEN,
  });
}

/** The analytics event writer and forwarder, registered as background tasks of `context`. */
function analyticsRuntime(context: AppContext): AnalyticsRuntime {
  const metrics = createAnalyticsMetrics();
  const writer = createEventWriter(context.deps.db, context.logger, { onCommit: metrics.observeCommit });
  context.background.push({ name: 'analytics-writer', start: () => undefined, stop: () => writer.stop() });
  const forwarder = analyticsForwarder(context);
  // Stopped before the writer (background tasks stop in reverse order), both before the pools close.
  if (forwarder) context.background.push(forwarder);
  return { writer, forwarder, metrics };
}

export function buildContentBridge(opts: BuildOptions): ContentBridge {
  const { config, deps, logger } = opts;
  const tokens = tokenSettingsFromConfig(config);
  const context: AppContext = {
    config,
    deps,
    logger,
    tokens,
    verifyToken: cachedVerifier(tokens),
    users: usersRepository(deps.db),
    refreshTokens: refreshTokens(deps.db, config.REFRESH_TOKEN_TTL_SECONDS),
    revocation: revocationList(deps.cache, logger),
    rateLimit: createRateLimiter(deps.cache, logger),
    rateRules: scaleRules({ ...RATE_RULES, ...opts.rateRules }, config.RATE_LIMIT_SCALE),
    mailer: opts.mailer ?? logMailer(logger),
    background: [],
  };
  const analytics = analyticsRuntime(context);
  const routes = [
    ...authRoutes(context),
    ...userRoutes(context),
    ...analyticsRoutes(context, analytics),
    ...contentRoutes(context),
    ...courseRoutes(context),
    ...progressRoutes(context),
    ...assessmentRoutes(context),
    ...socialRoutes(context),
    ...integrationRoutes(context),
    ...(config.ENABLE_ERROR_SIMULATION ? simulationRoutes() : []),
  ];
  const service = createServiceApp({
    name: SERVICE_NAME,
    version: config.SERVICE_VERSION,
    description: 'Hunt Master Academy Content Bridge: auth, users, content, courses and progress',
    logger,
    routes,
    maxJsonBodyBytes: config.MAX_JSON_BODY_BYTES,
    authenticate: authenticate(context.tokens, (jti) => context.revocation.isRevoked(jti), {
      skip: (ctx) => ctx.path.startsWith('/api/webhooks/'),
      verify: context.verifyToken,
    }),
    readiness: {
      postgres: (t) => deps.db.ping(t),
      redis: (t) => deps.cache.ping(t),
      'object-store': (t) => deps.store.ping(t),
    },
  });
  analytics.metrics.register(service.metrics.registry, analytics.writer, analytics.forwarder);
  // The filesystem store's presigned URLs point here (a no-op with S3).
  mountObjectUrls(service.app, deps.store, { maxBytes: config.UPLOAD_MAX_BYTES });
  return { ...service, context, routes, analytics };
}

/** Creates the first admin from ADMIN_EMAIL/ADMIN_PASSWORD when no admin exists yet. */
export async function ensureFirstAdmin(context: AppContext): Promise<'created' | 'exists' | 'not-configured'> {
  const { config, users, logger } = context;
  if (await users.anyAdmin()) return 'exists';
  if (!config.ADMIN_EMAIL || !config.ADMIN_PASSWORD) {
    logger.warn('no admin account exists and ADMIN_EMAIL/ADMIN_PASSWORD are not set');
    return 'not-configured';
  }
  await users.create({
    username: config.ADMIN_USERNAME,
    email: config.ADMIN_EMAIL,
    passwordHash: await hashPassword(config.ADMIN_PASSWORD),
    profile: {},
    roles: ['admin', 'instructor'],
  });
  logger.info({ username: config.ADMIN_USERNAME }, 'created the first admin account');
  return 'created';
}
