/**
 * The platform installed as docs/operations.md says, on real pods: `helm install` runs the operator from its
 * image with the chart's ServiceAccount, `kubectl apply` of the minimal sample, and Ready means
 * real: PostgreSQL accepts connections, the migration Job succeeded, and both APIs answer /readyz
 * through their Services, by DNS name, from a pod. Then its first-admin and `helm test` steps.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMAGE_REFS } from '../harness/node/images.ts';
import { REPO_ROOT } from '../harness/paths.ts';
import { execIn, kubectl, kubectlJson } from './support/node.ts';
import { recordFigure } from './support/figures.ts';
import {
  adminCredentials,
  ensureOperatorInstalled,
  fetchFromPod,
  helm,
  OPERATOR_NAMESPACE,
  runClientScript,
  startClient,
  waitPlatformReady,
} from './support/platform.ts';

const system = OPERATOR_NAMESPACE;
const academy = 'academy';

describe('the platform on a real node, as docs/operations.md installs it', () => {
  beforeAll(ensureOperatorInstalled);

  afterAll(async () => {
    await kubectl(['delete', 'namespace', academy, '--wait=false', '--ignore-not-found']);
  });

  it('becomes Ready from the minimal sample, with PostgreSQL, the migrations and both APIs really up', async () => {
    await kubectl(['create', 'namespace', academy]);
    const started = Date.now();
    await kubectl(['-n', academy, 'apply', '-f', join(REPO_ROOT, 'manifests/samples/minimal.yaml')]);
    await waitPlatformReady(academy, 'huntmaster');
    recordFigure('minimal sample applied → Ready=True', Date.now() - started);

    const pg = await execIn(academy, 'huntmaster-postgres-0', ['pg_isready', '--host', '127.0.0.1']);
    expect(pg).toContain('accepting connections');
    const jobs = (await kubectlJson(['-n', academy, 'get', 'jobs'])).items as any[];
    const migration = jobs.find((j) => j.metadata.labels?.['app.kubernetes.io/component'] === 'migrations');
    expect(migration?.status?.succeeded, 'the migration Job succeeded').toBe(1);

    await startClient(academy);
    for (const [service, port] of [
      ['huntmaster-content-bridge', 8090],
      ['huntmaster-ml-server', 8010],
    ] as const) {
      const res = await fetchFromPod(academy, `http://${service}.${academy}.svc.cluster.local:${port}/readyz`);
      expect(res.status, `${service}: ${res.body}`).toBe(200);
    }
  });

  it('runs the operator from its image as the chart ServiceAccount, non-root, with a read-only root', async () => {
    const pod = ((await kubectlJson(['-n', system, 'get', 'pods', '-l', 'app.kubernetes.io/name=huntmaster'])).items as any[]).find((p) =>
      p.metadata.name.startsWith('huntmaster-operator'),
    );
    expect(pod.spec.serviceAccountName).toBe('huntmaster-operator');
    expect(pod.spec.containers[0].image).toBe(IMAGE_REFS.operator());
    expect((await execIn(system, pod.metadata.name, ['id', '-u'])).trim()).toBe('10001');
    expect(await execIn(system, pod.metadata.name, ['sh', '-c', 'touch /app/x 2>&1 || true'])).toMatch(/Read-only file system/);
  });

  it('gives the first admin a working login from the generated Secret', async () => {
    const { email, password } = await adminCredentials(academy, 'huntmaster');
    const hmp = await kubectlJson(['-n', academy, 'get', 'hmp', 'huntmaster']);
    expect(hmp.status.adminSecret).toBe('huntmaster-admin');
    const script = `fetch('http://huntmaster-content-bridge.${academy}.svc:8090/auth/login',{method:'POST',headers:{'content-type':'application/json'},body:JSON.stringify({email:process.argv[1],password:process.argv[2]})}).then(async r=>console.log(r.status))`;
    expect((await execIn(academy, 'client', ['node', '-e', script, email, password])).trim()).toBe('200');
  });

  it('serves the whole user flow to a client inside the cluster, through the Services', async () => {
    const { email, password } = await adminCredentials(academy, 'huntmaster');
    const flow = runClientScript(academy, 'user-flow.mjs', {
      CONTENT_BRIDGE_URL: `http://huntmaster-content-bridge.${academy}.svc:8090`,
      ML_SERVER_URL: `http://huntmaster-ml-server.${academy}.svc:8010`,
      ADMIN_EMAIL: email,
      ADMIN_PASSWORD: password,
    });
    const report = await flow.result;
    expect(report.ok).toBe(true);
    // The presigned URL points at the MinIO Service and returns the bytes that were uploaded.
    expect(report.upload.fetched_sha256).toBe(report.upload.sha256);
    expect(report.events.accepted).toBe(1000);
    expect(report.assessment).toMatchObject({ status: 'graded' });
    expect(report.predict).toBeTruthy();
    expect(report.infer).toBeTruthy();
    recordFigure('user flow from a pod (login, upload, 1000 events, assessment, training, predict, infer)', report.duration_ms);
  });

  it('passes helm test for that platform, with its logs', async () => {
    await helm([
      'upgrade',
      'huntmaster',
      'charts/huntmaster',
      '-n',
      system,
      '--reuse-values',
      '--set',
      'tests.platformName=huntmaster',
      '--set',
      `tests.platformNamespace=${academy}`,
    ]);
    const out = await helm(['test', 'huntmaster', '-n', system, '--logs', '--timeout', '5m']);
    expect(out).toMatch(/Phase:\s+Succeeded/);
  });
});
