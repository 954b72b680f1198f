/**
 * charts/huntmaster rendered by the harness-built helm (v3.22, told it is Kubernetes 1.35): lint,
 * every ci/ variant, the values contract (every value documented, the schema agreeing with values.yaml),
 * labels and selectors,
 * the CRD's single source, the operator Deployment, least-privilege RBAC, and the monitoring gates.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../operator/kube/client.ts';
import {
  chartReadme,
  chartSchema,
  keyPath,
  undocumentedValues,
  valueDocs,
  valueLeaves,
  type ValueDoc,
} from '../../../scripts/chart-docs.ts';
import { makeTempDir } from '../../harness/tempdir.ts';
import {
  CHART,
  ciValuesFiles,
  CRD_SOURCE,
  find,
  helm,
  helmDocs,
  HELM_TIMEOUT_MS,
  helmTemplateArgs,
  one,
  renderChart,
  run,
} from './support.ts';

let helmBin: string;
beforeAll(async () => {
  helmBin = await helm();
}, HELM_TIMEOUT_MS);

const render = (o: Parameters<typeof renderChart>[1] = {}) => renderChart(helmBin, o);
const SELECTOR_KEYS = ['app.kubernetes.io/component', 'app.kubernetes.io/instance', 'app.kubernetes.io/name'];
const LABEL_KEYS = [...SELECTOR_KEYS, 'app.kubernetes.io/managed-by', 'app.kubernetes.io/part-of', 'app.kubernetes.io/version'];

describe('Chart.yaml', () => {
  const chart = parse(readFileSync(join(CHART, 'Chart.yaml'), 'utf8'));

  it('is apiVersion v2 with kubeVersion, version and appVersion', () => {
    expect(chart.apiVersion).toBe('v2');
    expect(chart.kubeVersion).toBe('>=1.29.0-0');
    expect(chart.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(chart.appVersion).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('has the Artifact Hub annotations of an operator with its CRD', () => {
    const a = chart.annotations as Record<string, string>;
    expect(a['artifacthub.io/operator']).toBe('true');
    expect(a['artifacthub.io/license']).toBe('Apache-2.0');
    const crds = parse(a['artifacthub.io/crds']!) as Array<Record<string, string>>;
    const crd = parse(readFileSync(CRD_SOURCE, 'utf8'));
    expect(crds).toEqual([expect.objectContaining({ kind: 'HuntMasterPlatform', version: 'v1alpha1', name: crd.metadata.name })]);
    const examples = parse(a['artifacthub.io/crdsExamples']!) as KubeObject[];
    expect(examples[0]!.kind).toBe('HuntMasterPlatform');
    const images = parse(a['artifacthub.io/images']!) as Array<{ image: string }>;
    for (const { image } of images) expect(image.endsWith(`:${chart.appVersion}`), image).toBe(true);
  });
});

describe('helm lint --strict and helm template', () => {
  const variants = [undefined, ...ciValuesFiles()];
  it('has a ci/ values file for defaults, namespaced watch, monitoring and a platform', () => {
    expect(ciValuesFiles().map((f) => f.split('/').pop())).toEqual([
      'default-values.yaml',
      'monitoring-values.yaml',
      'namespaced-values.yaml',
      'platform-values.yaml',
    ]);
  });

  it.each(variants.map((f) => [f?.split('/').pop() ?? 'defaults', f]))('%s lints clean and renders', (_name, file) => {
    const lint = run(helmBin, ['lint', '--strict', CHART, ...(file ? ['-f', file] : [])]);
    expect(lint.status, lint.stdout + lint.stderr).toBe(0);
    expect(lint.stdout).toContain('0 chart(s) failed');
    const objects = render({ valuesFiles: file ? [file] : [] });
    expect(objects.length).toBeGreaterThan(5);
    for (const o of objects) {
      const labels = o.metadata.labels ?? {};
      expect(Object.keys(labels), `${o.kind}/${o.metadata.name}`).toEqual(expect.arrayContaining(LABEL_KEYS));
      expect(labels['app.kubernetes.io/part-of']).toBe('huntmaster');
      expect(o.metadata.name.length, o.metadata.name).toBeLessThanOrEqual(63);
    }
  });

  it('uses only name, instance and component in selectors', () => {
    for (const file of [undefined, ...ciValuesFiles()]) {
      const objects = render({ valuesFiles: file ? [file] : [] });
      const deployment = one(objects, 'Deployment');
      expect(Object.keys(deployment.spec.selector.matchLabels).sort()).toEqual(SELECTOR_KEYS);
      expect(deployment.spec.template.metadata.labels).toMatchObject(deployment.spec.selector.matchLabels);
      for (const svc of find(objects, 'Service')) expect(Object.keys((svc as any).spec.selector).sort()).toEqual(SELECTOR_KEYS);
      for (const sm of find(objects, 'ServiceMonitor'))
        expect(Object.keys((sm as any).spec.selector.matchLabels).sort()).toEqual(SELECTOR_KEYS);
    }
  });

  it('fails on a value outside the schema, at the root or nested, but accepts global', () => {
    for (const bad of ['bogus=1', 'operator.bogus=1', 'crds.enabled=maybe', 'replicaCount=-1', 'image.pullPolicy=Sometimes']) {
      const res = run(helmBin, helmTemplateArgs({ set: [bad] }));
      expect(res.status, bad).not.toBe(0);
      expect(res.stderr, bad).toMatch(/values don't meet the specifications of the schema|schema/);
    }
    expect(render({ set: ['global.imageRegistry=mirror.example', 'global.anything.nested=1'] }).length).toBeGreaterThan(0);
  });
});

describe('values.yaml', () => {
  const values = parse(readFileSync(join(CHART, 'values.yaml'), 'utf8'));
  const schema = JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8'));
  let docs: ValueDoc[];
  beforeAll(async () => {
    docs = valueDocs(await helmDocs(), CHART);
  }, HELM_TIMEOUT_MS);

  /** The schema node a values path leads to: a property, a free map's value schema, a list's items; `{}` (anything) below an open object. */
  function schemaAt(path: string[]): any {
    let node: any = schema;
    for (const key of path) {
      if (!node) return undefined;
      if (Object.keys(node).length === 0 || (node.type === 'object' && !node.properties && node.additionalProperties === undefined))
        return {};
      if (/^\[\d+\]$/.test(key)) node = node.items;
      else node = node.properties?.[key] ?? (typeof node.additionalProperties === 'object' ? node.additionalProperties : undefined);
    }
    return node;
  }
  const JSON_TYPES: Record<string, string[]> = {
    bool: ['boolean'],
    int: ['integer', 'number'],
    float: ['number'],
    string: ['string'],
    list: ['array'],
    object: ['object'],
  };
  const schemaTypes = (node: any): string[] => [node.type, ...(node.anyOf ?? []).map((a: any) => a.type)].filter(Boolean);

  it('documents every value with a `# --` comment, its own or one on the block around it, as helm-docs reads them', () => {
    expect(docs.length).toBeGreaterThan(40);
    expect(docs.filter((d) => !d.description.trim()).map((d) => d.key)).toEqual([]);
    expect(undocumentedValues(values, docs)).toEqual([]);
  });

  it('finds a value nobody documented, and a block comment documenting its keys', () => {
    expect(undocumentedValues({ a: { b: 1, c: [1] }, d: 2 }, [{ key: 'a.b', type: 'int', description: 'B.' }])).toEqual(['a.c', 'd']);
    expect(undocumentedValues({ a: { b: 1, c: { 'x.y': 2 } } }, [{ key: 'a', type: 'object', description: 'The block.' }])).toEqual([]);
    expect(keyPath('a."x.y"[0].b')).toEqual(['a', 'x.y', '[0]', 'b']);
  });

  it('agrees with values.schema.json on every key, type and description', () => {
    const missing = valueLeaves(values).filter((leaf) => schemaAt(leaf) === undefined);
    expect(
      missing.map((l) => l.join('.')),
      'keys the schema does not have',
    ).toEqual([]);
    for (const doc of docs) {
      const node = schemaAt(keyPath(doc.key));
      expect(node, doc.key).toBeDefined();
      expect(
        JSON_TYPES[doc.type]?.some((t) => schemaTypes(node).includes(t)),
        `${doc.key}: ${doc.type} vs ${schemaTypes(node)}`,
      ).toBe(true);
      const isProperty = keyPath(doc.key).every((_, i, p) => schemaAt(p.slice(0, i))?.properties?.[p[i]!] !== undefined);
      if (isProperty) expect(node.description, doc.key).toBe(doc.description);
    }
  });

  it('is described by a strict schema whose root allows global', () => {
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.global.type).toBe('object');
    const strictEverywhere = (s: any, path: string): string[] => {
      if (s.type !== 'object' || !s.properties) return [];
      const here = s.additionalProperties === false ? [] : [path];
      return [...here, ...Object.entries(s.properties).flatMap(([k, v]) => strictEverywhere(v, `${path}.${k}`))];
    };
    expect(strictEverywhere(schema, '$')).toEqual([]);
    expect(Object.keys(values).sort()).toEqual(Object.keys(schema.properties).sort());
    expect(Array.isArray(values.imagePullSecrets)).toBe(true);
  });

  it('regenerates the README and the schema descriptions from a changed comment', async () => {
    const dir = makeTempDir('chart-docs');
    cpSync(CHART, dir, { recursive: true });
    const file = join(dir, 'values.yaml');
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace('# -- Render the PodDisruptionBudget.', '# -- Render a PodDisruptionBudget, changed.'),
    );
    const bin = await helmDocs();
    expect(chartReadme(bin, dir)).toContain('| podDisruptionBudget.enabled | bool | `true` | Render a PodDisruptionBudget, changed. |');
    expect(JSON.parse(await chartSchema(bin, dir)).properties.podDisruptionBudget.properties.enabled.description).toBe(
      'Render a PodDisruptionBudget, changed.',
    );
  });
});

