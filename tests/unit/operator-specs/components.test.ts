/** Focused behaviour of the builders: what is in the desired state for which spec. */
import { describe, expect, it } from 'vitest';
import { apiDeployment } from '../../../operator/specs/api-deployments.ts';
import { BACKUP_COMMAND, BACKUP_FILE } from '../../../operator/specs/backup.ts';
import { ANNOTATIONS, MIGRATION_COMMAND } from '../../../operator/specs/constants.ts';
import { prepare } from '../../../operator/specs/context.ts';
import { applyDefaults, OPERATOR_OWNED_POSTGRES_SETTINGS, SpecError } from '../../../operator/specs/defaults.ts';
import { desiredChildren, desiredVolumes } from '../../../operator/specs/desired.ts';
import { configHash } from '../../../operator/specs/hash.ts';
import { postgresArgs, postgresInitScript } from '../../../operator/specs/postgres.ts';
import type { HuntMasterPlatform, Child, PlatformSpec } from '../../../operator/specs/types.ts';
import { externalCr, fullCtx, fullSpec, minimalCr, minimalCtx, platform } from './fixtures.ts';
import { podSpecs } from './render.ts';

const ids = (objects: Child[]) => objects.map((o) => `${o.kind}/${o.metadata.name}`);
const build = (spec: PlatformSpec, ctx = minimalCtx) => desiredChildren(platform(spec), ctx);
const find = (objects: Child[], kind: string, name: string): any => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`${kind}/${name} not in ${ids(objects).join(', ')}`);
  return found;
};
const envOf = (o: any, container = 0): Record<string, any> =>
  Object.fromEntries(o.spec.template.spec.containers[container].env.map((e: any) => [e.name, e.value ?? e.valueFrom]));

describe('switched-off components are absent', () => {
  it('the minimal CR has no monitoring, management, or dashboard objects', () => {
    const list = ids(build({}).objects);
    expect(list.filter((id) => /ServiceMonitor|PrometheusRule|adminer|redis-commander|dashboard/.test(id))).toEqual([]);
  });

  it('networkPolicy.enabled false removes every NetworkPolicy', () => {
    expect(ids(build({}).objects).some((id) => id.startsWith('NetworkPolicy/'))).toBe(true);
    expect(ids(build({ networkPolicy: { enabled: false } }).objects).some((id) => id.startsWith('NetworkPolicy/'))).toBe(false);
  });

  it('a disabled PodDisruptionBudget is absent, the other stays', () => {
    const list = ids(build({ mlServer: { podDisruptionBudget: { enabled: false } } }).objects);
    expect(list).toContain('PodDisruptionBudget/demo-content-bridge');
    expect(list).not.toContain('PodDisruptionBudget/demo-ml-server');
  });

  it('management tools appear only when enabled', () => {
    const list = ids(build({ management: { adminer: { enabled: true } } }).objects);
    expect(list).toEqual(expect.arrayContaining(['Deployment/demo-adminer', 'Service/demo-adminer', 'NetworkPolicy/demo-adminer']));
    expect(list.some((id) => id.includes('redis-commander'))).toBe(false);
  });

  it('dashboards need both the switch and dashboards from the operator', () => {
    expect(
      ids(build({ monitoring: { grafanaDashboards: { enabled: false } } }, fullCtx).objects).some((id) => id.includes('dashboard')),
    ).toBe(false);
    const on = build({ monitoring: { grafanaDashboards: { enabled: true } } }, fullCtx).objects;
    const cm = find(on, 'ConfigMap', 'demo-dashboard-platform-overview');
    expect(cm.metadata.labels.grafana_dashboard).toBe('1');
    // The given dashboard, under a uid and title of the platform's own (dashboards.test.ts).
    const given = JSON.parse(fullCtx.dashboards!['platform-overview.json']!);
    expect(JSON.parse(cm.data['platform-overview.json'])).toMatchObject({ ...given, title: `${given.title} (hunting/demo)` });
    const none = build({ monitoring: { grafanaDashboards: { enabled: true } } }, minimalCtx);
    expect(none.skipped).toEqual([expect.objectContaining({ reason: 'NoDashboards' })]);
  });
});

