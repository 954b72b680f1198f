/**
 * Assembles the ML Server from its dependencies. `main.ts` calls this with real config; tests call it
 * with the harness's servers, so they exercise exactly the production wiring.
 */
import { authenticate } from '../kit/auth/authenticate.ts';
import { tokenSettingsFromConfig, type TokenSettings } from '../kit/auth/tokens.ts';
import { createPgDatabase, type Database } from '../kit/deps/database.ts';
import { createDeps, type Deps } from '../kit/deps/index.ts';
import { createServiceApp, type ServiceApp } from '../kit/http/app.ts';
import type { RouteSpec } from '../kit/http/routes.ts';
import type { Logger } from '../kit/observability/logger.ts';
import { analyticsRoutes } from './analytics/routes.ts';
import { revocationList } from '../kit/auth/revocation.ts';
import { authRoutes } from './auth/routes.ts';
import type { MlServerConfig } from './config.ts';
import type { MlContext } from './context.ts';
import type { LoadedModel } from './inference/index.ts';
import { insightsRoutes } from './insights/routes.ts';
import { oipErrors } from './oip/errors.ts';
import { oipRoutes } from './oip/routes.ts';
import { registryRepository } from './registry/repository.ts';
import { registryRoutes } from './registry/routes.ts';
import { ModelDirectory } from './serving/directory.ts';
import { createMlMetrics } from './serving/metrics.ts';
import { ModelCache } from './serving/model-cache.ts';
import { PredictionLog } from './serving/prediction-log.ts';
import { Predictor } from './serving/predictor.ts';
import { localRegistryEvents, cacheRegistryEvents, type RegistryEvents } from './serving/registry-events.ts';
import { predictRoutes } from './serving/routes.ts';
import { simulationRoutes } from '../kit/http/simulation.ts';
import { TrainingJobs } from './training/jobs.ts';
import { trainingRoutes } from './training/routes.ts';

export const SERVICE_NAME = 'ml-server';

/**
 * The three dependencies from the kit's createDeps (real servers, or the embedded drivers with
 * HMA_EMBEDDED), with Redis keys under REDIS_KEY_PREFIX (it must equal the Content Bridge's so
 * revocations are shared), plus the read-only pool.
 */
export function createMlDeps(config: MlServerConfig): { deps: Deps; readDb: Database } {
  const created = createDeps(config, SERVICE_NAME, { cacheKeyPrefix: config.REDIS_KEY_PREFIX });
  const deps: Deps = { db: created.db, cache: created.cache, store: created.store };
  const readDb = config.ML_READONLY_DATABASE_URL
    ? createPgDatabase(config.ML_READONLY_DATABASE_URL, {
        poolSize: Math.min(5, config.DATABASE_POOL_SIZE),
        applicationName: `${SERVICE_NAME}-reader`,
      })
    : deps.db;
  return { deps, readDb };
}

/**
 * The kit's token settings, verify-only: the ML Server never issues tokens, so it holds no signing
 * key (with HS256 the kit would hand back the shared secret as one).
 */
export function verifyOnlyTokenSettings(config: MlServerConfig): TokenSettings {
  return { ...tokenSettingsFromConfig({ ...config, JWT_PRIVATE_KEY_FILE: undefined }), signingKey: undefined };
}

export interface BuildOptions {
  config: MlServerConfig;
  deps: Deps;
  logger: Logger;
  /** Pool for reads of the Content Bridge's tables; defaults to deps.db. */
  readDb?: Database;
  /** Registry change notifications; defaults to Redis pub/sub (REGISTRY_PUBSUB) or in-process only. */
  events?: RegistryEvents;
}

export interface MlServer extends ServiceApp {
  context: MlContext;
  routes: RouteSpec[];
}

