/** The Content Bridge's configuration: the kit's common variables plus its own. */
import { z } from 'zod';
import { commonEnv, parseEnv } from '../kit/config.ts';
import { envBoolean } from '../kit/config-helpers.ts';
import { integrationEnv } from './integrations/config.ts';

export const contentBridgeEnv = {
  ...commonEnv,
  ...integrationEnv,
  PORT: commonEnv.PORT.default(8090),
  S3_PUBLIC_ENDPOINT: z.url().optional(),
  ADMIN_USERNAME: z.string().min(3).default('admin'),
  ADMIN_EMAIL: z.email().optional(),
  ADMIN_PASSWORD: z.string().min(12, 'must be at least 12 characters').optional(),
  REFRESH_TOKEN_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .default(30 * 24 * 3600),
  PASSWORD_RESET_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .default(30 * 60),
  UPLOAD_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1)
    .default(2 * 1024 ** 3),
  PRESIGN_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .max(7 * 24 * 3600)
    .default(15 * 60),
  CONTENT_CACHE_TTL_SECONDS: z.coerce.number().int().min(1).default(300),
  ENABLE_ERROR_SIMULATION: envBoolean(false),
  // Multiplies every rate limit; load tests raise it, nobody should lower it below 1.
  RATE_LIMIT_SCALE: z.coerce.number().min(1).default(1),
  PUBLIC_BASE_URL: z.url().default('http://localhost:8090'),
  // Learning analytics: the outbound stream runs when HMA_ANALYTICS_API_URL is set (and events are enabled).
  HMA_ANALYTICS_API_URL: z.url({ protocol: /^https?$/ }).optional(),
  HMA_ANALYTICS_EVENTS_ENABLED: envBoolean(true),
  HMA_ANALYTICS_BATCH_SIZE: z.coerce.number().int().min(1).max(1000).default(100),
  HMA_ANALYTICS_FLUSH_INTERVAL: z.coerce.number().positive().max(3600).default(10).describe('seconds, fractions allowed'),
  HMA_ANALYTICS_REQUEST_TIMEOUT: z.coerce.number().positive().max(300).default(10).describe('seconds'),
  HMA_ANALYTICS_MAX_BACKOFF: z.coerce.number().positive().max(3600).default(60).describe('seconds'),
  HMA_ANALYTICS_SERVICE_TOKEN: z.string().min(1).optional(),
};

export type ContentBridgeConfig = ReturnType<typeof loadContentBridgeConfig>;

export function loadContentBridgeConfig(env: NodeJS.ProcessEnv = process.env) {
  return parseEnv(contentBridgeEnv, env);
}