describe('external mode', () => {
  const { objects, generatedSecretNames } = desiredChildren(externalCr, minimalCtx);

  it('builds no StatefulSet, data Service, init ConfigMap or bucket Job', () => {
    expect(objects.filter((o) => o.kind === 'StatefulSet')).toEqual([]);
    expect(ids(objects).filter((id) => /postgres|redis|minio/.test(id))).toEqual([]);
  });

  it('generates no Secret for what the user supplies', () => {
    expect(generatedSecretNames).toEqual(['academy-service-tokens']);
  });

  it("wires the APIs and the migration Job to the user's Secrets", () => {
    for (const name of ['academy-content-bridge', 'academy-ml-server']) {
      const env = envOf(find(objects, 'Deployment', name));
      expect(env.DATABASE_URL).toEqual({ secretKeyRef: { name: 'academy-db', key: 'DATABASE_URL' } });
      expect(env.REDIS_URL).toEqual({ secretKeyRef: { name: 'academy-redis', key: 'REDIS_URL' } });
      expect(env.S3_ACCESS_KEY).toEqual({ secretKeyRef: { name: 'academy-s3', key: 'accessKey' } });
      expect(env.S3_SECRET_KEY).toEqual({ secretKeyRef: { name: 'academy-s3', key: 'secretKey' } });
      expect(env.S3_ENDPOINT).toBe('https://s3.eu-central-1.amazonaws.com');
      expect(env.S3_REGION).toBe('eu-central-1');
      expect(env.S3_BUCKET).toBe('academy-media');
      expect(env.JWT_SECRET).toEqual({ secretKeyRef: { name: 'academy-jwt', key: 'hmac' } });
    }
    const ml = envOf(find(objects, 'Deployment', 'academy-ml-server'));
    expect(ml.ML_READONLY_DATABASE_URL).toEqual({ secretKeyRef: { name: 'academy-db', key: 'DATABASE_READ_ONLY_URL', optional: true } });
    const migrate = envOf(find(objects, 'Job', 'academy-migrate-0-1-0'));
    expect(migrate.DATABASE_URL).toEqual({ secretKeyRef: { name: 'academy-db', key: 'DATABASE_URL' } });
  });

  it('limits the network policies to the APIs and the migration Job (which admits nothing)', () => {
    expect(ids(objects).filter((id) => id.startsWith('NetworkPolicy/'))).toEqual([
      'NetworkPolicy/academy-content-bridge',
      'NetworkPolicy/academy-ml-server',
      'NetworkPolicy/academy-migrations',
    ]);
  });

  it('rejects external mode without a Secret, as the CRD would', () => {
    expect(() => build({ postgres: { mode: 'external' } })).toThrow(SpecError);
  });

  it('rejects a token TTL that is not a duration while resolving the spec, so the reconciler reports it before writing', () => {
    expect(() => applyDefaults({ auth: { accessTokenTTL: 'forever' } })).toThrow(/invalid duration "forever"/);
  });
});

describe('PostgreSQL parameters', () => {
  const container = (spec: PlatformSpec) => find(build(spec).objects, 'StatefulSet', 'demo-postgres').spec.template.spec.containers[0];

  it('start the server with -c name=value after its command, sorted by name, and change nothing without them', () => {
    const given = { work_mem: '16MB', shared_buffers: '512MB', 'auto_explain.log_min_duration': '250ms' };
    expect(container({ postgres: { parameters: given } }).args).toEqual([
      'postgres',
      '-c',
      'auto_explain.log_min_duration=250ms',
      '-c',
      'shared_buffers=512MB',
      '-c',
      'work_mem=16MB',
    ]);
    expect(postgresArgs({})).toEqual(['postgres']);
    // No parameters: the image's own command, as before the field existed (no restart on upgrade).
    expect(container({}).args).toBeUndefined();
    expect(container({ postgres: { parameters: {} } }).args).toBeUndefined();
  });

  it('refuse the settings the operator owns, names that are not settings, control characters and external mode', () => {
    for (const owned of OPERATOR_OWNED_POSTGRES_SETTINGS) {
      expect(() => build({ postgres: { parameters: { [owned]: 'x' } } })).toThrow(new RegExp(`may not set ${owned}`));
    }
    expect(() => build({ postgres: { parameters: { 'Shared Buffers': '1GB', 'x=y': '1' } } })).toThrow(
      /"Shared Buffers", "x=y" are not setting names/,
    );
    expect(() => build({ postgres: { parameters: { work_mem: '16MB\n-c port=1' } } })).toThrow(/work_mem holds a control character/);
    expect(() =>
      build({ postgres: { mode: 'external', external: { secretRef: { name: 'db' } }, parameters: { work_mem: '16MB' } } }),
    ).toThrow(/apply only to mode managed/);
  });
});

describe('config hash', () => {
  const template = (hash: string) => apiDeployment(prepare(minimalCr, { configHash: hash }), 'contentBridge').spec!.template;

  it('goes into the pod template annotation of both APIs', () => {
    const hash = configHash({ 'Secret/demo-jwt': { 'signing-key': 'a' } });
    for (const name of ['demo-content-bridge', 'demo-ml-server']) {
      const d = find(desiredChildren(minimalCr, { configHash: hash }).objects, 'Deployment', name);
      expect(d.spec.template.metadata.annotations[ANNOTATIONS.configHash]).toBe(hash);
    }
  });

  it('rotating a referenced secret changes the pod template (so the pods roll) and nothing else', () => {
    const before = configHash({ 'Secret/demo-jwt': { 'signing-key': 'old' } });
    const after = configHash({ 'Secret/demo-jwt': { 'signing-key': 'new' } });
    expect(after).not.toBe(before);
    const a = template(before);
    const b = template(after);
    expect(b).not.toEqual(a);
    expect({ ...b, metadata: { ...b.metadata, annotations: {} } }).toEqual({ ...a, metadata: { ...a.metadata, annotations: {} } });
  });

  it('does not restart the data services or rewrite Jobs (their templates ignore it)', () => {
    const one = desiredChildren(minimalCr, { configHash: 'one' }).objects.filter((o) => o.kind === 'StatefulSet' || o.kind === 'Job');
    const two = desiredChildren(minimalCr, { configHash: 'two' }).objects.filter((o) => o.kind === 'StatefulSet' || o.kind === 'Job');
    expect(two).toEqual(one);
  });
});

