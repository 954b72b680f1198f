/** Helpers for tests on the node tier: kubectl as the admin, applying objects, waiting, exec in pods. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { IMAGE_REFS } from '../../harness/node/images.ts';
import { binaries } from '../../harness/paths.ts';
import { spawnManaged, waitUntil } from '../../harness/process.ts';
import { runOutput } from '../../harness/shell.ts';

let kubeconfigFile: string | undefined;

/** The admin kubeconfig of the shared node, as a file for kubectl and helm. */
export function kubeconfigPath(): string {
  if (!kubeconfigFile) {
    kubeconfigFile = join(mkdtempSync(join(tmpdir(), 'hma-nodetest-')), 'kubeconfig');
    writeFileSync(kubeconfigFile, inject('kubeconfig'), { mode: 0o600 });
  }
  return kubeconfigFile;
}

export function kubectl(args: string[], opts: { input?: string; allowFailure?: boolean } = {}): Promise<string> {
  return runOutput(binaries.kubectl(), args, { env: { KUBECONFIG: kubeconfigPath() }, ...opts });
}

export async function kubectlJson<T = any>(args: string[]): Promise<T> {
  return JSON.parse(await kubectl([...args, '-o', 'json'])) as T;
}

/** Server-side apply of plain objects. */
export async function apply(objects: object[], namespace?: string): Promise<void> {
  const ns = namespace ? ['--namespace', namespace] : [];
  await kubectl(['apply', '--server-side', '--force-conflicts', ...ns, '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }),
  });
}

export async function createNamespace(name: string): Promise<void> {
  await apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }]);
  await waitUntil(
    `ServiceAccount default in ${name}`,
    async () => (await kubectl(['-n', name, 'get', 'sa', 'default'], { allowFailure: true })).includes('default'),
    {
      timeoutMs: 30_000,
    },
  );
}

export async function deleteNamespace(name: string): Promise<void> {
  await kubectl(['delete', 'namespace', name, '--wait=false', '--ignore-not-found']);
}