describe('the CRD', () => {
  const source = parse(readFileSync(CRD_SOURCE, 'utf8'));

  it('is rendered from the copy of crds/ in crds-src/, which is byte-identical to its source', () => {
    const copy = readFileSync(join(CHART, 'crds-src', 'platform.huntmaster.academy_huntmasterplatforms.yaml'), 'utf8');
    expect(copy, 'charts/huntmaster/crds-src is stale: run npm run manifests').toBe(readFileSync(CRD_SOURCE, 'utf8'));
    const crd = one(render(), 'CustomResourceDefinition');
    expect(isDeepStrictEqual(crd.spec, source.spec)).toBe(true);
    expect(crd.metadata.name).toBe(source.metadata.name);
  });

  it('is gated by crds.enabled and kept on uninstall when crds.keep', () => {
    expect(one(render(), 'CustomResourceDefinition').metadata.annotations['helm.sh/resource-policy']).toBe('keep');
    expect(
      one(render({ set: ['crds.keep=false'] }), 'CustomResourceDefinition').metadata.annotations?.['helm.sh/resource-policy'],
    ).toBeUndefined();
    expect(find(render({ set: ['crds.enabled=false'] }), 'CustomResourceDefinition')).toEqual([]);
  });

  it('carries the chart labels so Helm owns it', () => {
    const crd = one(render(), 'CustomResourceDefinition');
    expect(crd.metadata.labels['app.kubernetes.io/managed-by']).toBe('Helm');
    expect(crd.metadata.labels['app.kubernetes.io/component']).toBe('crd');
  });
});

