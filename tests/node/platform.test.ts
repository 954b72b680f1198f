/**
 * The platform installed as the README says, on real pods: `helm install` runs the operator from its
 * image with the chart's ServiceAccount, `kubectl apply` of the minimal sample, and Ready means
 * real: PostgreSQL accepts connections, the migration Job succeeded, and both APIs answer /readyz
 * through their Services, by DNS name, from a pod. Then the README's first-admin and `helm test` steps.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binaries, REPO_ROOT } from '../harness/paths.ts';
import { runOutput } from '../harness/shell.ts';
import { apply, clientPod, execIn, kubeconfigPath, kubectl, kubectlJson, waitForPodsReady } from './support/node.ts';
import { recordFigure } from './support/figures.ts';

const system = 'huntmaster-system';
const academy = 'academy';

function helm(args: string[]): Promise<string> {
  return runOutput(binaries.helm(), args, { env: { KUBECONFIG: kubeconfigPath() }, cwd: REPO_ROOT });
}

/** What a pod inside the cluster gets from a URL: the status and the body. */
async function fetchFromPod(url: string): Promise<{ status: number; body: string }> {
  const script = `fetch(${JSON.stringify(url)}).then(async r=>console.log(JSON.stringify({status:r.status,body:await r.text()})),e=>console.log(JSON.stringify({status:0,body:String(e.cause??e)})))`;
  return JSON.parse(await execIn(academy, 'client', ['node', '-e', script]));
}

describe('the platform on a real node, as the README installs it', () => {
  beforeAll(async () => {
    const started = Date.now();
    await helm(['install', 'huntmaster', 'charts/huntmaster', '-n', system, '--create-namespace']);
    await kubectl(['-n', system, 'rollout', 'status', 'deployment/huntmaster-operator', '--timeout=180s']);
    recordFigure('helm install → operator Available', Date.now() - started);
  });

  afterAll(async () => {
    await kubectl(['delete', 'namespace', academy, '--wait=false', '--ignore-not-found']);
  });

  it('becomes Ready from the minimal sample, with PostgreSQL, the migrations and both APIs really up', async () => {
    await kubectl(['create', 'namespace', academy]);
    const started = Date.now();
    await kubectl(['-n', academy, 'apply', '-f', join(REPO_ROOT, 'manifests/samples/minimal.yaml')]);
    const waited = await kubectl(['-n', academy, 'wait', 'hmp/huntmaster', '--for=condition=Ready', '--timeout=600s'], {
      allowFailure: true,
    });
    if (!waited.includes('condition met')) {
      const hmp = await kubectlJson(['-n', academy, 'get', 'hmp', 'huntmaster']);
      const pods = await kubectl(['-n', academy, 'get', 'pods,jobs', '-o', 'wide'], { allowFailure: true });
      const logs = await kubectl(['-n', system, 'logs', 'deployment/huntmaster-operator', '--tail=40'], { allowFailure: true });
      throw new Error(`not Ready: ${JSON.stringify(hmp.status?.conditions, null, 1)}\n${pods}\n${logs}`);
    }
    recordFigure('minimal sample applied → Ready=True', Date.now() - started);

    const pg = await execIn(academy, 'huntmaster-postgres-0', ['pg_isready', '--host', '127.0.0.1']);
    expect(pg).toContain('accepting connections');
    const jobs = (await kubectlJson(['-n', academy, 'get', 'jobs'])).items as any[];
    const migration = jobs.find((j) => j.metadata.labels?.['app.kubernetes.io/component'] === 'migrations');
    expect(migration?.status?.succeeded, 'the migration Job succeeded').toBe(1);

    await apply([clientPod('client')], academy);
    await waitForPodsReady(academy, 'app=client', 1);
    for (const [service, port] of [
      ['huntmaster-content-bridge', 8090],
      ['huntmaster-ml-server', 8010],
    ] as const) {
      const res = await fetchFromPod(`http://${service}.${academy}.svc.cluster.local:${port}/readyz`);
      expect(res.status, `${service}: ${res.body}`).toBe(200);
    }
  });

  it('runs the operator from its image as the chart ServiceAccount, non-root, with a read-only root', async () => {
    const pod = ((await kubectlJson(['-n', system, 'get', 'pods', '-l', 'app.kubernetes.io/name=huntmaster'])).items as any[]).find((p) =>
      p.metadata.name.startsWith('huntmaster-operator'),
    );
    expect(pod.spec.serviceAccountName).toBe('huntmaster-operator');
    expect(pod.spec.containers[0].image).toBe(`ghcr.io/huntmaster-academy/operator:${appVersion()}`);
    expect((await execIn(system, pod.metadata.name, ['id', '-u'])).trim()).toBe('10001');
    expect(await execIn(system, pod.metadata.name, ['sh', '-c', 'touch /app/x 2>&1 || true'])).toMatch(/Read-only file system/);
  });

  it('gives the first admin a working login from the generated Secret', async () => {
    const secret = (key: string) =>
      kubectl(['-n', academy, 'get', 'secret', 'huntmaster-admin', '-o', `jsonpath={.data.${key}}`]).then((b) =>
        Buffer.from(b, 'base64').toString(),
      );
    const [email, password] = [await secret('email'), await secret('password')];
    const hmp = await kubectlJson(['-n', academy, 'get', 'hmp', 'huntmaster']);
    expect(hmp.status.adminSecret).toBe('huntmaster-admin');
    const script = `fetch('http://huntmaster-content-bridge.${academy}.svc:8090/auth/login',{method:'POST',headers:{'content-type':'application/json'},body:JSON.stringify({email:process.argv[1],password:process.argv[2]})}).then(async r=>console.log(r.status))`;
    expect((await execIn(academy, 'client', ['node', '-e', script, email, password])).trim()).toBe('200');
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

function appVersion(): string {
  return /^appVersion:\s*'?([^'\s]+)/m.exec(readFileSync(join(REPO_ROOT, 'charts/huntmaster/Chart.yaml'), 'utf8'))![1]!;
}
