/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go does it: 15 s lease, 10 s renew
 * deadline, 2 s retry. Expiry is judged by when *we* last saw the lease change, so clock skew
 * between replicas does not matter. The lease is released on shutdown so a successor need not wait.
 */
import type { Logger } from 'pino';
import type { KubeClient, KubeObject } from '../kube/client.ts';
import { isConflict, isNotFound } from '../kube/errors.ts';
import { RESOURCES } from '../kube/resources.ts';

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationSeconds?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  logger: Logger;
  onStartedLeading(): void | Promise<void>;
  onStoppedLeading(): void | Promise<void>;
}

interface Lease extends KubeObject {
  spec: {
    holderIdentity?: string | null;
    leaseDurationSeconds?: number;
    acquireTime?: string | null;
    renewTime?: string | null;
    leaseTransitions?: number;
  };
}

const microTime = (d = new Date()) => d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

export class LeaderElector {
  private readonly o: Required<Omit<LeaderElectionOptions, 'logger' | 'onStartedLeading' | 'onStoppedLeading'>> &
    Pick<LeaderElectionOptions, 'logger' | 'onStartedLeading' | 'onStoppedLeading'>;
  private readonly client: KubeClient;
  private observed: { record: string; at: number } | undefined;
  private lastRenew = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  isLeader = false;

  constructor(client: KubeClient, opts: LeaderElectionOptions) {
    this.client = client;
    // Undefined options must not override the defaults (a spread would copy the undefined).
    this.o = {
      ...opts,
      leaseDurationSeconds: opts.leaseDurationSeconds ?? 15,
      renewDeadlineMs: opts.renewDeadlineMs ?? 10_000,
      retryPeriodMs: opts.retryPeriodMs ?? 2_000,
    };
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = new Date();
    let lease: Lease | undefined;
    try {
      lease = await this.client.get<Lease>(RESOURCES.Lease, this.o.namespace, this.o.name);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    if (!lease) {
      await this.client.create({
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: this.o.name, namespace: this.o.namespace },
        spec: {
          holderIdentity: this.o.identity,
          leaseDurationSeconds: this.o.leaseDurationSeconds,
          acquireTime: microTime(now),
          renewTime: microTime(now),
          leaseTransitions: 0,
        },
      });
      return true;
    }
    const spec = lease.spec;
    const record = `${spec.holderIdentity}|${spec.renewTime}`;
    if (this.observed?.record !== record) this.observed = { record, at: Date.now() };
    const holder = spec.holderIdentity ?? '';
    const expired = this.observed.at + (spec.leaseDurationSeconds ?? this.o.leaseDurationSeconds) * 1000 < Date.now();
    if (holder && holder !== this.o.identity && !expired) {
      this.o.logger.debug({ holder, observedAgeMs: Date.now() - this.observed.at }, 'lease held by another replica');
      return false;
    }
    const takingOver = holder !== this.o.identity;
    const updated: Lease = {
      ...lease,
      spec: {
        holderIdentity: this.o.identity,
        leaseDurationSeconds: this.o.leaseDurationSeconds,
        acquireTime: takingOver ? microTime(now) : spec.acquireTime,
        renewTime: microTime(now),
        leaseTransitions: (spec.leaseTransitions ?? 0) + (takingOver ? 1 : 0),
      },
    };
    try {
      await this.client.update(updated);
    } catch (err) {
      if (isConflict(err)) return false; // someone else wrote first; look again next round
      throw err;
    }
    return true;
  }

  private inFlight: Promise<void> | undefined;

  private async tick(): Promise<void> {
    if (this.stopped) return;
    try {
      const ok = await this.tryAcquireOrRenew();
      if (this.stopped) return;
      if (ok) {
        this.lastRenew = Date.now();
        if (!this.isLeader) {
          this.isLeader = true;
          this.o.logger.info({ identity: this.o.identity }, 'became leader');
          await this.o.onStartedLeading();
        }
      }
    } catch (err) {
      this.o.logger.warn({ err: (err as Error).message }, 'lease update failed');
    }
    if (this.isLeader && Date.now() - this.lastRenew > this.o.renewDeadlineMs) {
      this.isLeader = false;
      this.o.logger.error('lost leadership: could not renew the lease in time');
      await this.o.onStoppedLeading();
    }
    if (!this.stopped) this.timer = setTimeout(() => (this.inFlight = this.tick()), this.o.retryPeriodMs);
  }

  start(): void {
    this.stopped = false;
    this.inFlight = this.tick();
  }

  /** Stops campaigning and, if leading, releases the lease so another replica takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.inFlight;
    if (!this.isLeader) return;
    this.isLeader = false;
    try {
      const lease = await this.client.get<Lease>(RESOURCES.Lease, this.o.namespace, this.o.name);
      if (lease.spec.holderIdentity === this.o.identity) {
        await this.client.update({
          ...lease,
          spec: { ...lease.spec, holderIdentity: null, leaseDurationSeconds: 1, renewTime: microTime() },
        });
      }
    } catch (err) {
      this.o.logger.warn({ err: (err as Error).message }, 'could not release the lease');
    }
    await this.o.onStoppedLeading();
  }
}