describe('monitoring', () => {
  const spec: PlatformSpec = { monitoring: { serviceMonitor: { enabled: true }, prometheusRule: { enabled: true } } };

  it('is skipped with a note when the monitoring.coreos.com CRDs are missing', () => {
    const d = build(spec, { configHash: 'x', capabilities: { serviceMonitor: false, prometheusRule: false } });
    expect(d.objects.filter((o) => o.apiVersion.startsWith('monitoring.coreos.com'))).toEqual([]);
    expect(d.skipped.map((s) => s.kind)).toEqual(['ServiceMonitor', 'PrometheusRule']);
    for (const note of d.skipped) {
      expect(note.reason).toBe('CRDMissing');
      expect(note.message).toContain('skipped because monitoring.coreos.com CRDs are missing');
    }
  });

  it('is built when enabled and the CRDs exist; then the pods lose the scrape annotations', () => {
    const d = build(spec, { configHash: 'x', capabilities: { serviceMonitor: true, prometheusRule: true } });
    expect(d.skipped).toEqual([]);
    expect(ids(d.objects)).toEqual(expect.arrayContaining(['ServiceMonitor/demo-apis', 'PrometheusRule/demo-alerts']));
    const annotations = find(d.objects, 'Deployment', 'demo-content-bridge').spec.template.metadata.annotations;
    expect(annotations['prometheus.io/scrape']).toBeUndefined();
    expect(find(build({}).objects, 'Deployment', 'demo-content-bridge').spec.template.metadata.annotations['prometheus.io/scrape']).toBe(
      'true',
    );
  });

  it('the ServiceMonitor selects exactly the two API Services', () => {
    const d = build(spec, { configHash: 'x', capabilities: { serviceMonitor: true, prometheusRule: true } });
    const selector = find(d.objects, 'ServiceMonitor', 'demo-apis').spec.selector.matchLabels;
    const selected = d.objects.filter(
      (o) => o.kind === 'Service' && Object.entries(selector).every(([k, v]) => o.metadata.labels[k] === v),
    );
    expect(ids(selected)).toEqual(['Service/demo-content-bridge', 'Service/demo-ml-server']);
  });
});

describe('suspend', () => {
  const { objects } = build({ ...fullSpec, suspend: true }, fullCtx);

  it('scales every workload to zero and runs no Jobs', () => {
    const workloads = objects.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet') as any[];
    expect(workloads.length).toBe(7);
    for (const w of workloads) expect(w.spec.replicas, w.metadata.name).toBe(0);
    expect(objects.filter((o) => o.kind === 'Job')).toEqual([]);
  });

  it('keeps the Services, PDBs and the rest; drops the autoscalers (they cannot hold zero) and the Jobs with their NetworkPolicies', () => {
    const normal = ids(build(fullSpec, fullCtx).objects).filter(
      (id) =>
        !id.startsWith('Job/') &&
        !id.startsWith('HorizontalPodAutoscaler/') &&
        !/^NetworkPolicy\/demo-(migrations|minio-bucket-init)$/.test(id),
    );
    expect(ids(objects)).toEqual(normal);
  });
});

describe('migrations', () => {
  const job = (cr: HuntMasterPlatform): any =>
    desiredChildren(cr, minimalCtx).objects.find((o) => o.kind === 'Job' && o.metadata.name.includes('-migrate-'));

  it('one Job per version, named after it, running the Content Bridge image', () => {
    const a = job(platform({ version: '1.2.0' }));
    const b = job(platform({ version: '1.3.0-rc.1' }));
    expect(a.metadata.name).toBe('demo-migrate-1-2-0');
    expect(b.metadata.name).toMatch(/^demo-migrate-1-3-0-rc-1-[0-9a-f]{6}$/);
    const container = a.spec.template.spec.containers[0];
    expect(container.image).toBe('ghcr.io/huntmaster-academy/content-bridge:1.2.0');
    expect(container.command).toEqual([...MIGRATION_COMMAND]);
  });

  it('has no TTL (the reconciler must see the finished Job) and is marked create-only', () => {
    const j = job(minimalCr);
    expect(j.spec.ttlSecondsAfterFinished).toBeUndefined();
    expect(j.spec.backoffLimit).toBeGreaterThan(0);
    expect(j.spec.template.spec.restartPolicy).toBe('Never');
    expect(j.metadata.annotations[ANNOTATIONS.createOnly]).toBe('true');
  });
});

describe('create-only Jobs record the hash of their spec, so the reconciler can replace a changed one', () => {
  const jobs = (spec: PlatformSpec): any[] => build(spec).objects.filter((o) => o.kind === 'Job');
  const hashes = (spec: PlatformSpec): Record<string, string> =>
    Object.fromEntries(jobs(spec).map((j) => [j.metadata.name, j.metadata.annotations[ANNOTATIONS.specHash]]));

  it('the same spec gives the same hash; a change to what a Job runs gives another, for that Job only', () => {
    const before = hashes({});
    expect(Object.values(before).every((h) => /^[0-9a-f]{16}$/.test(h))).toBe(true);
    expect(hashes({})).toEqual(before);
    const after = hashes({ images: { minioClient: 'quay.io/minio/mc:RELEASE.2025-09-01T00-00-00Z' } });
    const bucketJob = Object.keys(before).find((n) => n.startsWith('demo-minio-bucket-'))!;
    const migrationJob = Object.keys(before).find((n) => n.startsWith('demo-migrate-'))!;
    expect(after[bucketJob]).not.toBe(before[bucketJob]);
    expect(after[migrationJob]).toBe(before[migrationJob]);
  });
});

