/**
 * Service-to-service authentication for webhooks: a per-module token (X-Service-Token or
 * Authorization: Bearer) identifies the caller, and an HMAC-SHA256 signature over
 * `<timestamp>.<raw body>`, keyed with that token, proves the body was not altered. Requests older
 * than the replay window are refused.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from 'koa';
import { problem } from '../../kit/http/problem.ts';
import { MODULES, type ModuleName } from './config.ts';

export const SIGNATURE_HEADER = 'x-hma-signature';
export const TIMESTAMP_HEADER = 'x-hma-timestamp';

/** `SERVICE_TOKEN_USER_MANAGEMENT` for `user-management`. */
export const serviceTokenVariable = (module: ModuleName) => `SERVICE_TOKEN_${module.toUpperCase().replaceAll('-', '_')}`;

export function loadServiceTokens(
  inline: Partial<Record<ModuleName, string>> | undefined,
  dir: string | undefined,
  variables: Record<string, unknown> = {},
) {
  const tokens: Partial<Record<ModuleName, string>> = { ...inline };
  for (const module of MODULES) {
    const value = variables[serviceTokenVariable(module)];
    if (typeof value === 'string' && value) tokens[module] = value;
  }
  if (dir) {
    for (const module of MODULES) {
      const file = join(dir, module);
      if (existsSync(file)) tokens[module] = readFileSync(file, 'utf8').trim();
    }
  }
  return tokens;
}

/** What a module puts in the signature header for `body` sent at `timestamp` (unix seconds). */
export function signWebhook(token: string, timestamp: number, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', token).update(`${timestamp}.`).update(body).digest('hex')}`;
}

const safeEqual = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

export function identifyService(ctx: Context, tokens: Partial<Record<ModuleName, string>>): { module: ModuleName; token: string } {
  const presented = ctx.get('x-service-token') || /^Bearer\s+(\S+)$/i.exec(ctx.get('authorization'))?.[1];
  if (!presented) throw problem.unauthorized('A service token is required');
  for (const [module, token] of Object.entries(tokens) as Array<[ModuleName, string]>) {
    if (token && safeEqual(presented, token)) return { module, token };
  }
  throw problem.unauthorized('Unknown service token');
}

export function verifySignature(ctx: Context, token: string, raw: Buffer, replayWindowSeconds: number, now = Date.now()): number {
  const timestamp = Number(ctx.get(TIMESTAMP_HEADER));
  if (!Number.isInteger(timestamp)) throw problem.unauthorized(`The ${TIMESTAMP_HEADER} header is missing or not unix seconds`);
  if (Math.abs(now / 1000 - timestamp) > replayWindowSeconds)
    throw problem.unauthorized('The request timestamp is outside the replay window');
  const signature = ctx.get(SIGNATURE_HEADER);
  if (!signature || !safeEqual(signature, signWebhook(token, timestamp, raw))) throw problem.unauthorized('The signature does not match');
  return timestamp;
}
