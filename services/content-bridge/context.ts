/** Everything a route module needs, built once per process and passed down explicitly. */
import type { Deps } from '../kit/deps/index.ts';
import type { BackgroundTask } from '../kit/lifecycle.ts';
import type { AccessClaims, TokenSettings } from '../kit/auth/tokens.ts';
import type { RateLimiter } from '../kit/http/rate-limit.ts';
import type { RATE_RULES } from './auth/rate-rules.ts';
import type { Logger } from '../kit/observability/logger.ts';
import type { ContentBridgeConfig } from './config.ts';
import type { Mailer } from './auth/mailer.ts';
import type { RefreshTokens } from './auth/refresh-tokens.ts';
import type { revocationList } from '../kit/auth/revocation.ts';
import type { UsersRepository } from './users/repository.ts';

export interface AppContext {
  config: ContentBridgeConfig;
  deps: Deps;
  logger: Logger;
  tokens: TokenSettings;
  /** Verifies access tokens with one cache for the whole service (middleware and /auth/token). */
  verifyToken: (token: string) => AccessClaims;
  users: UsersRepository;
  refreshTokens: RefreshTokens;
  revocation: ReturnType<typeof revocationList>;
  rateLimit: RateLimiter;
  rateRules: typeof RATE_RULES;
  mailer: Mailer;
  background: BackgroundTask[];
}