describe('scheduling', () => {
  const dedicated = { key: 'dedicated', operator: 'Equal', value: 'data', effect: 'NoSchedule' } as const;
  const spec: PlatformSpec = {
    ...fullSpec,
    scheduling: {
      nodeSelector: { pool: 'apps' },
      tolerations: [{ key: 'spot', operator: 'Exists' }],
      priorityClassName: 'academy-normal',
    },
    postgres: { ...fullSpec.postgres, scheduling: { nodeSelector: { pool: 'data' }, tolerations: [dedicated] } },
    mlServer: {
      ...fullSpec.mlServer,
      scheduling: { affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50, preference: {} }] } } },
    },
  };
  const { objects } = build(spec, fullCtx);
  const pods = new Map(objects.flatMap(podSpecs).map(({ where, spec: pod }) => [where, pod]));

  it('gives every pod the platform-wide fields it does not override', () => {
    expect(pods.size).toBe(9); // 2 APIs, 3 data services, 2 tools, 2 Jobs
    for (const [where, pod] of pods) {
      if (where.includes('postgres')) continue;
      expect(pod.nodeSelector, where).toEqual({ pool: 'apps' });
      expect(pod.tolerations, where).toEqual([{ key: 'spot', operator: 'Exists' }]);
      expect(pod.priorityClassName, where).toBe('academy-normal');
    }
  });

  it("replaces a platform field with the component's own, field by field", () => {
    const postgres = pods.get('StatefulSet/demo-postgres')!;
    expect(postgres.nodeSelector).toEqual({ pool: 'data' }); // replaced whole, not merged key by key
    expect(postgres.tolerations).toEqual([dedicated]);
    expect(postgres.priorityClassName).toBe('academy-normal');
    const ml = pods.get('Deployment/demo-ml-server')!;
    expect(ml.affinity).toEqual(spec.mlServer!.scheduling!.affinity);
    expect(ml.nodeSelector).toEqual({ pool: 'apps' });
    expect(pods.get('Deployment/demo-content-bridge')!.affinity).toBeUndefined();
  });

  it('runs the migration Job where the Content Bridge runs, and the bucket Job where MinIO runs', () => {
    const own: PlatformSpec = {
      contentBridge: { scheduling: { nodeSelector: { pool: 'web' } } },
      objectStorage: { scheduling: { nodeSelector: { pool: 'storage' } } },
    };
    const built = new Map(
      build(own)
        .objects.flatMap(podSpecs)
        .map(({ where, spec: pod }) => [where, pod]),
    );
    const selectorOf = (prefix: string) => [...built].find(([where]) => where.startsWith(prefix))![1].nodeSelector;
    expect(selectorOf('Job/demo-migrate-')).toEqual({ pool: 'web' });
    expect(selectorOf('Job/demo-minio-bucket-')).toEqual({ pool: 'storage' });
    expect(selectorOf('StatefulSet/demo-minio')).toEqual({ pool: 'storage' });
    expect(selectorOf('StatefulSet/demo-redis')).toBeUndefined();
  });

  it('adds no scheduling fields when none are set, and never shares objects with the spec', () => {
    for (const { where, spec: pod } of build({}).objects.flatMap(podSpecs)) {
      for (const field of ['nodeSelector', 'tolerations', 'affinity', 'priorityClassName'])
        expect(pod[field], `${where} ${field}`).toBeUndefined();
    }
    const postgres = pods.get('StatefulSet/demo-postgres')!;
    postgres.tolerations.push({ key: 'mutated' });
    expect(spec.postgres!.scheduling!.tolerations).toEqual([dedicated]);
  });
});