describe('the operator Deployment', () => {
  const deployment = (o: Parameters<typeof renderChart>[1] = {}) => one(render(o), 'Deployment');
  const env = (d: any) => Object.fromEntries(d.spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value ?? e.valueFrom]));

  it('probes /livez and /readyz on 8080 and sets resources', () => {
    const c = deployment().spec.template.spec.containers[0];
    expect(c.ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
    expect(c.livenessProbe.httpGet).toEqual({ path: '/livez', port: 'http' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(c.resources.requests).toEqual({ cpu: '50m', memory: '128Mi' });
    expect(c.resources.limits.memory).toBeDefined();
    expect(c.image).toBe('ghcr.io/huntmaster-academy/operator:0.1.0');
  });

  it('meets the restricted Pod Security Standard', () => {
    const spec = deployment().spec.template.spec;
    const c = spec.containers[0];
    expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } });
    expect(c.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(c.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
  });

  it('passes the settings the operator reads, POD_NAMESPACE from the downward API', () => {
    const e = env(deployment());
    expect(e.POD_NAMESPACE).toEqual({ fieldRef: { fieldPath: 'metadata.namespace' } });
    expect(e).toMatchObject({
      WATCH_NAMESPACES: '',
      LEADER_ELECT: 'false',
      LEADER_ELECTION_ID: 'huntmaster-operator',
      MAX_CONCURRENT_RECONCILES: '2',
      HTTP_PORT: '8080',
      LOG_LEVEL: 'info',
    });
    const names = readFileSync(join(CHART, '../../operator/main.ts'), 'utf8');
    for (const key of Object.keys(e).filter((k) => k !== 'POD_NAMESPACE'))
      expect(names, `operator/main.ts reads ${key}`).toContain(`${key}:`);
  });

  it('elects a leader with more than one replica (rolling), and never overlaps two without one (Recreate)', () => {
    const single = deployment();
    expect(env(single).LEADER_ELECT).toBe('false');
    expect(single.spec.strategy).toEqual({ type: 'Recreate' });
    const two = deployment({ set: ['replicaCount=2'] });
    expect(env(two).LEADER_ELECT).toBe('true');
    expect(two.spec.strategy.type).toBe('RollingUpdate');
    expect(env(deployment({ set: ['leaderElection.enabled=true'] })).LEADER_ELECT).toBe('true');
  });

  it('watches the listed namespaces', () => {
    expect(env(deployment({ set: ['watchNamespaces={a,b}'] })).WATCH_NAMESPACES).toBe('a,b');
  });

  it('uses a digest over a tag, and the image command only when set', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(deployment({ set: [`image.digest=${digest}`] }).spec.template.spec.containers[0].image).toBe(
      `ghcr.io/huntmaster-academy/operator@${digest}`,
    );
    expect(deployment().spec.template.spec.containers[0].command).toBeUndefined();
  });
});

