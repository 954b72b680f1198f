/**
 * Backups on a whole (fake-node) cluster: the real CronJob controller starts the operator's backup
 * Job on schedule, the Job controller and kwok run it to completion, and the platform's status
 * reports the run. (What the pod does is tested against real servers in
 * tests/integration/content-bridge/backup.test.ts.) Its own file, so it waits in parallel.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient, type KubeObject } from '../../operator/kube/client.ts';
import { RESOURCES } from '../../operator/kube/resources.ts';
import { waitUntil } from '../harness/index.ts';
import { adminKubeConfig, installCrd, platform, runOperator } from '../operator/support/operator.ts';

const ns = 'e2e-backup';

describe('scheduled PostgreSQL backups', () => {
  let client: KubeClient;
  let operator: Awaited<ReturnType<typeof runOperator>>;

  beforeAll(async () => {
    client = new KubeClient(adminKubeConfig());
    await installCrd(client);
    await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    for (let i = 0; i < 3; i++) {
      await client.create({
        apiVersion: 'v1',
        kind: 'PersistentVolume',
        metadata: { name: `e2e-backup-pv-${i}` },
        spec: { capacity: { storage: '100Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: `/tmp/e2e-backup-pv-${i}` } },
      } as KubeObject);
    }
    operator = await runOperator([ns]);
  });
  afterAll(() => operator?.stop());

  it('runs on schedule and reports the last successful backup in the status', async () => {
    const started = Date.now();
    await client.create(
      platform(ns, 'nightly', {
        contentBridge: { replicas: 1 },
        mlServer: { replicas: 1 },
        postgres: { backup: { enabled: true, schedule: '* * * * *' } },
      }),
    );
    type Status = { backup?: { lastScheduleTime?: string; lastSuccessfulTime?: string } };
    const status = async () => (await client.get<KubeObject & { status?: Status }>(RESOURCES.HuntMasterPlatform, ns, 'nightly')).status;
    // The CronJob controller looks every 10 s and the schedule fires each minute.
    await waitUntil('a backup succeeded', async () => (await status())?.backup?.lastSuccessfulTime !== undefined, { timeoutMs: 150_000 });
    const { lastScheduleTime, lastSuccessfulTime } = (await status())!.backup!;
    expect(Date.parse(lastSuccessfulTime!)).toBeGreaterThanOrEqual(Date.parse(lastScheduleTime!));
    expect(Date.parse(lastScheduleTime!)).toBeGreaterThan(started - 60_000);
    const jobs = (await client.list(RESOURCES.Job, ns)).items.filter((j) =>
      j.metadata.ownerReferences?.some((r) => r.kind === 'CronJob' && r.name === 'nightly-postgres-backup'),
    );
    expect(jobs.length).toBeGreaterThan(0);
    // What HuntMasterPostgresBackupStale and the Operator dashboard read: the time of that success.
    const gauge = async () => {
      const text = await (await fetch(`http://127.0.0.1:${operator.port}/metrics`)).text();
      const m = new RegExp(`hma_platform_last_backup_timestamp_seconds\\{namespace="${ns}",name="nightly"\\} (\\d+)`).exec(text);
      return m ? Number(m[1]) : undefined;
    };
    // (a later run may have succeeded meanwhile: the schedule fires every minute)
    await waitUntil('the gauge holds the last success', async () => ((await gauge()) ?? 0) >= Date.parse(lastSuccessfulTime!) / 1000, {
      timeoutMs: 30_000,
    });
  });
});