describe('managed data services', () => {
  const { objects } = desiredChildren(minimalCr, minimalCtx);

  it('PostgreSQL: pg_isready over TCP, init script mounted, PVC from storage, uid 999', () => {
    const sts = find(objects, 'StatefulSet', 'demo-postgres');
    const c = sts.spec.template.spec.containers[0];
    expect(c.readinessProbe.exec.command.slice(0, 3)).toEqual(['pg_isready', '--host', '127.0.0.1']);
    expect(c.volumeMounts).toContainEqual({ name: 'init', mountPath: '/docker-entrypoint-initdb.d', readOnly: true });
    expect(sts.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('10Gi');
    expect(sts.spec.template.spec.securityContext).toMatchObject({ runAsUser: 999, fsGroup: 999 });
    expect(sts.spec.persistentVolumeClaimRetentionPolicy.whenDeleted).toBe('Retain');
    expect(find(objects, 'Service', 'demo-postgres-headless').spec.clusterIP).toBe('None');
    expect(find(objects, 'ConfigMap', 'demo-postgres-init').data['10-huntmaster.sh']).toBe(postgresInitScript());
  });

  it('the init script creates the database, both roles and the three schemas, with no password in it', () => {
    const script = postgresInitScript();
    for (const needle of ['CREATE DATABASE :"db" OWNER :"app_user"', 'CREATE ROLE :"reader_user"', 'default_transaction_read_only = on']) {
      expect(script).toContain(needle);
    }
    for (const schema of ['users', 'content', 'ml'])
      expect(script).toContain(`CREATE SCHEMA IF NOT EXISTS ${schema} AUTHORIZATION :"app_user";`);
    expect(script).not.toMatch(/PASSWORD '[^:]/);
  });

  it('Redis: password from the Secret through $(REDIS_PASSWORD), append-only', () => {
    const c = find(objects, 'StatefulSet', 'demo-redis').spec.template.spec.containers[0];
    expect(c.args).toEqual(expect.arrayContaining(['--appendonly', 'yes', '--requirepass', '$(REDIS_PASSWORD)']));
    expect(envOf(find(objects, 'StatefulSet', 'demo-redis')).REDIS_PASSWORD).toEqual({
      secretKeyRef: { name: 'demo-redis-credentials', key: 'password' },
    });
  });

  it('MinIO: API and console ports, bucket Job per bucket name', () => {
    expect(find(objects, 'Service', 'demo-minio').spec.ports.map((p: any) => p.port)).toEqual([9000, 9001]);
    const job = objects.find((o) => o.kind === 'Job' && o.metadata.name.startsWith('demo-minio-bucket-')) as any;
    expect(job.spec.template.spec.containers[0].args).toContain('hma/huntmaster-storage');
    // mc honours --config-dir only before the subcommand; after it, mc tries $HOME/.mc on a read-only /.
    expect(job.spec.template.spec.containers[0].args).toEqual([
      '--config-dir',
      '/tmp/.mc',
      'mb',
      '--ignore-existing',
      'hma/huntmaster-storage',
    ]);
    const renamed = ids(build({ objectStorage: { bucket: 'other-bucket' } }).objects).find((id) => id.startsWith('Job/demo-minio-bucket-'));
    expect(renamed).not.toBe(`Job/${job.metadata.name}`);
  });

  it('deletionPolicy Delete makes the StatefulSets delete their PVCs', () => {
    const sts = build({ deletionPolicy: { persistentVolumeClaims: 'Delete' } }).objects.filter((o) => o.kind === 'StatefulSet') as any[];
    expect(sts.map((s) => s.spec.persistentVolumeClaimRetentionPolicy.whenDeleted)).toEqual(['Delete', 'Delete', 'Delete']);
  });
});

describe('API Deployments', () => {
  const { objects } = desiredChildren(platform(fullSpec), fullCtx);
  const cb = find(objects, 'Deployment', 'demo-content-bridge');
  const ml = find(objects, 'Deployment', 'demo-ml-server');

  it('probe /livez and /readyz, sleep before stopping, and expose a named http port', () => {
    const c = cb.spec.template.spec.containers[0];
    expect(c.startupProbe.httpGet).toEqual({ path: '/livez', port: 'http' });
    expect(c.livenessProbe.httpGet).toEqual({ path: '/livez', port: 'http' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(c.lifecycle).toEqual({ preStop: { sleep: { seconds: 5 } } });
    expect(find(objects, 'Service', 'demo-content-bridge').spec.ports).toEqual([
      { name: 'http', port: 8090, targetPort: 'http', protocol: 'TCP' },
    ]);
    expect(find(objects, 'Service', 'demo-ml-server').spec.ports[0].port).toBe(8010);
  });

  it('user env replaces ours by name and is otherwise appended', () => {
    const env = cb.spec.template.spec.containers[0].env.map((e: any) => e.name);
    expect(env.filter((n: string) => n === 'LOG_LEVEL')).toHaveLength(1);
    // PUBLIC_BASE_URL is also ours (from the Ingress host): the user's value takes its place.
    expect(env.filter((n: string) => n === 'PUBLIC_BASE_URL')).toHaveLength(1);
    expect(envOf(cb).PUBLIC_BASE_URL).toBe('https://www.academy.example.com');
    // ADMIN_PASSWORD is ours too (from the admin Secret): the user's reference replaces it in place.
    expect(env.filter((n: string) => n === 'ADMIN_PASSWORD')).toHaveLength(1);
    expect(envOf(cb).ADMIN_PASSWORD).toEqual({ secretKeyRef: { name: 'academy-admin', key: 'password' } });
    expect(env.slice(-1)).toEqual(['LOG_LEVEL']);
    expect(envOf(ml).LOG_LEVEL).toBe('info');
  });

  it('the Content Bridge creates its first admin from the admin Secret; the ML Server never sees it', () => {
    const env = envOf(find(build({}).objects, 'Deployment', 'demo-content-bridge'));
    expect(env.ADMIN_USERNAME).toEqual({ secretKeyRef: { name: 'demo-admin', key: 'username' } });
    expect(env.ADMIN_EMAIL).toEqual({ secretKeyRef: { name: 'demo-admin', key: 'email' } });
    expect(env.ADMIN_PASSWORD).toEqual({ secretKeyRef: { name: 'demo-admin', key: 'password' } });
    const mine = envOf(find(build({ auth: { adminSecretRef: { name: 'mine' } } }).objects, 'Deployment', 'demo-content-bridge'));
    expect(mine.ADMIN_USERNAME).toEqual({ secretKeyRef: { name: 'mine', key: 'username', optional: true } });
    expect(mine.ADMIN_EMAIL).toEqual({ secretKeyRef: { name: 'mine', key: 'email' } });
    expect(Object.keys(envOf(find(build({}).objects, 'Deployment', 'demo-ml-server'))).filter((n) => n.startsWith('ADMIN_'))).toEqual([]);
  });

  it('the ML Server knows the Content Bridge URL; JWT TTL is in seconds', () => {
    expect(envOf(ml).CONTENT_BRIDGE_URL).toBe('http://demo-content-bridge.hunting.svc:8090');
    expect(envOf(cb).JWT_ACCESS_TTL_SECONDS).toBe('5400');
    expect(envOf(cb).CONTENT_BRIDGE_URL).toBeUndefined();
  });

  it('uses spec.images over the version tag, and integer CPU quantities become strings', () => {
    expect(cb.spec.template.spec.containers[0].image).toBe('ghcr.io/huntmaster-academy/content-bridge:1.2.0');
    expect(ml.spec.template.spec.containers[0].image).toBe('registry.example.com/hma/ml-server:1.2.0-gpu');
    expect(ml.spec.template.spec.containers[0].resources.requests.cpu).toBe('1');
    expect(cb.spec.template.spec.imagePullSecrets).toEqual([{ name: 'registry-credentials' }]);
  });

  it('PDBs use the configured bound', () => {
    expect(find(objects, 'PodDisruptionBudget', 'demo-content-bridge').spec.minAvailable).toBe(2);
    expect(find(objects, 'PodDisruptionBudget', 'demo-ml-server').spec.maxUnavailable).toBe('50%');
    expect(find(build({}).objects, 'PodDisruptionBudget', 'demo-ml-server').spec.maxUnavailable).toBe(1);
  });
});

describe('autoscaling', () => {
  const autoscaling = { enabled: true, minReplicas: 3, maxReplicas: 12, targetCPUUtilizationPercentage: 60 };

  it('builds a HorizontalPodAutoscaler on CPU (and memory when asked) and leaves replicas to it', () => {
    const { objects } = build({
      contentBridge: { replicas: 5, autoscaling },
      mlServer: { autoscaling: { ...autoscaling, targetMemoryUtilizationPercentage: 80 } },
    });
    const hpa = find(objects, 'HorizontalPodAutoscaler', 'demo-content-bridge');
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec).toEqual({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'demo-content-bridge' },
      minReplicas: 3,
      maxReplicas: 12,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } }],
    });
    expect(find(objects, 'HorizontalPodAutoscaler', 'demo-ml-server').spec.metrics.map((m: any) => m.resource.name)).toEqual([
      'cpu',
      'memory',
    ]);
    const deployment = find(objects, 'Deployment', 'demo-content-bridge');
    expect('replicas' in deployment.spec).toBe(false); // whoever applies it owns it
    expect(deployment.metadata.annotations[ANNOTATIONS.autoscaled]).toBe('true');
  });

  it('is absent by default, and the Deployment then carries replicas and no annotation', () => {
    const { objects } = build({ contentBridge: { replicas: 4 } });
    expect(objects.filter((o) => o.kind === 'HorizontalPodAutoscaler')).toEqual([]);
    const deployment = find(objects, 'Deployment', 'demo-content-bridge');
    expect(deployment.spec.replicas).toBe(4);
    expect(deployment.metadata.annotations?.[ANNOTATIONS.autoscaled]).toBeUndefined();
  });

  it('gives way to suspend: no autoscaler (it cannot hold zero) and zero replicas', () => {
    const { objects } = build({ contentBridge: { autoscaling }, suspend: true });
    expect(objects.filter((o) => o.kind === 'HorizontalPodAutoscaler')).toEqual([]);
    expect(find(objects, 'Deployment', 'demo-content-bridge').spec.replicas).toBe(0);
  });

  it('rejects minReplicas above maxReplicas, as the CRD would', () => {
    expect(() => build({ mlServer: { autoscaling: { enabled: true, minReplicas: 5, maxReplicas: 4 } } })).toThrow(SpecError);
  });
});