export function buildMlServer(opts: BuildOptions): MlServer {
  const { config, deps, logger } = opts;
  const metrics = createMlMetrics();
  const registry = registryRepository(deps.db);
  const directory = new ModelDirectory(registry, config.MODEL_METADATA_TTL_MS);
  const models = new ModelCache<LoadedModel>({
    maxBytes: config.MODEL_CACHE_BYTES,
    retryAfterMs: config.MODEL_LOAD_RETRY_MS,
    onChange: ({ bytes, entries }) => {
      metrics.cacheBytes.set(bytes);
      metrics.cacheModels.set(entries);
    },
  });
  const predictionLog = new PredictionLog({
    db: deps.db,
    logger,
    sampleRate: config.PREDICTION_LOG_SAMPLE_RATE,
    flushMs: config.PREDICTION_LOG_FLUSH_MS,
    bufferSize: config.PREDICTION_LOG_BUFFER_SIZE,
    batchSize: config.PREDICTION_LOG_BATCH_SIZE,
    maxRows: config.PREDICTION_LOG_MAX_ROWS,
    onDrop: (n) => metrics.logDropped.inc(n),
  });
  const events =
    opts.events ?? (config.REGISTRY_PUBSUB && config.REDIS_URL ? cacheRegistryEvents(deps.cache, logger) : localRegistryEvents());
  events.subscribe((name) => directory.invalidate(name));
  const registryChanged = (name: string) => {
    directory.invalidate(name);
    events.publish(name);
  };
  const predictor = new Predictor({
    directory,
    models,
    store: deps.store,
    cache: deps.cache,
    log: predictionLog,
    metrics,
    logger,
    cacheTtlSeconds: config.PREDICTION_CACHE_TTL_SECONDS,
    maxArtifactBytes: config.MODEL_ARTIFACT_MAX_BYTES,
  });
  const readDb = opts.readDb ?? deps.db;
  const jobs = new TrainingJobs({
    db: deps.db,
    readDb,
    store: deps.store,
    logger,
    instanceId: config.ML_INSTANCE_ID,
    staleSeconds: config.TRAINING_JOB_STALE_SECONDS,
    heartbeatMs: config.TRAINING_HEARTBEAT_MS,
    onVersion: registryChanged,
    onFinished: (status) => metrics.trainingJobs.inc({ status }),
  });
  const context: MlContext = {
    config,
    deps,
    readDb,
    logger,
    tokens: verifyOnlyTokenSettings(config),
    // The Content Bridge writes revocations at logout; this service only reads them.
    isRevoked: revocationList(deps.cache, logger).isRevoked,
    registry,
    directory,
    models,
    predictor,
    predictionLog,
    events,
    jobs,
    metrics,
    background: [
      { name: 'prediction-log', start: () => predictionLog.start(), stop: () => predictionLog.stop() },
      { name: 'training-jobs', start: () => undefined, stop: () => jobs.stop() },
    ],
    registryChanged,
  };
  const holder: { service?: ServiceApp } = {};
  const routes = [
    ...authRoutes(context),
    ...registryRoutes(context),
    ...predictRoutes(context),
    ...oipRoutes(context, () => holder.service?.health.shuttingDown ?? false),
    ...trainingRoutes(context),
    ...insightsRoutes(context),
    ...analyticsRoutes(context),
    ...(config.ENABLE_ERROR_SIMULATION ? simulationRoutes() : []),
  ];
  const service = createServiceApp({
    name: SERVICE_NAME,
    version: config.SERVICE_VERSION,
    description:
      'Hunt Master Academy ML Server: model registry, CPU inference (incl. the Open Inference Protocol), training and learner insights',
    logger,
    routes,
    maxJsonBodyBytes: config.MAX_JSON_BODY_BYTES,
    authenticate: authenticate(context.tokens, context.isRevoked),
    // /v2 errors, a bad token included, are {"error": ...}.
    renderError: oipErrors(logger),
    readiness: {
      postgres: (t) => deps.db.ping(t),
      redis: (t) => deps.cache.ping(t),
      'object-store': (t) => deps.store.ping(t),
    },
  });
  holder.service = service;
  metrics.register(service.metrics.registry);
  return { ...service, context, routes };
}

/** Before listening: the bucket exists, and jobs interrupted by a restart are marked failed. */
export async function prepareMlServer(context: MlContext): Promise<void> {
  await context.deps.store.ensureBucket();
  await context.jobs.recoverInterrupted();
}