describe('operator availability and isolation', () => {
  const affinityOf = (set: string[] = []) => one(render({ set }), 'Deployment').spec.template.spec.affinity;
  const operatorSelector = {
    'app.kubernetes.io/name': 'huntmaster',
    'app.kubernetes.io/instance': 'huntmaster',
    'app.kubernetes.io/component': 'operator',
  };

  it('spreads more than one replica over nodes by default (soft anti-affinity on the hostname); the user affinity wins', () => {
    expect(affinityOf()).toBeUndefined(); // one replica: nothing to spread
    expect(affinityOf(['replicaCount=2'])).toEqual({
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          { weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: operatorSelector } } },
        ],
      },
    });
    expect(affinityOf(['replicaCount=3', 'operator.podAntiAffinityPreset=hard'])).toEqual({
      podAntiAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [
          { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: operatorSelector } },
        ],
      },
    });
    expect(affinityOf(['replicaCount=2', 'operator.podAntiAffinityPreset='])).toBeUndefined();
    expect(affinityOf(['replicaCount=2', 'operator.affinity.nodeAffinity.x=y'])).toEqual({ nodeAffinity: { x: 'y' } });
  });

  it('spreads the pods over nodes when the scheduler can, unless topologySpreadConstraints are given', () => {
    const spread = (set: string[] = []) => one(render({ set }), 'Deployment').spec.template.spec.topologySpreadConstraints;
    expect(spread()).toEqual([
      {
        maxSkew: 1,
        topologyKey: 'kubernetes.io/hostname',
        whenUnsatisfiable: 'ScheduleAnyway',
        labelSelector: { matchLabels: operatorSelector },
      },
    ]);
    expect(spread(['operator.topologySpreadConstraints[0].maxSkew=2', 'operator.topologySpreadConstraints[0].topologyKey=zone'])).toEqual([
      { maxSkew: 2, topologyKey: 'zone' },
    ]);
  });

  it('has a PodDisruptionBudget that never blocks a drain (maxUnavailable 1), switchable', () => {
    const pdb = one(render({ set: ['replicaCount=2'] }), 'PodDisruptionBudget');
    expect(pdb.spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: operatorSelector }, unhealthyPodEvictionPolicy: 'AlwaysAllow' });
    expect(render({ set: ['podDisruptionBudget.enabled=false'] }).filter((o) => o.kind === 'PodDisruptionBudget')).toEqual([]);
    expect(run(helmBin, helmTemplateArgs({ set: ['podDisruptionBudget.maxUnavailable=0'] })).status).not.toBe(0);
  });

  it('has a NetworkPolicy by default: metrics only from the named peers, egress only to DNS and the API server', () => {
    const policy = one(render(), 'NetworkPolicy');
    expect(policy.spec.podSelector).toEqual({ matchLabels: operatorSelector });
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy.spec.ingress).toEqual([
      {
        from: [{ namespaceSelector: {}, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } } }],
        ports: [{ port: 'http', protocol: 'TCP' }],
      },
    ]);
    expect(policy.spec.egress).toEqual([
      {
        to: [
          {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
            podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
          },
        ],
        ports: [
          { port: 53, protocol: 'UDP' },
          { port: 53, protocol: 'TCP' },
        ],
      },
      {
        ports: [
          { port: 443, protocol: 'TCP' },
          { port: 6443, protocol: 'TCP' },
        ],
      },
    ]);
    // The port named `http` is the container's only port: the one serving /metrics.
    expect(one(render(), 'Deployment').spec.template.spec.containers[0].ports.map((p: any) => p.name)).toEqual(['http']);
  });

  it('narrows the NetworkPolicy as the values say, or renders none', () => {
    const policy = one(
      render({
        set: [
          'networkPolicy.metricsFrom[0].namespaceSelector.matchLabels.team=observability',
          'networkPolicy.apiServer.cidrs={10.0.0.10/32}',
          'networkPolicy.apiServer.ports={6443}',
          'networkPolicy.extraEgress[0].to[0].ipBlock.cidr=192.0.2.10/32',
          'networkPolicy.extraEgress[0].ports[0].port=9000',
        ],
      }),
      'NetworkPolicy',
    );
    expect(policy.spec.ingress[0].from).toEqual([{ namespaceSelector: { matchLabels: { team: 'observability' } } }]);
    expect(policy.spec.egress.slice(1)).toEqual([
      { ports: [{ port: 6443, protocol: 'TCP' }], to: [{ ipBlock: { cidr: '10.0.0.10/32' } }] },
      { to: [{ ipBlock: { cidr: '192.0.2.10/32' } }], ports: [{ port: 9000 }] },
    ]);
    expect(one(render({ set: ['networkPolicy.metricsFrom=null'] }), 'NetworkPolicy').spec.ingress).toEqual([]);
    expect(render({ set: ['networkPolicy.enabled=false'] }).filter((o) => o.kind === 'NetworkPolicy')).toEqual([]);
  });
});