describe('ingress', () => {
  const ingress = {
    enabled: true,
    className: 'nginx',
    annotations: { 'cert-manager.io/cluster-issuer': 'letsencrypt' },
    tls: { secretName: 'academy-tls' },
    contentBridge: { host: 'academy.example.com' },
    mlServer: { host: 'ml.academy.example.com' },
    objectStorage: { host: 'media.academy.example.com' },
  };

  it('routes each host to its Service, with the class, annotations and one TLS entry for every host', () => {
    const built = find(build({ ingress }).objects, 'Ingress', 'demo-ingress');
    expect(built.apiVersion).toBe('networking.k8s.io/v1');
    expect(built.metadata.annotations).toEqual({ 'cert-manager.io/cluster-issuer': 'letsencrypt' });
    expect(built.spec.ingressClassName).toBe('nginx');
    expect(built.spec.tls).toEqual([
      { hosts: ['academy.example.com', 'ml.academy.example.com', 'media.academy.example.com'], secretName: 'academy-tls' },
    ]);
    const routes = built.spec.rules.map((r: any) => [r.host, r.http.paths[0].path, r.http.paths[0].backend.service]);
    expect(routes).toEqual([
      ['academy.example.com', '/', { name: 'demo-content-bridge', port: { name: 'http' } }],
      ['ml.academy.example.com', '/', { name: 'demo-ml-server', port: { name: 'http' } }],
      ['media.academy.example.com', '/', { name: 'demo-minio', port: { name: 'api' } }],
    ]);
  });

  it('is absent by default, and serves only the hosts given', () => {
    expect(build({}).objects.filter((o) => o.kind === 'Ingress')).toEqual([]);
    const only = find(build({ ingress: { enabled: true, mlServer: { host: 'ml.example.com' } } }).objects, 'Ingress', 'demo-ingress');
    expect(only.spec.rules.map((r: any) => r.host)).toEqual(['ml.example.com']);
    expect(only.spec.tls).toBeUndefined();
    expect(only.spec.ingressClassName).toBeUndefined();
  });

  it('gives the Content Bridge its public URLs (https with TLS), unless its env sets them', () => {
    const env = envOf(find(build({ ingress }).objects, 'Deployment', 'demo-content-bridge'));
    expect(env.PUBLIC_BASE_URL).toBe('https://academy.example.com');
    expect(env.S3_PUBLIC_ENDPOINT).toBe('https://media.academy.example.com');
    const plain = envOf(
      find(build({ ingress: { enabled: true, contentBridge: { host: 'a.example.com' } } }).objects, 'Deployment', 'demo-content-bridge'),
    );
    expect(plain.PUBLIC_BASE_URL).toBe('http://a.example.com');
    expect(plain.S3_PUBLIC_ENDPOINT).toBeUndefined();
    const own = envOf(
      find(
        build({ ingress, contentBridge: { env: [{ name: 'PUBLIC_BASE_URL', value: 'https://www.example.com' }] } }).objects,
        'Deployment',
        'demo-content-bridge',
      ),
    );
    expect(own.PUBLIC_BASE_URL).toBe('https://www.example.com');
    expect(envOf(find(build({}).objects, 'Deployment', 'demo-content-bridge')).PUBLIC_BASE_URL).toBeUndefined();
  });

  it("opens MinIO's API port to the ingress controller only when it is exposed", () => {
    const minioPolicy = (spec: PlatformSpec) => find(build(spec).objects, 'NetworkPolicy', 'demo-minio').spec.ingress;
    expect(minioPolicy({ ingress })).toEqual([{ ports: [{ port: 9000, protocol: 'TCP' }] }]);
    expect(minioPolicy({ ingress: { ...ingress, objectStorage: undefined } })[0].from).toBeDefined();
  });

  it('rejects what the CRD rejects: no host, a shared host, MinIO host with external storage', () => {
    expect(() => build({ ingress: { enabled: true } })).toThrow(/at least one host/);
    expect(() =>
      build({ ingress: { enabled: true, contentBridge: { host: 'a.example.com' }, mlServer: { host: 'a.example.com' } } }),
    ).toThrow(/same host/);
    expect(() => build({ ...externalCr.spec, ingress })).toThrow(/managed object storage/);
  });
});

