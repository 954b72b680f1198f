/**
 * Probes: `/livez` (and its alias `/healthz`) checks only the process; `/readyz` checks every
 * dependency with a short timeout and answers 503 naming the ones that failed.
 */
import type { Context } from 'koa';

export type ReadinessCheck = (timeoutMs: number) => Promise<void>;

export interface Health {
  readonly shuttingDown: boolean;
  markShuttingDown(): void;
  /** Runs every check: 'ok' or the failure's message, by dependency. */
  check(): Promise<Record<string, string>>;
  livez(ctx: Context): void;
  readyz(ctx: Context): Promise<void>;
}

export function createHealth(checks: Record<string, ReadinessCheck>, timeoutMs = 1000): Health {
  let shuttingDown = false;
  const check = async () => {
    const names = Object.keys(checks);
    const results = await Promise.allSettled(names.map((name) => checks[name]!(timeoutMs)));
    return Object.fromEntries(
      results.map((result, i) => [names[i]!, result.status === 'fulfilled' ? 'ok' : ((result.reason as Error)?.message ?? 'failed')]),
    );
  };
  return {
    check,
    get shuttingDown() {
      return shuttingDown;
    },
    markShuttingDown() {
      shuttingDown = true;
    },
    livez(ctx) {
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { status: 'ok' };
    },
    async readyz(ctx) {
      ctx.set('Cache-Control', 'no-store');
      if (shuttingDown) {
        ctx.status = 503;
        ctx.body = { status: 'shutting-down', checks: {} };
        return;
      }
      const report = await check();
      const failed = Object.keys(report).filter((name) => report[name] !== 'ok');
      ctx.status = failed.length ? 503 : 200;
      ctx.body = { status: failed.length ? `unavailable: ${failed.join(', ')}` : 'ok', checks: report };
    },
  };
}
