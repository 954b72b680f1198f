/** The platform on the node tier: the operator installed once by helm, platforms per test file. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { binaries, REPO_ROOT } from '../../harness/paths.ts';
import { runOutput } from '../../harness/shell.ts';
import { recordFigure } from './figures.ts';
import { apply, clientPod, execIn, kubeconfigPath, kubectl, kubectlJson, waitForPodsReady } from './node.ts';

export const OPERATOR_NAMESPACE = 'huntmaster-system';

export function helm(args: string[]): Promise<string> {
  return runOutput(binaries.helm(), args, { env: { KUBECONFIG: kubeconfigPath() }, cwd: REPO_ROOT });
}

/** `helm install` as docs/operations.md says, once per run (test files share the node and run one after another). */
export async function ensureOperatorInstalled(): Promise<void> {
  const present = await kubectl(['-n', OPERATOR_NAMESPACE, 'get', 'deployment', 'huntmaster-operator', '--ignore-not-found', '-o', 'name']);
  if (present.trim()) return;
  const started = Date.now();
  await helm(['install', 'huntmaster', 'charts/huntmaster', '-n', OPERATOR_NAMESPACE, '--create-namespace']);
  await kubectl(['-n', OPERATOR_NAMESPACE, 'rollout', 'status', 'deployment/huntmaster-operator', '--timeout=180s']);
  recordFigure('helm install → operator Available', Date.now() - started);
}

/** Applies a platform and waits for Ready=True; on a timeout the error carries its conditions, pods and the operator's log. */
export async function createPlatform(namespace: string, name: string, spec: object, timeoutSeconds = 600): Promise<number> {
  await kubectl(['create', 'namespace', namespace]);
  const started = Date.now();
  await apply([{ apiVersion: 'platform.huntmaster.academy/v1alpha1', kind: 'HuntMasterPlatform', metadata: { name }, spec }], namespace);
  await waitPlatformReady(namespace, name, timeoutSeconds);
  return Date.now() - started;
}

export async function waitPlatformReady(namespace: string, name: string, timeoutSeconds = 600): Promise<void> {
  const waited = await kubectl(['-n', namespace, 'wait', `hmp/${name}`, '--for=condition=Ready', `--timeout=${timeoutSeconds}s`], {
    allowFailure: true,
  });
  if (waited.includes('condition met')) return;
  const hmp = await kubectlJson(['-n', namespace, 'get', 'hmp', name]);
  const pods = await kubectl(['-n', namespace, 'get', 'pods,jobs', '-o', 'wide'], { allowFailure: true });
  const logs = await kubectl(['-n', OPERATOR_NAMESPACE, 'logs', 'deployment/huntmaster-operator', '--tail=40'], { allowFailure: true });
  throw new Error(`${namespace}/${name} not Ready: ${JSON.stringify(hmp.status?.conditions, null, 1)}\n${pods}\n${logs}`);
}

export async function startClient(namespace: string): Promise<void> {
  await apply([clientPod('client')], namespace);
  await waitForPodsReady(namespace, 'app=client', 1);
}

/** What a pod inside the cluster (the client pod unless named) gets from a URL: the status and the body. */
export async function fetchFromPod(
  namespace: string,
  url: string,
  init: object = {},
  pod = 'client',
): Promise<{ status: number; body: string }> {
  const script = `fetch(${JSON.stringify(url)},${JSON.stringify(init)}).then(async r=>console.log(JSON.stringify({status:r.status,body:await r.text()})),e=>console.log(JSON.stringify({status:0,body:String(e.cause??e)})))`;
  return JSON.parse(await execIn(namespace, pod, ['node', '-e', script]));
}

export async function adminCredentials(namespace: string, platform: string): Promise<{ email: string; password: string }> {
  const key = async (k: string) =>
    Buffer.from(await kubectl(['-n', namespace, 'get', 'secret', `${platform}-admin`, '-o', `jsonpath={.data.${k}}`]), 'base64').toString();
  return { email: await key('email'), password: await key('password') };
}

