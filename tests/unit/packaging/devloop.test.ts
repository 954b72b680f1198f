/**
 * The dev loop's files, checked with the code of the tools that read them (tools/kindcheck, built
 * by the harness): kind-config.yaml against kind's v1alpha4 types with unknown fields rejected, and
 * the Tiltfile executed by go.starlark.net (Tilt's interpreter) against stubs with Tilt's exact
 * signatures that record what it declares.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBinaries } from '../../harness/build.ts';
import { binaries } from '../../harness/paths.ts';
import { makeTempDir } from '../../harness/tempdir.ts';
import { REPO_ROOT, run } from './support.ts';

beforeAll(() => ensureBinaries(['kindcheck']), 10 * 60_000);

const kindcheck = (file: string) => run(binaries.kindcheck(), [file]);

describe('kind-config.yaml', () => {
  const config = join(REPO_ROOT, 'kind-config.yaml');

  it("is a valid kind v1alpha4 Cluster by kind's own types", () => {
    const res = kindcheck(config);
    expect(res.status, res.stderr).toBe(0);
    const cluster = JSON.parse(res.stdout);
    expect(cluster).toMatchObject({ kind: 'Cluster', apiVersion: 'kind.x-k8s.io/v1alpha4', name: 'huntmaster' });
  });

  it('maps host ports 8090, 8010 and 9001 to the dev NodePorts', () => {
    const cluster = JSON.parse(kindcheck(config).stdout);
    const mappings = cluster.nodes.flatMap((n: any) => n.extraPortMappings ?? []);
    const nodePorts = parseAllDocuments(readFileSync(join(REPO_ROOT, 'manifests/dev/nodeports.yaml'), 'utf8')).map((d) => d.toJS());
    const byNodePort = new Map(nodePorts.map((s: any) => [s.spec.ports[0].nodePort, s.spec.ports[0].targetPort]));
    for (const [hostPort, apiPort] of [
      [8090, 8090],
      [8010, 8010],
      [9001, 9001],
    ]) {
      const m = mappings.find((x: any) => x.hostPort === hostPort);
      expect(m, `host port ${hostPort}`).toBeDefined();
      expect(m.containerPort).toBeGreaterThanOrEqual(30000);
      expect(byNodePort.get(m.containerPort), `NodePort ${m.containerPort} leads to ${apiPort}`).toBe(apiPort);
    }
  });

  it('points containerd at per-registry hosts.toml files for localhost:5001', () => {
    const cluster = JSON.parse(kindcheck(config).stdout);
    expect(cluster.containerdConfigPatches.join('\n')).toMatch(/config_path = "\/etc\/containerd\/certs\.d"/);
    const hosting = parse(readFileSync(join(REPO_ROOT, 'manifests/dev/local-registry-hosting.yaml'), 'utf8'));
    expect(parse(hosting.data['localRegistryHosting.v1']).host).toBe('localhost:5001');
    expect(readFileSync(join(REPO_ROOT, 'Tiltfile'), 'utf8')).toContain("default_registry('localhost:5001')");
  });

  it('rejects a misspelt field, a wrong apiVersion and an unknown role', () => {
    const dir = makeTempDir('kind');
    const original = readFileSync(config, 'utf8');
    const broken = {
      'misspelt.yaml': original.replace('extraPortMappings', 'extraPortMapping'),
      'version.yaml': original.replace('kind.x-k8s.io/v1alpha4', 'kind.x-k8s.io/v1alpha3'),
      'role.yaml': original.replace('role: control-plane', 'role: master'),
      'protocol.yaml': original.replace('protocol: TCP', 'protocol: HTTP'),
    };
    for (const [name, text] of Object.entries(broken)) {
      expect(text, name).not.toBe(original);
      writeFileSync(join(dir, name), text);
      const res = kindcheck(join(dir, name));
      expect(res.status, name).toBe(1);
      expect(res.stderr, name).not.toBe('');
    }
    expect(kindcheck(join(dir, 'misspelt.yaml')).stderr).toMatch(/unknown field "extraPortMapping"/);
  });
});

describe('Tiltfile', () => {
  type Call = { fn: string; args: Record<string, any> };
  let calls: Call[];
  const tiltfile = (file: string) => run(binaries.tiltfileCheck(), [file]);
  const all = (fn: string) => calls.filter((c) => c.fn === fn);
  const resource = (name: string) => all('k8s_resource').find((c) => c.args.new_name === name)!;

  beforeAll(() => {
    const res = tiltfile(join(REPO_ROOT, 'Tiltfile'));
    if (res.status !== 0) throw new Error(`the Tiltfile does not run under Starlark with Tilt's signatures:\n${res.stderr}`);
    calls = JSON.parse(res.stdout).calls;
  });

  it('parses as Python too (Starlark is a subset)', () => {
    const res = run('python3', ['-c', 'import ast, sys; ast.parse(open(sys.argv[1]).read())', join(REPO_ROOT, 'Tiltfile')]);
    expect(res.status, res.stderr).toBe(0);
  });

  it('builds the three images from their Dockerfiles, with live updates that sync and then run', () => {
    const builds = all('docker_build');
    expect(builds.map((b) => b.args.ref).sort()).toEqual([
      'ghcr.io/huntmaster-academy/content-bridge',
      'ghcr.io/huntmaster-academy/ml-server',
      'ghcr.io/huntmaster-academy/operator',
    ]);
    for (const b of builds) {
      expect(b.args.target).toBe('dev');
      const steps = (b.args.live_update as any[]).map((s) => s.$type);
      expect(steps[0]).toBe('fall_back_on');
      expect(steps.filter((s) => s === 'sync').length).toBeGreaterThan(0);
      expect(steps.at(-1), 'run comes after the syncs').toBe('run');
      expect(steps.lastIndexOf('sync')).toBeLessThan(steps.indexOf('run'));
      const dockerfile = readFileSync(join(REPO_ROOT, b.args.dockerfile), 'utf8');
      expect(dockerfile).toMatch(/^FROM \S+ AS dev$/m);
      for (const s of (b.args.live_update as any[]).filter((x) => x.$type === 'sync')) {
        expect(s.args.remote_path).toBe(`/tmp/app/${s.args.local_path}`);
        expect(b.args.only, `${s.args.local_path} is in the build context`).toContain(s.args.local_path);
      }
    }
  });

  it('names only paths that exist', () => {
    const paths: string[] = [];
    for (const b of all('docker_build')) paths.push(b.args.context, b.args.dockerfile, ...b.args.only);
    for (const s of calls.flatMap((c) => (c.args.live_update ?? []) as any[]).filter((x) => x.$type === 'sync'))
      paths.push(s.args.local_path);
    for (const y of all('k8s_yaml')) if (typeof y.args.yaml === 'string') paths.push(y.args.yaml);
    for (const h of all('helm')) paths.push(h.args.paths, ...(h.args.values ?? []));
    for (const l of all('local_resource')) paths.push(...(l.args.deps ?? []));
    expect(paths.length).toBeGreaterThan(15);
    for (const p of paths) expect(existsSync(join(REPO_ROOT, p)), p).toBe(true);
  });

  it('deploys the chart, and puts the CRD in its own resource that the operator depends on', () => {
    const chart = all('helm')[0]!;
    expect(chart.args).toMatchObject({ paths: 'charts/huntmaster', name: 'huntmaster', namespace: 'huntmaster' });
    const crds = resource('crds');
    const crd = parse(readFileSync(join(REPO_ROOT, 'crds/platform.huntmaster.academy_huntmasterplatforms.yaml'), 'utf8'));
    expect(crds.args.objects).toContain(`${crd.metadata.name}:customresourcedefinition`);
    const operator = resource('operator');
    expect(operator.args.workload).toBe('huntmaster-operator');
    expect(operator.args.resource_deps).toEqual(['crds']);
  });

  it('applies a sample platform whose images Tilt substitutes, after the operator', () => {
    expect(all('k8s_yaml').map((y) => y.args.yaml)).toContain('manifests/dev/platform.yaml');
    const kind = all('k8s_kind')[0]!;
    expect(kind.args.kind).toBe('HuntMasterPlatform');
    const cr = parse(readFileSync(join(REPO_ROOT, 'manifests/dev/platform.yaml'), 'utf8'));
    expect(kind.args.image_json_path).toEqual(['{.spec.images.contentBridge}', '{.spec.images.mlServer}']);
    expect(Object.values(cr.spec.images).sort()).toEqual([
      'ghcr.io/huntmaster-academy/content-bridge',
      'ghcr.io/huntmaster-academy/ml-server',
    ]);
    expect(resource('platform').args).toMatchObject({ workload: `${cr.metadata.name}:huntmasterplatform`, resource_deps: ['operator'] });
  });

  it('port-forwards 8090, 8010 and the MinIO console (9001), each to a pod of its own component', () => {
    const forwards = all('k8s_resource').flatMap((r) =>
      ((r.args.port_forwards ?? []) as any[]).map((p) => ({ resource: r.args.new_name, container: p.args.container_port, r })),
    );
    for (const [name, port, label] of [
      ['content-bridge', 8090, 'content-bridge'],
      ['ml-server', 8010, 'ml-server'],
      ['minio-console', 9001, 'minio'],
    ] as const) {
      const f = forwards.find((x) => x.resource === name);
      expect(f?.container, name).toBe(port);
      expect(f!.r.args.discovery_strategy).toBe('selectors-only');
      expect(f!.r.args.extra_pod_selectors).toEqual([{ 'app.kubernetes.io/name': label, 'app.kubernetes.io/instance': 'huntmaster' }]);
    }
  });

  it('has a local_resource for the unit tests', () => {
    const unit = all('local_resource').find((l) => l.args.name === 'unit-tests');
    expect(unit?.args.cmd).toBe('npx vitest run --project unit');
  });

  it("fails on a call that does not match Tilt's API", () => {
    const dir = makeTempDir('tilt');
    const original = readFileSync(join(REPO_ROOT, 'Tiltfile'), 'utf8');
    writeFileSync(join(dir, 'Tiltfile'), original.replace('resource_deps=', 'resource_dependencies='));
    const res = tiltfile(join(dir, 'Tiltfile'));
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(/unexpected keyword argument "resource_dependencies"/);
    writeFileSync(join(dir, 'Tiltfile'), original + '\nk8s_custom_thing()\n');
    expect(tiltfile(join(dir, 'Tiltfile')).stderr).toMatch(/undefined: k8s_custom_thing/);
  });
});