describe('inherited metadata', () => {
  const inheritedMetadata = {
    labels: { 'cost-centre': 'academy', 'app.kubernetes.io/name': 'theirs' },
    annotations: { 'linkerd.io/inject': 'enabled', 'kubectl.kubernetes.io/default-container': 'theirs' },
  };
  const { objects } = build({ ...fullSpec, inheritedMetadata }, fullCtx);

  it('lands on every object and every pod template, with ours winning a clash', () => {
    for (const o of objects as any[]) {
      const where = `${o.kind}/${o.metadata.name}`;
      expect(o.metadata.labels['cost-centre'], where).toBe('academy');
      expect(o.metadata.labels['app.kubernetes.io/name'], where).not.toBe('theirs');
      expect(o.metadata.annotations['linkerd.io/inject'], where).toBe('enabled');
    }
    for (const o of objects.filter((x: any) => x.spec?.template) as any[]) {
      const meta = o.spec.template.metadata;
      expect(meta.labels['cost-centre'], o.metadata.name).toBe('academy');
      expect(meta.labels['app.kubernetes.io/name'], o.metadata.name).not.toBe('theirs');
      expect(meta.annotations['linkerd.io/inject'], o.metadata.name).toBe('enabled');
    }
    expect(
      find(objects, 'Deployment', 'demo-ml-server').spec.template.metadata.annotations['kubectl.kubernetes.io/default-container'],
    ).toBe('ml-server');
  });

  it("leaves a StatefulSet's volumeClaimTemplates alone (they are immutable), and adds nothing when unset", () => {
    const postgres = find(objects, 'StatefulSet', 'demo-postgres');
    expect(postgres.spec.volumeClaimTemplates[0].metadata.labels['cost-centre']).toBeUndefined();
    for (const o of build(fullSpec, fullCtx).objects as any[]) expect(o.metadata.labels['cost-centre']).toBeUndefined();
  });
});

