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
  PUBLIC_BASE_URL: z.url().default('http://localhost:8090'),
};

export type ContentBridgeConfig = ReturnType<typeof loadContentBridgeConfig>;

export function loadContentBridgeConfig(env: NodeJS.ProcessEnv = process.env) {
  return parseEnv(contentBridgeEnv, env);
}
