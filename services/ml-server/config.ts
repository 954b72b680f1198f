/** The ML Server's configuration: the kit's common variables plus its own. */
import { hostname } from 'node:os';
import { z } from 'zod';
import { commonEnv, parseEnv } from '../kit/config.ts';
import { envBoolean } from '../kit/config-helpers.ts';

const MiB = 1024 * 1024;

const optionalPgUrl = z
  .string()
  .refine((value) => {
    try {
      return ['postgres:', 'postgresql:'].includes(new URL(value).protocol);
    } catch {
      return false;
    }
  }, 'must be a URL starting with postgres:// or postgresql://')
  .optional();

export const mlServerEnv = {
  ...commonEnv,
  PORT: commonEnv.PORT.default(8010),
  /** Where `POST /auth/login` is forwarded. */
  CONTENT_BRIDGE_URL: z.url().default('http://localhost:8090'),
  LOGIN_FORWARD_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5000),
  /**
   * Prefix of every Redis key. It must equal the Content Bridge's (`hma:` in production) so that
   * revoked access tokens (`revoked:<jti>`) are seen by both services.
   */
  REDIS_KEY_PREFIX: z.string().max(64).default('hma:'),
  /** Upper bound of the memory held by loaded models (sum of their `approxBytes`). */
  MODEL_CACHE_BYTES: z.coerce
    .number()
    .int()
    .min(1)
    .default(512 * MiB),
  MODEL_ARTIFACT_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1)
    .default(100 * MiB),
  /** How long a failed model load (artifact missing or corrupt) is remembered before it is retried. */
  MODEL_LOAD_RETRY_MS: z.coerce.number().int().min(0).default(5000),
  /** How long resolved model metadata (versions, aliases) is reused before it is read again from PostgreSQL. */
  MODEL_METADATA_TTL_MS: z.coerce.number().int().min(0).max(300_000).default(2000),
  /** Publish registry changes on Redis so other replicas drop their metadata at once (the TTL bounds staleness anyway). */
  REGISTRY_PUBSUB: envBoolean(true),
  PREDICTION_CACHE_TTL_SECONDS: z.coerce.number().int().min(0).default(300),
  PREDICTION_LOG_SAMPLE_RATE: z.coerce.number().min(0).max(1).default(0.1),
  PREDICTION_LOG_FLUSH_MS: z.coerce.number().int().min(10).default(1000),
  PREDICTION_LOG_BUFFER_SIZE: z.coerce.number().int().min(1).default(10_000),
  PREDICTION_LOG_BATCH_SIZE: z.coerce.number().int().min(1).max(5000).default(500),
  /** Rows of a logged batch kept in `ml.predictions` (inputs and outputs), for drift; the rest is only counted. */
  PREDICTION_LOG_MAX_ROWS: z.coerce.number().int().min(1).max(1000).default(50),
  /** Standardised mean shift above which a feature is reported as drifted. */
  DRIFT_THRESHOLD: z.coerce.number().min(0).default(0.5),
  /** Training reads (content.*) use this URL when set: a role with SELECT only. Falls back to DATABASE_URL. */
  ML_READONLY_DATABASE_URL: optionalPgUrl,
  /** Identifies this replica on the training jobs it runs. */
  ML_INSTANCE_ID: z.string().min(1).max(255).default(hostname()),
  /** A running job whose heartbeat is older than this belongs to a dead replica and is marked failed. */
  TRAINING_JOB_STALE_SECONDS: z.coerce.number().int().min(5).default(120),
  TRAINING_HEARTBEAT_MS: z.coerce.number().int().min(100).default(10_000),
  COMPLETION_RISK_MODEL: z.string().min(1).default('completion-risk'),
  RECOMMENDATION_MODEL: z.string().min(1).default('content-recommendation'),
  ENABLE_ERROR_SIMULATION: envBoolean(false),
};

export type MlServerConfig = ReturnType<typeof loadMlServerConfig>;

export function loadMlServerConfig(env: NodeJS.ProcessEnv = process.env) {
  return parseEnv(mlServerEnv, env);
}
