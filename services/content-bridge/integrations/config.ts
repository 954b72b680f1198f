/** Settings for the other modules: their URLs, their service tokens, and SSO. */
import { z } from 'zod';

export const MODULES = ['curriculum', 'user-management', 'analytics', 'assessment', 'social'] as const;
export type ModuleName = (typeof MODULES)[number];

const optionalUrl = z.url().optional();

/**
 * `HMA_SERVICE_TOKENS` is `module=token,module=token`; tokens may also be files in
 * `HMA_SERVICE_TOKENS_DIR` (a mounted Secret: one file per module, named after it).
 */
const serviceTokens = z
  .string()
  .optional()
  .transform((value, ctx) => {
    const tokens: Partial<Record<ModuleName, string>> = {};
    for (const pair of (value ?? '').split(',').filter(Boolean)) {
      const [name, token] = pair.split('=').map((s) => s.trim());
      if (!MODULES.includes(name as ModuleName) || !token || token.length < 16) {
        ctx.addIssue({ code: 'custom', message: `entries must be module=token (token ≥ 16 chars, module one of ${MODULES.join(', ')})` });
        return z.NEVER;
      }
      tokens[name as ModuleName] = token;
    }
    return tokens;
  });

export const integrationEnv = {
  HMA_CURRICULUM_API_URL: optionalUrl,
  HMA_USER_MGMT_API_URL: optionalUrl,
  HMA_ANALYTICS_API_URL: optionalUrl,
  HMA_ASSESSMENT_API_URL: optionalUrl,
  HMA_SOCIAL_API_URL: optionalUrl,
  HMA_INTEGRATION_HEALTH_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5000),
  HMA_SERVICE_TOKENS: serviceTokens,
  HMA_SERVICE_TOKENS_DIR: z.string().optional(),
  // One variable per module, as the operator wires them from its generated Secret.
  SERVICE_TOKEN_CURRICULUM: z.string().min(16).optional(),
  SERVICE_TOKEN_USER_MANAGEMENT: z.string().min(16).optional(),
  SERVICE_TOKEN_ANALYTICS: z.string().min(16).optional(),
  SERVICE_TOKEN_ASSESSMENT: z.string().min(16).optional(),
  SERVICE_TOKEN_SOCIAL: z.string().min(16).optional(),
  HMA_WEBHOOK_REPLAY_WINDOW_SECONDS: z.coerce.number().int().min(1).default(300),
  HMA_JWT_SECRET_SHARED: z.string().min(32, 'must be at least 32 bytes').optional(),
  HMA_SSO_JWKS_URL: optionalUrl,
  HMA_SSO_ISSUER: z.string().default('huntmaster-user-management'),
  HMA_SSO_AUDIENCE: z.string().default('huntmaster-platform'),
};
