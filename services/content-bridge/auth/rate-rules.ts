import type { RateLimitRule } from '../../kit/http/rate-limit.ts';

/** Limits for the endpoints attackers like: per account+IP and per IP, so one cannot hide behind the other. */
export const RATE_RULES = {
  loginPerAccount: { name: 'login-account', limit: 10, windowSeconds: 300 },
  loginPerIp: { name: 'login-ip', limit: 100, windowSeconds: 300 },
  register: { name: 'register-ip', limit: 20, windowSeconds: 3600 },
  passwordReset: { name: 'reset-ip', limit: 10, windowSeconds: 3600 },
  upload: { name: 'upload-user', limit: 60, windowSeconds: 60 },
} satisfies Record<string, RateLimitRule>;
