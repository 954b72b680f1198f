/**
 * The checks of kube-linter's default set and polaris's default configuration that apply to the
 * kinds this repository renders, evaluated in-process. Neither tool can be built here: the Go module
 * proxy refuses every version of both (see docs/testing.md, "kube-linter and polaris"), so these follow each check's own
 * definition (kube-linter pkg/builtinchecks, polaris pkg/config/checks) by name and rule, and honour
 * the tools' exemption annotations, so the same annotations silence the real tools:
 *   kube-linter: `ignore-check.kube-linter.io/<check>: "<reason>"`
 *   polaris:     `polaris.fairwinds.com/<check>-exempt: "true"`, with its reason in
 *                `huntmaster.academy/polaris-exempt-reason-<check>` (polaris has no reason field).
 */
import type { KubeObject } from '../../../operator/kube/client.ts';

export interface Finding {
  tool: 'kube-linter' | 'polaris';
  check: string;
  object: string;
  message: string;
}

export const POLARIS_REASON_PREFIX = 'huntmaster.academy/polaris-exempt-reason-';

type Obj = KubeObject & { spec?: any };
const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob', 'Pod']);
const LONG_RUNNING = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet']);

/** The pod spec and pod labels of a workload. */
export function podOf(o: Obj): { spec: any; labels: Record<string, string> } | undefined {
  if (o.kind === 'Pod') return { spec: o.spec, labels: o.metadata.labels ?? {} };
  if (o.kind === 'CronJob') {
    const t = o.spec?.jobTemplate?.spec?.template;
    return t ? { spec: t.spec, labels: t.metadata?.labels ?? {} } : undefined;
  }
  const t = o.spec?.template;
  return t && WORKLOADS.has(o.kind!) ? { spec: t.spec, labels: t.metadata?.labels ?? {} } : undefined;
}

const containersOf = (spec: any): any[] => [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])];
const matches = (selector: Record<string, string> | undefined, labels: Record<string, string>) =>
  Boolean(selector) && Object.entries(selector!).every(([k, v]) => labels[k] === v);
/** A full LabelSelector (matchLabels and matchExpressions); `{}` selects every pod. */
function selects(selector: any, labels: Record<string, string>): boolean {
  if (!selector) return false;
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const byExpressions = (selector.matchExpressions ?? []).every((e: { key: string; operator: string; values?: string[] }) => {
    const has = e.key in labels;
    if (e.operator === 'In') return has && e.values!.includes(labels[e.key]!);
    if (e.operator === 'NotIn') return !has || !e.values!.includes(labels[e.key]!);
    if (e.operator === 'Exists') return has;
    return !has; // DoesNotExist
  });
  return byLabels && byExpressions;
}
const id = (o: Obj) => `${o.kind}/${o.metadata.name}`;

export function isExempt(o: Obj, f: Finding): boolean {
  const a = o.metadata.annotations ?? {};
  return f.tool === 'kube-linter'
    ? Boolean(a[`ignore-check.kube-linter.io/${f.check}`]?.trim())
    : a[`polaris.fairwinds.com/${f.check}-exempt`] === 'true';
}

/** Exemption annotations without a reason. */
export function exemptionsWithoutReason(o: Obj): string[] {
  const a = o.metadata.annotations ?? {};
  const missing: string[] = [];
  for (const [key, value] of Object.entries(a)) {
    const kl = /^ignore-check\.kube-linter\.io\/(.+)$/.exec(key);
    if (kl && (value ?? '').trim().length < 10) missing.push(`${id(o)}: ${key} needs its reason as the value`);
    const po = /^polaris\.fairwinds\.com\/(.+)-exempt$/.exec(key);
    if (po && (a[`${POLARIS_REASON_PREFIX}${po[1]}`] ?? '').trim().length < 10)
      missing.push(`${id(o)}: ${key} needs ${POLARIS_REASON_PREFIX}${po[1]}`);
  }
  return missing;
}