/** Waits for every pod matching the selector to be Ready; names the pods' states on timeout. */
export async function waitForPodsReady(namespace: string, selector: string, count: number, timeoutMs = 180_000): Promise<void> {
  let last = '';
  try {
    await waitUntil(
      `${count} pod(s) ${selector} Ready in ${namespace}`,
      async () => {
        const pods = (await kubectlJson(['-n', namespace, 'get', 'pods', '-l', selector])).items as any[];
        last = pods.map(describePodState).join('\n');
        const ready = pods.filter((p) => p.status.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'));
        return ready.length >= count;
      },
      { timeoutMs },
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${last}`, { cause: err });
  }
}

/** A pod's phase and containers' states, or, while it is unscheduled, the scheduler's reason (a node taint, say). */
function describePodState(pod: any): string {
  const unscheduled = pod.status.conditions?.find((c: any) => c.type === 'PodScheduled' && c.status !== 'True');
  const detail = unscheduled
    ? `unscheduled: ${unscheduled.message ?? unscheduled.reason}`
    : JSON.stringify(pod.status.containerStatuses?.map((c: any) => c.state));
  return `${pod.metadata.name}: ${pod.status.phase} ${detail}`;
}

/** Runs a command in a pod's first container and returns its stdout. */
export function execIn(
  namespace: string,
  pod: string,
  command: string[],
  opts: { allowFailure?: boolean; input?: string } = {},
): Promise<string> {
  return kubectl(['-n', namespace, 'exec', ...(opts.input !== undefined ? ['-i'] : []), pod, '--', ...command], opts);
}

/** A pod with the node:24-slim image that sleeps, for running clients inside the cluster. */
export function clientPod(name: string, extra: Record<string, unknown> = {}): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: name } },
    spec: {
      terminationGracePeriodSeconds: 0,
      containers: [
        {
          name: 'client',
          image: 'docker.io/library/node:24-slim',
          imagePullPolicy: 'Never',
          command: ['sleep', 'infinity'],
          securityContext: { runAsNonRoot: true, runAsUser: 1000, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
        },
      ],
      ...extra,
    },
  };
}

/** Starts or stops the node's NetworkPolicy agent (kube-router's policy controller) through the node's control endpoint. */
export async function setPolicyAgent(action: 'start' | 'stop'): Promise<void> {
  const res = await fetch(`${inject('nodeControl')}/policy-agent/${action}`, { method: 'POST' });
  if (res.status !== 204) throw new Error(`policy agent ${action}: ${res.status} ${await res.text()}`);
}

/**
 * A TCP connection attempt from a pod: 'connected', the error code (ECONNREFUSED when a policy
 * rejects it), or 'timeout' after `timeoutMs`.
 */
export async function tcpProbe(namespace: string, pod: string, host: string, port: number, timeoutMs = 3_000): Promise<string> {
  const script = `const s=require('net').connect(${port},${JSON.stringify(host)});const t=setTimeout(()=>{console.log('timeout');process.exit(0)},${timeoutMs});s.on('connect',()=>{console.log('connected');process.exit(0)}).on('error',e=>{console.log(e.code);process.exit(0)})`;
  return (await execIn(namespace, pod, ['node', '-e', script])).trim();
}

/**
 * Runs `fn` with `kubectl port-forward` to `target` (e.g. svc/name) on a free loopback port: the way
 * in to a pod whose NetworkPolicy admits no one, since the kubelet connects inside the pod's own
 * network namespace. The forward ends with `fn`.
 */
export async function withPortForward<T>(namespace: string, target: string, port: number, fn: (base: string) => Promise<T>): Promise<T> {
  const logDir = mkdtempSync(join(tmpdir(), 'hma-port-forward-'));
  const forward = spawnManaged(
    `port-forward-${target.replace(/\W+/g, '-')}`,
    binaries.kubectl(),
    ['-n', namespace, 'port-forward', '--address', '127.0.0.1', target, `:${port}`],
    { env: { KUBECONFIG: kubeconfigPath() }, logDir },
  );
  try {
    let local = 0;
    await waitUntil(
      `kubectl port-forward ${target} listening`,
      async () => {
        local = Number(/Forwarding from 127\.0\.0\.1:(\d+)/.exec(readFileSync(forward.logFile, 'utf8'))?.[1] ?? 0);
        return local > 0;
      },
      { timeoutMs: 30_000, process: forward },
    );
    return await fn(`http://127.0.0.1:${local}`);
  } finally {
    await forward.stop();
    rmSync(logDir, { recursive: true, force: true });
  }
}

/**
 * A pod spec running the platform's PostgreSQL image as the operator runs it: uid 999, PGDATA under
 * the `data` mount, ready once pg_isready answers. `data` is the volume source, unless a
 * StatefulSet's claim template provides it.
 */
export function postgresPodSpec(o: { password: { value: string } | { valueFrom: object }; data?: object }): object {
  return {
    securityContext: { runAsUser: 999, runAsGroup: 999, fsGroup: 999, runAsNonRoot: true },
    containers: [
      {
        name: 'postgres',
        image: IMAGE_REFS.postgres,
        imagePullPolicy: 'Never',
        env: [
          { name: 'POSTGRES_PASSWORD', ...o.password },
          { name: 'PGDATA', value: '/var/lib/postgresql/data/pgdata' },
        ],
        readinessProbe: { exec: { command: ['pg_isready', '--host', '127.0.0.1'] }, periodSeconds: 1 },
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
        volumeMounts: [
          { name: 'data', mountPath: '/var/lib/postgresql/data' },
          { name: 'run', mountPath: '/var/run/postgresql' },
        ],
      },
    ],
    volumes: [...(o.data ? [{ name: 'data', ...o.data }] : []), { name: 'run', emptyDir: {} }],
  };
}
