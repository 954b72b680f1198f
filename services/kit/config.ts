/**
 * Configuration from environment variables, validated once at startup. A bad value fails with one
 * line naming the variable; `exitOnConfigError` turns that into a non-zero exit.
 */
import { z } from 'zod';
import { envBoolean } from './config-helpers.ts';

export class ConfigError extends Error {}

const urlWithProtocols = (protocols: string[]) =>
  z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`,
  );

const optionalUrl = (protocols: string[]) => urlWithProtocols(protocols).optional();

/** Settings every service shares. */
export const commonEnv = {
  PORT: z.coerce.number().int().min(0).max(65535),
  HOST: z.string().default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Logs go to stdout in chunks of this many bytes (0: each line synchronously); errors and exit flush at once. */
  LOG_BUFFER_BYTES: z.coerce.number().int().min(0).max(65_536).default(16_384),
  SERVICE_VERSION: z.string().default(process.env.npm_package_version ?? '0.1.0'),
  DATABASE_URL: optionalUrl(['postgres:', 'postgresql:']),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  REDIS_URL: optionalUrl(['redis:', 'rediss:']),
  S3_ENDPOINT: optionalUrl(['http:', 'https:']),
  S3_ACCESS_KEY: z.string().min(1).optional(),
  S3_SECRET_KEY: z.string().min(1).optional(),
  S3_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name')
    .default('huntmaster-storage'),
  S3_REGION: z.string().default('us-east-1'),
  /**
   * Embedded fallbacks (docs/local.md): with HMA_EMBEDDED=true (what `npm start` sets), a missing
   * DATABASE_URL means PGlite, a missing REDIS_URL an in-process cache and a missing S3_ENDPOINT a
   * filesystem store, each under HMA_DATA_DIR. Off by default, so a production config that forgets a
   * URL still fails at startup instead of quietly keeping its data in a pod's filesystem.
   */
  HMA_EMBEDDED: envBoolean(false),
  HMA_DATA_DIR: z.string().min(1).default('.hma-data'),
  /** HMAC key of the filesystem store's presigned URLs; generated once into HMA_DATA_DIR when unset. */
  OBJECT_URL_SECRET: z.string().min(32, 'must be at least 32 bytes').optional(),
  JWT_SECRET: z.string().min(32, 'must be at least 32 bytes for HS256').optional(),
  JWT_PRIVATE_KEY_FILE: z.string().optional(),
  JWT_PUBLIC_KEY_FILE: z.string().optional(),
  JWT_ISSUER: z.string().default('huntmaster-content-bridge'),
  JWT_AUDIENCE: z.string().default('huntmaster-platform'),
  JWT_ACCESS_TTL_SECONDS: z.coerce.number().int().min(30).max(86_400).default(900),
  MAX_JSON_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(10_000),
};

export type EnvShape = Record<string, z.ZodType>;

/** Parses `env` against `shape`; throws ConfigError with one line per bad variable. */
export function parseEnv<S extends EnvShape>(shape: S, env: NodeJS.ProcessEnv = process.env): z.infer<z.ZodObject<S>> {
  // Empty strings mean "unset", as in most deployment tools.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = z.object(shape).safeParse(cleaned);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? '?');
      const detail = issue.code === 'invalid_type' && cleaned[name] === undefined ? 'is required' : issue.message;
      return `${name} ${detail}`;
    });
    throw new ConfigError(`invalid configuration: ${lines.join('; ')}`);
  }
  return result.data as z.infer<z.ZodObject<S>>;
}

/** For `main` modules: print the config error as one line and exit non-zero. */
export function exitOnConfigError(err: unknown): never {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(78); // EX_CONFIG
  }
  throw err;
}