/** Every finding over a set of objects rendered together, exemptions not yet applied. */
export function lint(objects: Obj[]): Finding[] {
  const findings: Finding[] = [];
  const add = (tool: Finding['tool'], check: string, o: Obj, message: string) => findings.push({ tool, check, object: id(o), message });
  const workloads = objects.filter((o) => podOf(o));

  for (const o of workloads) {
    const { spec, labels } = podOf(o)!;
    const pod = spec.securityContext ?? {};
    const longRunning = LONG_RUNNING.has(o.kind!);
    const replicas = o.spec?.replicas ?? 1;
    for (const [field, kl, po] of [
      ['hostNetwork', 'host-network', 'hostNetworkSet'],
      ['hostPID', 'host-pid', 'hostPIDSet'],
      ['hostIPC', 'host-ipc', 'hostIPCSet'],
    ] as const) {
      if (spec[field]) {
        add('kube-linter', kl, o, `${field} is set`);
        add('polaris', po, o, `${field} is set`);
      }
    }
    for (const v of spec.volumes ?? []) {
      if (v.hostPath) {
        add('kube-linter', 'sensitive-host-mounts', o, `hostPath volume ${v.name}`);
        add('polaris', 'hostPathSet', o, `hostPath volume ${v.name}`);
      }
    }
    if (spec.automountServiceAccountToken !== false)
      add('polaris', 'automountServiceAccountToken', o, 'the ServiceAccount token is mounted');
    if (!spec.priorityClassName) add('polaris', 'priorityClassNotSet', o, 'no priorityClassName');
    if (longRunning) {
      if (!spec.topologySpreadConstraints?.length) add('polaris', 'topologySpreadConstraint', o, 'no topologySpreadConstraints');
      if (o.kind === 'Deployment' && replicas < 2) add('polaris', 'deploymentMissingReplicas', o, `replicas ${replicas}`);
      if (o.metadata.labels?.['app.kubernetes.io/instance'] !== o.metadata.name)
        add('polaris', 'metadataAndInstanceMismatched', o, 'app.kubernetes.io/instance differs from metadata.name');
      // kube-linter no-anti-affinity: with 2+ replicas, an anti-affinity term that selects the pods.
      const terms = [
        ...(spec.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []),
        ...(spec.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((t: any) => t.podAffinityTerm),
      ];
      if (replicas >= 2 && !terms.some((t) => t?.topologyKey === 'kubernetes.io/hostname' && matches(t.labelSelector?.matchLabels, labels)))
        add('kube-linter', 'no-anti-affinity', o, `${replicas} replicas without pod anti-affinity on kubernetes.io/hostname`);
      // polaris missingPodDisruptionBudget / missingNetworkPolicy: some object in the render selects the pods.
      const selects = (kind: string, path: (x: Obj) => Record<string, string> | undefined) =>
        objects.some((x) => x.kind === kind && x.metadata.namespace === o.metadata.namespace && matches(path(x), labels));
      if (!selects('PodDisruptionBudget', (x) => x.spec?.selector?.matchLabels))
        add('polaris', 'missingPodDisruptionBudget', o, 'no PDB selects it');
      // kube-linter mismatching-selector
      if (o.spec?.selector?.matchLabels && !matches(o.spec.selector.matchLabels, labels))
        add('kube-linter', 'mismatching-selector', o, 'the selector does not match the pod template labels');
    }
    const selectedByPolicy = objects.some(
      (x) => x.kind === 'NetworkPolicy' && x.metadata.namespace === o.metadata.namespace && selects(x.spec?.podSelector, labels),
    );
    if (!selectedByPolicy) add('polaris', 'missingNetworkPolicy', o, 'no NetworkPolicy selects it');
    if (o.kind === 'Job' && o.spec?.ttlSecondsAfterFinished === undefined)
      add('kube-linter', 'job-ttl-seconds-after-finished', o, 'a standalone Job without ttlSecondsAfterFinished');
    if (o.kind === 'CronJob' && o.spec?.jobTemplate?.spec?.ttlSecondsAfterFinished !== undefined)
      add('kube-linter', 'job-ttl-seconds-after-finished', o, 'a CronJob whose Jobs set ttlSecondsAfterFinished');

    for (const c of containersOf(spec)) {
      const where = `container ${c.name}`;
      const sc = c.securityContext ?? {};
      const nonRoot = sc.runAsNonRoot ?? pod.runAsNonRoot;
      const user = sc.runAsUser ?? pod.runAsUser;
      if (!(nonRoot === true || (user !== undefined && user > 0))) {
        add('kube-linter', 'run-as-non-root', o, `${where} may run as root`);
        add('polaris', 'runAsRootAllowed', o, `${where} may run as root`);
      }
      if (sc.readOnlyRootFilesystem !== true) {
        add('kube-linter', 'no-read-only-root-fs', o, `${where} has a writable root filesystem`);
        add('polaris', 'notReadOnlyRootFilesystem', o, `${where} has a writable root filesystem`);
      }
      if (sc.allowPrivilegeEscalation !== false) {
        add('kube-linter', 'privilege-escalation-container', o, `${where} allows privilege escalation`);
        add('polaris', 'privilegeEscalationAllowed', o, `${where} allows privilege escalation`);
      }
      if (sc.privileged) {
        add('kube-linter', 'privileged-container', o, `${where} is privileged`);
        add('polaris', 'runAsPrivileged', o, `${where} is privileged`);
      }
      const dropped: string[] = sc.capabilities?.drop ?? [];
      if (!dropped.includes('ALL') && !dropped.includes('NET_RAW'))
        add('kube-linter', 'drop-net-raw-capability', o, `${where} keeps NET_RAW`);
      if (!dropped.includes('ALL')) add('polaris', 'insecureCapabilities', o, `${where} does not drop ALL capabilities`);
      if ((sc.capabilities?.add ?? []).some((cap: string) => ['ALL', 'SYS_ADMIN', 'NET_ADMIN'].includes(cap)))
        add('polaris', 'dangerousCapabilities', o, `${where} adds a dangerous capability`);
      const seccomp = sc.seccompProfile ?? pod.seccompProfile;
      if (!seccomp && !dropped.includes('ALL'))
        add('polaris', 'linuxHardening', o, `${where} has no seccomp profile and keeps capabilities`);
      const image: string = c.image ?? '';
      if (!image.includes('@') && (/:latest$/.test(image) || !/:[^/]+$/.test(image))) {
        add('kube-linter', 'latest-tag', o, `${where} image ${image} has no pinned tag`);
        add('polaris', 'tagNotSpecified', o, `${where} image ${image} has no pinned tag`);
      }
      if (c.imagePullPolicy !== 'Always') add('polaris', 'pullPolicyNotAlways', o, `${where} pulls ${c.imagePullPolicy ?? 'by default'}`);
      const r = c.resources ?? {};
      if (!r.requests?.cpu) {
        add('kube-linter', 'unset-cpu-requirements', o, `${where} has no CPU request`);
        add('polaris', 'cpuRequestsMissing', o, `${where} has no CPU request`);
      }
      if (!r.requests?.memory) add('polaris', 'memoryRequestsMissing', o, `${where} has no memory request`);
      if (!r.limits?.memory) {
        add('kube-linter', 'unset-memory-requirements', o, `${where} has no memory limit`);
        add('polaris', 'memoryLimitsMissing', o, `${where} has no memory limit`);
      }
      if (!r.limits?.cpu) add('polaris', 'cpuLimitsMissing', o, `${where} has no CPU limit`);
      if (longRunning && !c.readinessProbe) add('polaris', 'readinessProbeMissing', o, `${where} has no readiness probe`);
      if (longRunning && !c.livenessProbe) add('polaris', 'livenessProbeMissing', o, `${where} has no liveness probe`);
      for (const p of c.ports ?? []) {
        if (p.hostPort) add('polaris', 'hostPortSet', o, `${where} binds host port ${p.hostPort}`);
        if (p.containerPort === 22) add('kube-linter', 'ssh-port', o, `${where} exposes port 22`);
        if (p.name && !/^(?=.{1,15}$)(?=.*[a-z])[a-z0-9]+(-[a-z0-9]+)*$/.test(p.name))
          add('kube-linter', 'invalid-target-ports', o, `${where} port name ${p.name}`);
      }
      const portNames = new Set((c.ports ?? []).map((p: any) => p.name));
      const portNumbers = new Set((c.ports ?? []).map((p: any) => p.containerPort));
      for (const [probe, check] of [
        ['livenessProbe', 'liveness-port'],
        ['readinessProbe', 'readiness-port'],
        ['startupProbe', 'startup-port'],
      ] as const) {
        const port = c[probe]?.httpGet?.port ?? c[probe]?.tcpSocket?.port;
        if (port !== undefined && !(typeof port === 'string' ? portNames.has(port) : portNumbers.has(port)))
          add('kube-linter', check, o, `${where} ${probe} port ${port} is not a container port`);
      }
      const names = new Set<string>();
      for (const e of c.env ?? []) {
        if (names.has(e.name)) add('kube-linter', 'duplicate-env-var', o, `${where} sets ${e.name} twice`);
        names.add(e.name);
        if (/secret/i.test(e.name) && e.value) add('kube-linter', 'env-var-secret', o, `${where} ${e.name} holds a literal value`);
        if (/password|token|bearer|secret/i.test(e.name) && e.value !== undefined)
          add('polaris', 'sensitiveContainerEnvVar', o, `${where} ${e.name} holds a literal value`);
      }
    }
  }

  for (const pdb of objects.filter((o) => o.kind === 'PodDisruptionBudget')) {
    if (!pdb.spec?.unhealthyPodEvictionPolicy)
      add('kube-linter', 'pdb-unhealthy-pod-eviction-policy', pdb, 'unhealthyPodEvictionPolicy is not set');
    if (pdb.spec?.maxUnavailable === 0 || pdb.spec?.maxUnavailable === '0%') {
      add('kube-linter', 'pdb-max-unavailable', pdb, 'maxUnavailable 0 blocks every disruption');
      add('polaris', 'pdbDisruptionsIsZero', pdb, 'maxUnavailable 0');
    }
    for (const w of workloads.filter(
      (x) => x.metadata.namespace === pdb.metadata.namespace && matches(pdb.spec?.selector?.matchLabels, podOf(x)!.labels),
    )) {
      if (typeof pdb.spec?.minAvailable === 'number' && pdb.spec.minAvailable >= (w.spec?.replicas ?? 1))
        add('kube-linter', 'pdb-min-available', pdb, `minAvailable ${pdb.spec.minAvailable} blocks every disruption of ${id(w)}`);
    }
  }
  for (const svc of objects.filter((o) => o.kind === 'Service' && o.spec?.selector)) {
    const selected = workloads.some((w) => w.metadata.namespace === svc.metadata.namespace && matches(svc.spec.selector, podOf(w)!.labels));
    if (!selected) add('kube-linter', 'dangling-service', svc, 'selects no pod of the render');
  }
  for (const cm of objects.filter((o) => o.kind === 'ConfigMap')) {
    for (const key of Object.keys((cm as any).data ?? {}))
      if (/password|token|bearer|secret/i.test(key)) add('polaris', 'sensitiveConfigmapContent', cm, `key ${key}`);
  }
  return findings;
}
