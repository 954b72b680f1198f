import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { Informer } from '../../../operator/controller/informer.ts';
import { LeaderElector } from '../../../operator/controller/leader.ts';
import type { KubeClient } from '../../../operator/kube/client.ts';
import { RESOURCES } from '../../../operator/kube/resources.ts';

// Regression: options passed explicitly as undefined (as the runtime does) once replaced the
// defaults, which made resync and lease renewal fire every millisecond.
describe('option defaults survive explicit undefined', () => {
  const client = {} as KubeClient;
  const logger = pino({ level: 'silent' });

  it('Informer', () => {
    const informer = new Informer(client, { resource: RESOURCES.ConfigMap, logger, resyncMs: undefined, staleAfterMs: undefined });
    const opts = (informer as unknown as { opts: { resyncMs: number; staleAfterMs: number } }).opts;
    expect(opts.resyncMs).toBe(600_000);
    expect(opts.staleAfterMs).toBeGreaterThanOrEqual(330_000);
  });

  it('LeaderElector', () => {
    const elector = new LeaderElector(client, {
      namespace: 'ns',
      name: 'lease',
      identity: 'me',
      logger,
      leaseDurationSeconds: undefined,
      renewDeadlineMs: undefined,
      retryPeriodMs: undefined,
      onStartedLeading: () => undefined,
      onStoppedLeading: () => undefined,
    });
    expect((elector as unknown as { o: object }).o).toMatchObject({
      leaseDurationSeconds: 15,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
    });
  });
});
