/**
 * Upgrade and downgrade on real pods, while a client pod sends learning events the whole time.
 * The "next release" is a real, different image (tests/harness/node/images/next-release: ours plus
 * one slow migration, under the next patch version's tag); nothing is pulled. Raising spec.version
 * must run the new version's migration Job first and only then roll the APIs, with zero failed
 * requests. Going back runs the older release's migrations against the newer schema: it names the
 * migrations it does not know, keeps them, and the APIs roll back (docs/operations-upgrade.md).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMAGE_REFS, nextPlatformVersion, platformVersion } from '../harness/node/images.ts';
import { waitUntil } from '../harness/process.ts';
import { acknowledgedIds, eventsFlowingAround, missingFromPostgres, psql, type SenderResult } from './support/events.ts';
import { recordFigure } from './support/figures.ts';
import { execIn, kubectl, kubectlJson } from './support/node.ts';
import { adminCredentials, createPlatform, ensureOperatorInstalled, startClient, waitPlatformReady } from './support/platform.ts';

const ns = 'upgrade';
const platform = 'hm';
const current = platformVersion();
const next = nextPlatformVersion();
const slug = (version: string) => version.replace(/\./g, '-');
const deployments = { contentBridge: `${platform}-content-bridge`, mlServer: `${platform}-ml-server` };

const templateImage = async (deployment: string): Promise<string> =>
  (await kubectlJson(['-n', ns, 'get', 'deployment', deployment])).spec.template.spec.containers[0].image;

async function apiPods(name: 'content-bridge' | 'ml-server'): Promise<any[]> {
  const pods = (await kubectlJson(['-n', ns, 'get', 'pods', '-l', `app.kubernetes.io/name=${name}`])).items as any[];
  return pods.filter((p) => !p.metadata.deletionTimestamp);
}

/** The ReplicaSets of a Deployment whose pods run `image`. */
async function replicaSetsOf(deployment: string, image: string): Promise<any[]> {
  const sets = (await kubectlJson(['-n', ns, 'get', 'replicasets'])).items as any[];
  return sets.filter(
    (rs) => rs.metadata.ownerReferences?.some((o: any) => o.name === deployment) && rs.spec.template.spec.containers[0].image === image,
  );
}

/** Sets spec.version and waits until both APIs have rolled to its images and the platform is Ready; returns the time it took. */
async function changeVersion(version: string): Promise<number> {
  const started = Date.now();
  await kubectl(['-n', ns, 'patch', 'hmp', platform, '--type=merge', '-p', JSON.stringify({ spec: { version } })]);
  const images = {
    contentBridge: `ghcr.io/huntmaster-academy/content-bridge:${version}`,
    mlServer: `ghcr.io/huntmaster-academy/ml-server:${version}`,
  };
  await waitUntil(
    `both API Deployments on ${version}`,
    async () =>
      (await templateImage(deployments.contentBridge)) === images.contentBridge &&
      (await templateImage(deployments.mlServer)) === images.mlServer,
    { timeoutMs: 300_000 },
  );
  for (const d of Object.values(deployments)) await kubectl(['-n', ns, 'rollout', 'status', `deployment/${d}`, '--timeout=300s']);
  // The old pods are gone too (preStop, graceful shutdown): a request they dropped on the way out would count.
  await waitUntil(
    'no old API pod left',
    async () => (await kubectlJson(['-n', ns, 'get', 'pods', '-l', 'app.kubernetes.io/component=api'])).items.length === 2,
    { timeoutMs: 120_000 },
  );
  await waitUntil(
    `status.versions.migrated = ${version}`,
    async () => (await kubectlJson(['-n', ns, 'get', 'hmp', platform])).status?.versions?.migrated === version,
    { timeoutMs: 60_000 },
  );
  await waitPlatformReady(ns, platform, 120);
  return Date.now() - started;
}

async function migrationJob(version: string): Promise<any> {
  return kubectlJson(['-n', ns, 'get', 'job', `${platform}-migrate-${slug(version)}`]);
}