describe('RBAC', () => {
  const EXPECTED_RULES = [
    { apiGroups: ['platform.huntmaster.academy'], resources: ['huntmasterplatforms'], verbs: ['list', 'watch', 'patch'] },
    { apiGroups: ['platform.huntmaster.academy'], resources: ['huntmasterplatforms/status'], verbs: ['patch'] },
    { apiGroups: ['platform.huntmaster.academy'], resources: ['huntmasterplatforms/finalizers'], verbs: ['update'] },
    { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'] },
    { apiGroups: [''], resources: ['configmaps', 'services'], verbs: ['list', 'watch', 'create', 'patch', 'delete'] },
    { apiGroups: ['apps'], resources: ['deployments', 'statefulsets'], verbs: ['list', 'watch', 'create', 'patch', 'delete'] },
    { apiGroups: ['batch'], resources: ['jobs'], verbs: ['list', 'watch', 'create', 'delete'] },
    { apiGroups: ['batch'], resources: ['cronjobs'], verbs: ['list', 'watch', 'create', 'patch', 'delete'] },
    { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: ['list', 'watch', 'create', 'patch', 'delete'] },
    { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: ['list', 'watch', 'create', 'patch', 'delete'] },
    {
      apiGroups: ['networking.k8s.io'],
      resources: ['networkpolicies', 'ingresses'],
      verbs: ['list', 'watch', 'create', 'patch', 'delete'],
    },
    { apiGroups: [''], resources: ['persistentvolumeclaims'], verbs: ['get', 'list', 'patch', 'delete'] },
    { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
    { apiGroups: ['monitoring.coreos.com'], resources: ['servicemonitors', 'prometheusrules'], verbs: ['get', 'create', 'patch'] },
  ];

  it('grants the operator exactly what operator/ uses, cluster-wide by default, and nothing with *', () => {
    const objects = render();
    const role = one(objects, 'ClusterRole');
    expect(role.rules).toEqual(EXPECTED_RULES);
    expect(JSON.stringify(objects.filter((o) => /Role/.test(o.kind!)))).not.toContain('"*"');
    const binding = one(objects, 'ClusterRoleBinding');
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role.metadata.name });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'huntmaster-operator', namespace: 'huntmaster-system' }]);
    expect(one(objects, 'ServiceAccount').metadata.name).toBe('huntmaster-operator');
    expect(find(objects, 'Role'), 'no Lease access without leader election').toEqual([]);
  });

  it('names cluster-scoped objects after the release namespace, so releases never collide', () => {
    const a = one(render({ namespace: 'ns-a' }), 'ClusterRole').metadata.name;
    const b = one(render({ namespace: 'ns-b' }), 'ClusterRole').metadata.name;
    expect(a).not.toBe(b);
  });

  it('uses a Role and RoleBinding per watched namespace instead of a ClusterRole', () => {
    const objects = render({ set: ['watchNamespaces={team-a,team-b}'] });
    expect(find(objects, 'ClusterRole')).toEqual([]);
    expect(find(objects, 'ClusterRoleBinding')).toEqual([]);
    const roles = find(objects, 'Role') as any[];
    expect(roles.map((r) => r.metadata.namespace).sort()).toEqual(['team-a', 'team-b']);
    for (const r of roles) expect(r.rules).toEqual(EXPECTED_RULES);
    const bindings = find(objects, 'RoleBinding') as any[];
    expect(bindings.map((b) => [b.metadata.namespace, b.roleRef.name, b.subjects[0].namespace])).toEqual([
      ['team-a', 'huntmaster-operator', 'huntmaster-system'],
      ['team-b', 'huntmaster-operator', 'huntmaster-system'],
    ]);
  });

  it('grants the Lease, by name, only in the release namespace and only with leader election', () => {
    const objects = render({ set: ['replicaCount=2', 'leaderElection.leaseName=my-lease'] });
    const role = one(objects, 'Role');
    expect(role.metadata.namespace).toBe('huntmaster-system');
    expect(role.rules).toEqual([
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['my-lease'], verbs: ['get', 'update'] },
    ]);
    expect(one(objects, 'RoleBinding').roleRef.name).toBe(role.metadata.name);
  });

  it('renders no RBAC with rbac.create=false, and an existing ServiceAccount by name', () => {
    const objects = render({ set: ['rbac.create=false', 'serviceAccount.create=false', 'serviceAccount.name=theirs'] });
    expect(objects.filter((o) => /Role|ServiceAccount/.test(o.kind!))).toEqual([]);
    expect(one(objects, 'Deployment').spec.template.spec.serviceAccountName).toBe('theirs');
    expect(run(helmBin, helmTemplateArgs({ set: ['serviceAccount.create=false'] })).status).not.toBe(0);
  });
});

