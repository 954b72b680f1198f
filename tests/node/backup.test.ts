/**
 * Backups on real pods (issue 13 §2): the operator's backup CronJob runs once (as `kubectl create job
 * --from=cronjob/…` starts it, the way operator/README.md says to take one now), its dump lands in
 * MinIO, and a fresh PostgreSQL pod restored from that dump holds the same users.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { psql } from './support/events.ts';
import { apply, execIn, kubectl, kubectlJson, postgresPodSpec, waitForPodsReady } from './support/node.ts';
import { createPlatform, ensureOperatorInstalled, fetchFromPod, startClient } from './support/platform.ts';

const ns = 'backup';
const platform = 'hm';
const USERS = 'SELECT id, username, email, roles FROM users.users ORDER BY id;';

/** A PostgreSQL of the platform's image with nothing in it, as a restore target. */
function freshPostgres(name: string): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: name } },
    spec: postgresPodSpec({ password: { value: 'restore-only' }, data: { emptyDir: {} } }),
  };
}

describe('PostgreSQL backups on a real node', () => {
  beforeAll(async () => {
    await ensureOperatorInstalled();
    // A schedule that does not fire during the test: the one run is started by hand.
    await createPlatform(ns, platform, {
      contentBridge: { replicas: 1 },
      mlServer: { replicas: 1 },
      postgres: { backup: { enabled: true, schedule: '0 3 * * *' } },
    });
    await startClient(ns);
  });

  afterAll(async () => {
    await kubectl(['delete', 'namespace', ns, '--wait=false', '--ignore-not-found']);
  });

  it('runs the CronJob once, stores the dump in MinIO, and a fresh PostgreSQL restored from it holds the same users', async () => {
    for (const n of [1, 2, 3]) {
      const res = await fetchFromPod(ns, `http://${platform}-content-bridge.${ns}.svc:8090/auth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: `student${n}`, email: `student${n}@example.test`, password: `Backup-${n}-correct-horse` }),
      });
      expect(res.status, res.body).toBe(201);
    }
    const users = (await psql(ns, platform, USERS)).trim();
    expect(users.split('\n')).toHaveLength(4); // the admin and three students

    await kubectl(['-n', ns, 'create', 'job', 'backup-now', `--from=cronjob/${platform}-postgres-backup`]);
    const done = await kubectl(['-n', ns, 'wait', 'job/backup-now', '--for=condition=Complete', '--timeout=300s'], { allowFailure: true });
    const uploadLog = await kubectl(['-n', ns, 'logs', 'job/backup-now', '-c', 'upload'], { allowFailure: true });
    if (!done.includes('condition met')) {
      const dumpLog = await kubectl(['-n', ns, 'logs', 'job/backup-now', '-c', 'dump'], { allowFailure: true });
      const pods = await kubectl(['-n', ns, 'get', 'pods', '-l', 'job-name=backup-now', '-o', 'wide'], { allowFailure: true });
      throw new Error(`the backup Job did not complete:\n${pods}\ndump: ${dumpLog}\nupload: ${uploadLog}`);
    }
    const stored = /stored (backups\/postgres\/huntmaster-\S+\.dump) \((\d+) bytes\)/.exec(uploadLog);
    expect(stored, uploadLog).not.toBeNull();
    const [, key, bytes] = stored!;
    expect(Number(bytes)).toBeGreaterThan(1000);

    // The object is in MinIO: listed by the S3 API, and in MinIO's own data directory.
    const [bridgePod] = (await kubectlJson(['-n', ns, 'get', 'pods', '-l', 'app.kubernetes.io/name=content-bridge'])).items as any[];
    const bridge = bridgePod.metadata.name as string;
    expect(await execIn(ns, bridge, ['node', 'services/content-bridge/backup/cli.ts', 'list'])).toContain(key);
    expect(await execIn(ns, `${platform}-minio-0`, ['sh', '-c', `ls -d /data/*/${key}`])).toContain(key);

    // Restore into an empty PostgreSQL: the dump travels as base64 text through kubectl exec.
    await apply([freshPostgres('restored')], ns);
    await waitForPodsReady(ns, 'app=restored', 1);
    const dump = await execIn(ns, bridge, [
      'sh',
      '-c',
      `node services/content-bridge/backup/cli.ts download ${key} /tmp/restore.dump >&2 && base64 -w0 /tmp/restore.dump && rm /tmp/restore.dump`,
    ]);
    await execIn(
      ns,
      'restored',
      [
        'sh',
        '-c',
        'set -e; base64 -d > /tmp/huntmaster.dump; createdb -h 127.0.0.1 -U postgres huntmaster; ' +
          'pg_restore -h 127.0.0.1 -U postgres --no-owner --no-privileges --exit-on-error -d huntmaster /tmp/huntmaster.dump',
      ],
      { input: dump },
    );
    const restored = await execIn(ns, 'restored', ['psql', '-h', '127.0.0.1', '-U', 'postgres', '-d', 'huntmaster', '-tA', '-c', USERS]);
    expect(restored.trim()).toBe(users);
  });
});