describe('upgrading and downgrading the platform under load', () => {
  let env: Record<string, string> = {};
  const acknowledged: string[] = [];

  beforeAll(async () => {
    await ensureOperatorInstalled();
    // One pod per API: the rolling update then has no second replica to hide a dropped request behind.
    const ms = await createPlatform(ns, platform, { version: current, contentBridge: { replicas: 1 }, mlServer: { replicas: 1 } });
    recordFigure(`platform ${current} (1 + 1 API pods) applied → Ready=True`, ms);
    await startClient(ns);
    const { email, password } = await adminCredentials(ns, platform);
    // Credentials, not a token: the sender renews its token, however long the rollout takes.
    env = {
      CONTENT_BRIDGE_URL: `http://${platform}-content-bridge.${ns}.svc:8090`,
      ADMIN_EMAIL: email,
      ADMIN_PASSWORD: password,
      RATE: '20',
    };
  });

  afterAll(async () => {
    await kubectl(['delete', 'namespace', ns, '--wait=false', '--ignore-not-found']);
  });

  it(`rolls ${current} → ${next} with zero failed requests, only after ${next}'s migration Job succeeded`, async () => {
    const [oldPod] = await apiPods('content-bridge');
    const oldImageId = oldPod.status.containerStatuses[0].imageID as string;
    let took = 0;
    const result: SenderResult = await eventsFlowingAround(ns, env, async () => {
      took = await changeVersion(next);
    });
    acknowledged.push(...acknowledgedIds(result));
    recordFigure(`rolling upgrade ${current} → ${next} (migration Job, then 1 + 1 API pods) → Ready`, took, {
      sent: result.sent,
      failed: result.failed,
      longestGapMs: result.maxGapMs,
    });
    expect(result.ok).toBeGreaterThan(50);
    expect(result.failed, JSON.stringify(result.failuresByReason)).toBe(0);

    // The gate: the new ReplicaSets were created only once the new version's migrations had run.
    const job = await migrationJob(next);
    expect(job.status.succeeded).toBe(1);
    expect(job.spec.template.spec.containers[0].image).toBe(IMAGE_REFS.nextContentBridge());
    const completed = Date.parse(job.status.completionTime);
    for (const [deployment, image] of [
      [deployments.contentBridge, IMAGE_REFS.nextContentBridge()],
      [deployments.mlServer, IMAGE_REFS.nextMlServer()],
    ] as const) {
      const sets = await replicaSetsOf(deployment, image);
      expect(sets, `${deployment}: one ReplicaSet on ${image}`).toHaveLength(1);
      expect(Date.parse(sets[0].metadata.creationTimestamp), `${deployment} rolled before the migrations finished`).toBeGreaterThanOrEqual(
        completed,
      );
    }
    // The migration the next release brought ran once, in the Job.
    expect((await psql(ns, platform, 'SELECT release FROM content.release_probe')).trim()).toBe('next');
    expect(await kubectl(['-n', ns, 'logs', `job/${platform}-migrate-${slug(next)}`])).toMatch(/applied migrations: 9990/);

    // The new pods run the new image: another image id, with the new migration inside.
    const [newPod] = await apiPods('content-bridge');
    expect(newPod.spec.containers[0].image).toBe(IMAGE_REFS.nextContentBridge());
    expect(newPod.status.containerStatuses[0].imageID).not.toBe(oldImageId);
    expect(await execIn(ns, newPod.metadata.name, ['ls', 'services/content-bridge/migrations'])).toContain('9990_next_release_probe.sql');
    expect((await apiPods('ml-server'))[0].spec.containers[0].image).toBe(IMAGE_REFS.nextMlServer());
  });

  it(`rolls back ${next} → ${current} with zero failed requests: the older migrations keep the newer schema and say so`, async () => {
    let took = 0;
    const result = await eventsFlowingAround(ns, env, async () => {
      took = await changeVersion(current);
    });
    acknowledged.push(...acknowledgedIds(result));
    recordFigure(`downgrade ${next} → ${current} → Ready`, took, { sent: result.sent, failed: result.failed });
    expect(result.ok).toBeGreaterThan(50);
    expect(result.failed, JSON.stringify(result.failuresByReason)).toBe(0);

    // The older release's migration Job ran against the newer schema: it names what it does not know and reverts nothing.
    expect((await migrationJob(current)).status.succeeded).toBe(1);
    const log = await kubectl(['-n', ns, 'logs', `job/${platform}-migrate-${slug(current)}`]);
    expect(log).toContain('the database is ahead of this release: 9990_next_release_probe applied by a newer release');
    expect((await psql(ns, platform, 'SELECT release FROM content.release_probe')).trim()).toBe('next');
    expect(
      (
        await psql(ns, platform, "SELECT count(*) FROM public.schema_migrations WHERE service = 'content-bridge' AND version = 9990")
      ).trim(),
    ).toBe('1');
    const [pod] = await apiPods('content-bridge');
    expect(pod.spec.containers[0].image).toBe(IMAGE_REFS.contentBridge());
    expect(await execIn(ns, pod.metadata.name, ['ls', 'services/content-bridge/migrations'])).not.toContain('9990');
  });

  it('has every event acknowledged during both rollouts in PostgreSQL', async () => {
    expect(acknowledged.length).toBeGreaterThan(200);
    expect(await missingFromPostgres(ns, platform, acknowledged)).toBe(0);
  });
});