describe('monitoring', () => {
  it('renders ServiceMonitor, PrometheusRule and dashboards only when their values say so', () => {
    const off = render();
    expect(off.filter((o) => ['ServiceMonitor', 'PodMonitor', 'PrometheusRule'].includes(o.kind!))).toEqual([]);
    expect(find(off, 'ConfigMap')).toEqual([]);
    const on = render({ valuesFiles: [join(CHART, 'ci/monitoring-values.yaml')] });
    expect(find(on, 'ServiceMonitor')).toHaveLength(1);
    expect(find(on, 'PrometheusRule')).toHaveLength(1);
    expect(find(on, 'ConfigMap').length).toBeGreaterThanOrEqual(2);
    // Not gated by .Capabilities: `helm template` knows no monitoring.coreos.com API, and still renders them.
    const templates = ['servicemonitor.yaml', 'prometheusrule.yaml', 'dashboards.yaml'].map((f) =>
      readFileSync(join(CHART, 'templates', f), 'utf8'),
    );
    for (const t of templates) expect(t).not.toContain('.Capabilities');
  });

  it('labels them as configured (kube-prometheus-stack selects on release)', () => {
    const on = render({ valuesFiles: [join(CHART, 'ci/monitoring-values.yaml')] });
    expect(one(on, 'ServiceMonitor').metadata.labels.release).toBe('kube-prometheus-stack');
    expect(one(on, 'PrometheusRule').metadata.labels.release).toBe('kube-prometheus-stack');
    for (const cm of find(on, 'ConfigMap')) expect(cm.metadata.labels!.grafana_dashboard).toBe('1');
  });

  it('scrapes the operator metrics Service on /metrics, keeping the platform namespace label', () => {
    const on = render({ set: ['metrics.serviceMonitor.enabled=true'] });
    const sm = one(on, 'ServiceMonitor');
    const svc = one(on, 'Service');
    expect(svc.spec.ports).toEqual([{ name: 'http-metrics', port: 8080, targetPort: 'http', protocol: 'TCP' }]);
    expect(sm.spec.endpoints).toEqual([
      { port: 'http-metrics', path: '/metrics', interval: '30s', scrapeTimeout: '10s', honorLabels: true },
    ]);
    expect(sm.spec.selector.matchLabels).toEqual(svc.spec.selector);
    expect(
      run(helmBin, helmTemplateArgs({ set: ['metrics.serviceMonitor.enabled=true', 'metrics.service.enabled=false'] })).status,
    ).not.toBe(0);
  });

  it('alerts on target down, API 5xx ratio, API p99 latency, reconcile errors, work queue depth, platform readiness, event forwarding, dependencies and stale backups', () => {
    const rule = one(render({ valuesFiles: [join(CHART, 'ci/monitoring-values.yaml')] }), 'PrometheusRule');
    const rules = rule.spec.groups.flatMap((g: any) => g.rules);
    expect(rules.map((r: any) => r.alert).sort()).toEqual([
      'HuntMasterAnalyticsForwardingFailing',
      'HuntMasterApiErrorRatioHigh',
      'HuntMasterApiLatencyHigh',
      'HuntMasterDependencyDown',
      'HuntMasterOperatorDown',
      'HuntMasterOperatorReconcileErrors',
      'HuntMasterOperatorWorkqueueBacklog',
      'HuntMasterPlatformNotReady',
      'HuntMasterPostgresBackupStale',
      'HuntMasterTargetDown',
    ]);
    for (const r of rules) {
      expect(['critical', 'warning'], r.alert).toContain(r.labels.severity);
      expect(r.labels.team, 'additionalAlertLabels').toBe('platform');
      expect(r.annotations.summary, r.alert).toBeTruthy();
      expect(r.annotations.description, r.alert).toBeTruthy();
      expect(r.for, r.alert).toMatch(/^\d+m$/);
    }
    const expr = (name: string) => rules.find((r: any) => r.alert === name).expr as string;
    expect(expr('HuntMasterApiLatencyHigh')).toContain('histogram_quantile(0.99');
    expect(expr('HuntMasterApiErrorRatioHigh')).toContain('status_code=~"5.."');
    expect(expr('HuntMasterPlatformNotReady')).toContain('hma_platform_ready');
    expect(expr('HuntMasterDependencyDown')).toContain('hma_dependency_up');
    expect(expr('HuntMasterPostgresBackupStale')).toContain('hma_platform_last_backup_timestamp_seconds');
  });
});