/** The admin's access token, from the Content Bridge through its Service. */
export async function adminToken(namespace: string, platform: string): Promise<string> {
  const { email, password } = await adminCredentials(namespace, platform);
  const res = await fetchFromPod(namespace, `http://${platform}-content-bridge.${namespace}.svc:8090/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  if (res.status !== 200) throw new Error(`admin login: ${res.status} ${res.body}`);
  return JSON.parse(res.body).access_token as string;
}

/**
 * Runs one of the self-contained client scripts (tests/node/support/*.mjs) to its end in the client
 * pod, with env; resolves with its last stdout line parsed as JSON. Long-running ones, which must
 * outlive a kubelet restart, run as pods of their own (startScriptPod).
 */
export function runClientScript(namespace: string, script: string, env: Record<string, string>): { result: Promise<any> } {
  const source = readFileSync(join(REPO_ROOT, 'tests/node/support', script), 'utf8');
  const envArgs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  const child = spawn(
    binaries.kubectl(),
    ['-n', namespace, 'exec', '-i', 'client', '--', 'env', ...envArgs, 'node', '--input-type=module', '-'],
    { env: { ...process.env, KUBECONFIG: kubeconfigPath() }, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  child.stdin.end(source);
  const result = new Promise((resolve, reject) => {
    child.on('exit', (code) => {
      const last = stdout.trim().split('\n').at(-1) ?? '';
      if (code !== 0) return reject(new Error(`${script} exited ${code}: ${last}\n${stderr}`));
      try {
        resolve(JSON.parse(last));
      } catch {
        reject(new Error(`${script}: no JSON result: ${last}\n${stderr}`));
      }
    });
  });
  return { result };
}

/**
 * Runs a long-lived client script as a pod of its own (not through `kubectl exec`, whose stream dies
 * with the kubelet): the script comes from a ConfigMap, its report is the last line of its log.
 * `stop()` creates the script's stop file and waits for the pod to finish.
 */
export async function startScriptPod(
  namespace: string,
  pod: string,
  script: string,
  env: Record<string, string>,
): Promise<{ stop: () => Promise<any> }> {
  const source = readFileSync(join(REPO_ROOT, 'tests/node/support', script), 'utf8');
  await kubectl(['-n', namespace, 'delete', 'pod', pod, '--ignore-not-found', '--wait=true']);
  await apply(
    [
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${pod}-script` }, data: { [script]: source } },
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: pod, labels: { app: pod } },
        spec: {
          restartPolicy: 'Never',
          containers: [
            {
              name: 'script',
              image: 'docker.io/library/node:24-slim',
              imagePullPolicy: 'Never',
              command: ['node', `/scripts/${script}`],
              env: Object.entries({ STOP_FILE: '/tmp/stop', ...env }).map(([name, value]) => ({ name, value })),
              securityContext: { runAsNonRoot: true, runAsUser: 1000, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
              volumeMounts: [{ name: 'scripts', mountPath: '/scripts' }],
            },
          ],
          volumes: [{ name: 'scripts', configMap: { name: `${pod}-script` } }],
        },
      },
    ],
    namespace,
  );
  await waitForPodsReady(namespace, `app=${pod}`, 1);
  return {
    async stop() {
      await execIn(namespace, pod, ['touch', '/tmp/stop']);
      await kubectl(['-n', namespace, 'wait', `pod/${pod}`, '--for=jsonpath={.status.phase}=Succeeded', '--timeout=60s']);
      // Progress lines (stderr) and the report (stdout) share the log; the report is the last JSON line.
      const lines = (await kubectl(['-n', namespace, 'logs', pod, '-c', 'script'])).trim().split('\n');
      return JSON.parse(lines.findLast((l) => l.startsWith('{')) ?? '');
    },
  };
}