describe('PostgreSQL backups', () => {
  const cronJob = (spec: PlatformSpec): any => build(spec).objects.find((o) => o.kind === 'CronJob');

  it('are off by default', () => {
    expect(cronJob({})).toBeUndefined();
  });

  it('dump with the PostgreSQL image, then upload with the Content Bridge image, on the schedule in UTC', () => {
    const job = cronJob({ postgres: { backup: { enabled: true, schedule: '30 1 * * *', retentionDays: 14 } } });
    expect(job.metadata.name).toBe('demo-postgres-backup');
    expect(job.spec).toMatchObject({ schedule: '30 1 * * *', timeZone: 'Etc/UTC', concurrencyPolicy: 'Forbid', suspend: false });
    const pod = job.spec.jobTemplate.spec.template.spec;
    expect(pod.restartPolicy).toBe('Never');
    const [dump] = pod.initContainers;
    expect(dump.image).toBe('docker.io/library/postgres:17.6-bookworm');
    expect([dump.command, ...dump.args].flat()).toEqual([
      'pg_dump',
      '--format=custom',
      `--file=${BACKUP_FILE}`,
      '--dbname=$(DATABASE_URL)',
    ]);
    expect(dump.env).toEqual([
      { name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: 'demo-postgres-credentials', key: 'DATABASE_URL' } } },
    ]);
    const [upload] = pod.containers;
    expect(upload.image).toBe('ghcr.io/huntmaster-academy/content-bridge:0.1.0');
    expect(upload.command).toEqual([...BACKUP_COMMAND]);
    const env = Object.fromEntries(upload.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
    expect(env.BACKUP_RETENTION_DAYS).toBe('14');
    expect(env.S3_BUCKET).toBe('huntmaster-storage');
    // Only what it needs: no JWT, Redis or database secrets in the uploader.
    expect(Object.keys(env).sort()).toEqual([
      'BACKUP_RETENTION_DAYS',
      'NODE_ENV',
      'S3_ACCESS_KEY',
      'S3_BUCKET',
      'S3_ENDPOINT',
      'S3_REGION',
      'S3_SECRET_KEY',
    ]);
    for (const c of [dump, upload]) expect(c.volumeMounts).toContainEqual({ name: 'backup', mountPath: '/backup' });
  });

  it("back up an external PostgreSQL from the user's Secret, and may reach PostgreSQL and MinIO", () => {
    const job = cronJob({ ...externalCr.spec, postgres: { ...externalCr.spec!.postgres, backup: { enabled: true } } });
    expect(job.spec.jobTemplate.spec.template.spec.initContainers[0].env[0].valueFrom.secretKeyRef.name).toBe('academy-db');
    const peers = (spec: PlatformSpec, name: string) =>
      find(build(spec).objects, 'NetworkPolicy', name).spec.ingress.flatMap((r: any) =>
        (r.from ?? []).map((f: any) => f.podSelector.matchLabels['app.kubernetes.io/name']),
      );
    const on: PlatformSpec = { postgres: { backup: { enabled: true } } };
    expect(peers(on, 'demo-postgres')).toContain('postgres-backup');
    expect(peers(on, 'demo-minio')).toContain('postgres-backup');
    expect(peers({}, 'demo-postgres')).not.toContain('postgres-backup');
  });

  it('pause while the platform is suspended', () => {
    expect(cronJob({ postgres: { backup: { enabled: true } }, suspend: true }).spec.suspend).toBe(true);
  });
});

describe('network policies', () => {
  // MinIO not exposed through the Ingress (the ingress tests cover that case).
  const { objects } = desiredChildren(platform({ ...fullSpec, ingress: { ...fullSpec.ingress, objectStorage: undefined } }), fullCtx);
  const peers = (name: string) =>
    find(objects, 'NetworkPolicy', name).spec.ingress.flatMap((r: any) =>
      (r.from ?? []).map((f: any) => f.podSelector.matchLabels['app.kubernetes.io/name']),
    );

  it('only the platform pods that use a data service may reach it', () => {
    expect(peers('demo-postgres')).toEqual(['content-bridge', 'ml-server', 'migrations', 'postgres-backup', 'adminer']);
    expect(peers('demo-redis')).toEqual(['content-bridge', 'ml-server', 'redis-commander']);
    expect(peers('demo-minio')).toEqual(['content-bridge', 'ml-server', 'minio-bucket-init', 'postgres-backup']);
  });

  it('the APIs accept their port from anywhere, the admin UIs nothing', () => {
    expect(find(objects, 'NetworkPolicy', 'demo-content-bridge').spec.ingress).toEqual([{ ports: [{ port: 8090, protocol: 'TCP' }] }]);
    expect(find(objects, 'NetworkPolicy', 'demo-adminer').spec.ingress).toBeUndefined(); // no rule: admits nothing
  });
});

describe('desiredVolumes', () => {
  it('lists the data PVCs of managed services with their desired size, for the reconciler to expand', () => {
    expect(desiredVolumes(platform(fullSpec))).toEqual([
      { statefulSet: 'demo-postgres', persistentVolumeClaim: 'data-demo-postgres-0', size: '50Gi' },
      { statefulSet: 'demo-redis', persistentVolumeClaim: 'data-demo-redis-0', size: '2Gi' },
      { statefulSet: 'demo-minio', persistentVolumeClaim: 'data-demo-minio-0', size: '100Gi' },
    ]);
    expect(desiredVolumes(externalCr)).toEqual([]);
  });
});
