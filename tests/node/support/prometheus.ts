/**
 * A Prometheus in the cluster (the stand-in image built from Prometheus' Go module), discovering its
 * targets through the Kubernetes API with a ServiceAccount of its own, and its HTTP API as a client
 * pod inside the cluster sees it.
 */
import { stringify } from 'yaml';
import { IMAGE_REFS } from '../../harness/node/images.ts';
import { apply, execIn, kubectl, waitForPodsReady } from './node.ts';

export const PROMETHEUS_NAME = 'prometheus';

/** Read access to what kubernetes_sd role endpoints watches, in each namespace it discovers in. */
function discoveryRbac(namespace: string, discovered: string[]): object[] {
  return discovered.flatMap((ns) => [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: `${PROMETHEUS_NAME}-${namespace}-discovery`, namespace: ns },
      rules: [{ apiGroups: [''], resources: ['services', 'endpoints', 'pods'], verbs: ['get', 'list', 'watch'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: `${PROMETHEUS_NAME}-${namespace}-discovery`, namespace: ns },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: `${PROMETHEUS_NAME}-${namespace}-discovery` },
      subjects: [{ kind: 'ServiceAccount', name: PROMETHEUS_NAME, namespace }],
    },
  ]);
}

/** Starts Prometheus in `namespace` with prometheus.yml and rule files (name → content); waits for /-/ready. */
export async function startPrometheus(
  namespace: string,
  o: { config: object; ruleFiles: Record<string, object>; discoveredNamespaces: string[] },
): Promise<void> {
  const labels = { app: PROMETHEUS_NAME };
  // kubectl applies a list into one namespace: the Roles of each discovered namespace go on their own.
  for (const ns of o.discoveredNamespaces) await apply(discoveryRbac(namespace, [ns]), ns);
  await apply(
    [
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: PROMETHEUS_NAME } },
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: `${PROMETHEUS_NAME}-config` },
        data: {
          'prometheus.yml': stringify(o.config),
          ...Object.fromEntries(Object.entries(o.ruleFiles).map(([name, content]) => [name, stringify(content)])),
        },
      },
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: PROMETHEUS_NAME, labels },
        spec: {
          replicas: 1,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              serviceAccountName: PROMETHEUS_NAME,
              // The image's USER is `nobody` by name, which runAsNonRoot cannot check: the same user by number.
              securityContext: { runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534, fsGroup: 65534 },
              containers: [
                {
                  name: 'prometheus',
                  image: IMAGE_REFS.prometheus,
                  imagePullPolicy: 'Never',
                  args: ['--config.file=/etc/prometheus/prometheus.yml', '--storage.tsdb.path=/prometheus'],
                  ports: [{ name: 'web', containerPort: 9090 }],
                  readinessProbe: { httpGet: { path: '/-/ready', port: 'web' }, periodSeconds: 2 },
                  securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
                  volumeMounts: [
                    { name: 'config', mountPath: '/etc/prometheus' },
                    { name: 'data', mountPath: '/prometheus' },
                  ],
                },
              ],
              volumes: [
                { name: 'config', configMap: { name: `${PROMETHEUS_NAME}-config` } },
                { name: 'data', emptyDir: {} },
              ],
            },
          },
        },
      },
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: PROMETHEUS_NAME },
        spec: { selector: labels, ports: [{ name: 'web', port: 9090, targetPort: 'web' }] },
      },
    ],
    namespace,
  );
  await waitForPodsReady(namespace, `app=${PROMETHEUS_NAME}`, 1);
}

/** The Roles in other namespaces than Prometheus' own (its namespace's go with the namespace). */
export async function removeDiscoveryRbac(namespace: string, discovered: string[]): Promise<void> {
  for (const ns of discovered.filter((n) => n !== namespace))
    await kubectl(['-n', ns, 'delete', 'role,rolebinding', `${PROMETHEUS_NAME}-${namespace}-discovery`, '--ignore-not-found'], {
      allowFailure: true,
    });
}

/**
 * GETs each API path (e.g. `/api/v1/query?query=...`) from the client pod, through Prometheus'
 * Service, in one `kubectl exec`; returns the parsed bodies in order.
 */
export async function prometheusGet(namespace: string, paths: string[]): Promise<any[]> {
  const base = `http://${PROMETHEUS_NAME}.${namespace}.svc:9090`;
  const script = `
    const paths = JSON.parse(require('fs').readFileSync(0, 'utf8'));
    (async () => {
      const out = [];
      for (const p of paths) {
        const res = await fetch(${JSON.stringify(base)} + p, { signal: AbortSignal.timeout(20000) });
        out.push(await res.json());
      }
      console.log(JSON.stringify(out));
    })().catch((e) => { console.error(String(e.cause ?? e)); process.exit(1); });`;
  return JSON.parse(await execIn(namespace, 'client', ['node', '-e', script], { input: JSON.stringify(paths) }));
}

/** Instant queries; each result is the series Prometheus returned, or the error it gave. */
export async function instantQueries(namespace: string, exprs: string[]): Promise<Array<{ series: any[]; error?: string }>> {
  const bodies = await prometheusGet(
    namespace,
    exprs.map((e) => `/api/v1/query?query=${encodeURIComponent(e)}`),
  );
  return bodies.map((b) => (b.status === 'success' ? { series: b.data.result } : { series: [], error: `${b.errorType}: ${b.error}` }));
}

/** One instant query's series; a query Prometheus refuses throws. */
export async function instantQuery(namespace: string, expr: string): Promise<any[]> {
  const [result] = await instantQueries(namespace, [expr]);
  if (!result || result.error) throw new Error(`${expr}: ${result?.error ?? 'no answer'}`);
  return result.series;
}