describe('the platform and helm test', () => {
  it('renders a HuntMasterPlatform only with platform.enabled, its spec passed through', () => {
    expect(find(render(), 'HuntMasterPlatform')).toEqual([]);
    const objects = render({ valuesFiles: [join(CHART, 'ci/platform-values.yaml')] });
    const cr = one(objects, 'HuntMasterPlatform');
    expect(cr.metadata).toMatchObject({ name: 'huntmaster', namespace: 'huntmaster-system' });
    expect(cr.spec).toEqual(parse(readFileSync(join(CHART, 'ci/platform-values.yaml'), 'utf8')).platform.spec);
    expect(one(render({ set: ['platform.enabled=true'] }), 'HuntMasterPlatform').spec).toEqual({});
  });

  it('has a helm test hook, a Pod (so helm test --logs works), that calls /readyz on both APIs of the platform', () => {
    const pod = one(render({ set: ['platform.enabled=true', 'platform.name=demo'] }), 'Pod');
    expect(pod.metadata.annotations['helm.sh/hook']).toBe('test');
    // Kept after success, so helm test --logs can still read it; replaced on the next run.
    expect(pod.metadata.annotations['helm.sh/hook-delete-policy']).toBe('before-hook-creation');
    expect(pod.spec.restartPolicy).toBe('Never');
    const c = pod.spec.containers[0];
    expect(c.image).toBe('ghcr.io/huntmaster-academy/content-bridge:0.1.0');
    expect(c.command.slice(0, 3)).toEqual(['node', '--input-type=module', '-e']);
    expect(c.env[0].value.split(' ')).toEqual([
      'http://demo-content-bridge.huntmaster-system.svc:8090/readyz',
      'http://demo-ml-server.huntmaster-system.svc:8010/readyz',
    ]);
    expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
    expect(find(render({ set: ['platform.enabled=true', 'tests.enabled=false'] }), 'Pod')).toEqual([]);
    expect(find(render({ set: ['platform.enabled=true'] }), 'Job')).toEqual([]);
  });

  it("tests the platform's namespace from the release's, and renders nothing when there is no platform to test", () => {
    expect(find(render(), 'Pod')).toEqual([]);
    // The chart's platform in a namespace of its own: the CR goes there, the test calls it there. The
    // Pod stays in the release namespace, the only one `helm test --logs` reads logs from.
    const objects = render({ set: ['platform.enabled=true', 'platform.namespace=academy'] });
    expect(one(objects, 'HuntMasterPlatform').metadata.namespace).toBe('academy');
    const pod = one(objects, 'Pod');
    expect(pod.metadata.namespace).toBe('huntmaster-system');
    expect(pod.spec.containers[0].env[0].value).toBe(
      'http://huntmaster-content-bridge.academy.svc:8090/readyz http://huntmaster-ml-server.academy.svc:8010/readyz',
    );
    // A platform created with kubectl, as docs/operations.md does: named by tests.platformName and tests.platformNamespace.
    const readme = one(render({ set: ['tests.platformName=huntmaster', 'tests.platformNamespace=academy'] }), 'Pod');
    expect(readme.metadata.namespace).toBe('huntmaster-system');
    expect(readme.spec.containers[0].env[0].value).toContain('http://huntmaster-content-bridge.academy.svc:8090/readyz');
  });
});
