/**
 * Probes: `/livez` (and its alias `/healthz`) checks only the process; `/readyz` checks every
 * dependency with a short timeout and answers 503 naming the ones that failed.
 */
import type { Context } from 'koa';

export type ReadinessCheck = (timeoutMs: number) => Promise<void>;

export interface Health {
  readonly shuttingDown: boolean;
  markShuttingDown(): void;
  livez(ctx: Context): void;
  readyz(ctx: Context): Promise<void>;
}

export function createHealth(checks: Record<string, ReadinessCheck>, timeoutMs = 1000): Health {
  let shuttingDown = false;
  return {
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
      const names = Object.keys(checks);
      const results = await Promise.allSettled(names.map((name) => checks[name]!(timeoutMs)));
      const report: Record<string, string> = {};
      const failed: string[] = [];
      results.forEach((result, i) => {
        const name = names[i]!;
        if (result.status === 'fulfilled') report[name] = 'ok';
        else {
          report[name] = (result.reason as Error)?.message ?? 'failed';
          failed.push(name);
        }
      });
      ctx.status = failed.length ? 503 : 200;
      ctx.body = { status: failed.length ? `unavailable: ${failed.join(', ')}` : 'ok', checks: report };
    },
  };
}
