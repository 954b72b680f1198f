/**
 * manifests/samples/full.yaml on a real node (everything managed, NetworkPolicies on, monitoring
 * objects skipped without their CRDs, the management UIs on), with its NetworkPolicies enforced by
 * kube-router's network-policy controller, which the bridge CNI alone does not do. The platform
 * becomes Ready under enforcement; a pod outside the platform cannot reach PostgreSQL, Redis or the
 * management UIs, while the APIs still can and anyone reaches the APIs. Each blocked probe is shown to
 * connect when nothing enforces: with the agent stopped, and with the policies switched off in the
 * spec. The UIs (stand-in images: Adminer 4.8.1, Redis Commander 0.9.0) answer through
 * `kubectl port-forward`, their documented way in, and reach their data services under enforcement.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findLeftovers, readBaseline } from '../harness/node/cleanup.ts';
import { waitUntil } from '../harness/process.ts';
import { psql } from './support/events.ts';
import { recordFigure } from './support/figures.ts';
import { adaptToOneNode, applyFullSamplePrerequisites, FULL_SAMPLE_PRIORITY_CLASSES, fullSample } from './support/full-sample.ts';
import {
  apply,
  clientPod,
  createNamespace,
  deleteNamespace,
  kubectl,
  kubectlJson,
  setPolicyAgent,
  tcpProbe,
  waitForPodsReady,
  withPortForward,
} from './support/node.ts';
import { adminToken, ensureOperatorInstalled, fetchFromPod, startClient, waitPlatformReady } from './support/platform.ts';

const ns = 'academy-full';
/** Another namespace, with no relation to the platform. */
const elsewhere = 'netpol-outside';
const platform = 'huntmaster';
const svc = (name: string) => `${platform}-${name}.${ns}.svc.cluster.local`;
/** What the policies keep a pod outside the platform away from: the data services, and the management UIs (open to no pod at all). */
const GUARDED = [
  { name: 'PostgreSQL', host: svc('postgres'), port: 5432 },
  { name: 'Redis', host: svc('redis'), port: 6379 },
  { name: 'Adminer', host: svc('adminer'), port: 8080 },
  { name: 'Redis Commander', host: svc('redis-commander'), port: 8081 },
];
const MANAGEMENT_UIS = [`${platform}-adminer`, `${platform}-redis-commander`];
const APIS = [
  { name: 'content-bridge', port: 8090 },
  { name: 'ml-server', port: 8010 },
];

/** What the outsider pod (another namespace) and the client pod (the platform's namespace, not a platform component) get. */
async function probeGuarded(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const d of GUARDED) {
    out[`outsider → ${d.name}`] = await tcpProbe(elsewhere, 'outsider', d.host, d.port);
    out[`client → ${d.name}`] = await tcpProbe(ns, 'client', d.host, d.port);
  }
  return out;
}

const allAre = (probes: Record<string, string>, value: string) => Object.values(probes).every((v) => v === value);

/** Waits until every probe has the value (the agent syncs within seconds of a change), naming the probes on timeout. */
async function waitProbes(value: string, timeoutMs = 90_000): Promise<Record<string, string>> {
  let last: Record<string, string> = {};
  await waitUntil(
    `every guarded-service probe ${value}`,
    async () => {
      last = await probeGuarded();
      return allAre(last, value);
    },
    { timeoutMs },
  ).catch((err: Error) => {
    throw new Error(`${err.message}: ${JSON.stringify(last)}`);
  });
  return last;
}

async function readyz(fromNamespace: string): Promise<number[]> {
  const statuses: number[] = [];
  for (const api of APIS) statuses.push((await fetchFromPod(fromNamespace, `http://${svc(api.name)}:${api.port}/readyz`)).status);
  return statuses;
}

interface PostgresLogin {
  server: string;
  username: string;
  password: string;
  db: string;
}

/** The application role's credentials from the Secret the operator made for managed PostgreSQL. */
async function postgresCredentials(): Promise<PostgresLogin> {
  const key = async (k: string) =>
    Buffer.from(
      await kubectl(['-n', ns, 'get', 'secret', `${platform}-postgres-credentials`, '-o', `jsonpath={.data.${k}}`]),
      'base64',
    ).toString();
  return { server: await key('host'), username: await key('username'), password: await key('password'), db: await key('database') };
}

/**
 * Adminer's login as a browser does it: the login page (session cookie), the form posted (Adminer
 * stores the password and redirects), then the page it redirects to, where it connects: 200 with a
 * logout button when PostgreSQL took the login, 403 with the server's error when not.
 */
async function adminerLogin(base: string, login: PostgresLogin): Promise<{ status: number; body: string }> {
  const cookies = new Map<string, string>();
  const keep = (res: Response) => {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const at = pair!.indexOf('=');
      cookies.set(pair!.slice(0, at), pair!.slice(at + 1));
    }
    return res;
  };
  const cookie = () => [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  keep(await fetch(`${base}/`));
  const form = new URLSearchParams({
    'auth[driver]': 'pgsql',
    'auth[server]': login.server,
    'auth[username]': login.username,
    'auth[password]': login.password,
    'auth[db]': login.db,
  });
  const posted = keep(await fetch(`${base}/`, { method: 'POST', body: form, headers: { cookie: cookie() }, redirect: 'manual' }));
  const location = posted.headers.get('location');
  if (posted.status !== 302 || !location) throw new Error(`Adminer's login form answered ${posted.status} without a redirect`);
  const page = await fetch(new URL(location, `${base}/`), { headers: { cookie: cookie() } });
  return { status: page.status, body: await page.text() };
}

interface RedisCommanderServer {
  disabled?: boolean;
  error?: string;
  info?: Array<{ key: string; value: string }>;
}

describe('the full sample on a real node, its NetworkPolicies enforced by kube-router', () => {
  beforeAll(async () => {
    await ensureOperatorInstalled();
    // Enforcing from the start: the migration and bucket Jobs, the APIs and the probes all run under the policies.
    await setPolicyAgent('start');
    await createNamespace(ns);
    await applyFullSamplePrerequisites(ns);
    const started = Date.now();
    await apply([adaptToOneNode(fullSample())], ns);
    await waitPlatformReady(ns, platform, 900);
    // The UIs are up before any probe: a Service without endpoints refuses connections of itself.
    await kubectl(['-n', ns, 'wait', '--for=condition=Available', '--timeout=300s', ...MANAGEMENT_UIS.map((d) => `deployment/${d}`)]);
    recordFigure('full sample applied → Ready=True (NetworkPolicies enforced)', Date.now() - started);
    await startClient(ns);
    await createNamespace(elsewhere);
    await apply([clientPod('outsider')], elsewhere);
    await waitForPodsReady(elsewhere, 'app=outsider', 1);
  }, 1_200_000); // 3 + 2 API replicas and the data services, on two shared cores

  afterAll(async () => {
    await setPolicyAgent('stop');
    await deleteNamespace(elsewhere);
    await deleteNamespace(ns);
    await kubectl(['delete', 'priorityclass', ...FULL_SAMPLE_PRIORITY_CLASSES, '--ignore-not-found', '--wait=false']);
  });

  it('is Ready for real under enforcement: migrations done, both APIs /readyz 200 through their Services, the admin logs in', async () => {
    const hmp = await kubectlJson(['-n', ns, 'get', 'hmp', platform]);
    const ready = hmp.status.conditions.find((c: any) => c.type === 'Ready');
    expect(ready.status).toBe('True');
    // Monitoring objects where their CRDs exist (another test may have installed them); skipped, and said so, where not.
    const crd = await kubectl(['get', 'crd', 'servicemonitors.monitoring.coreos.com', '--ignore-not-found', '-o', 'name']);
    if (crd.trim()) expect(await kubectl(['-n', ns, 'get', 'servicemonitors', '-o', 'name'])).toContain(`${platform}-apis`);
    else expect(ready.message).toMatch(/skipped: ServiceMonitor skipped because monitoring\.coreos\.com CRDs are missing/);
    const jobs = (await kubectlJson(['-n', ns, 'get', 'jobs'])).items as any[];
    const migration = jobs.find((j) => j.metadata.labels?.['app.kubernetes.io/component'] === 'migrations');
    expect(migration?.status?.succeeded, 'the migration Job succeeded').toBe(1);
    // /readyz checks the APIs' own connections to PostgreSQL, Redis and MinIO.
    expect(await readyz(ns)).toEqual([200, 200]);
    expect(await adminToken(ns, platform)).toMatch(/^ey/);
    // The sample's spec.postgres.parameters reached the server (postgres -c name=value).
    expect((await psql(ns, platform, 'SHOW shared_buffers; SHOW work_mem;')).trim().split('\n')).toEqual(['512MB', '16MB']);
  });

  it('creates every object of the sample that this cluster can hold: policies, autoscaler, budgets, Ingress, backups', async () => {
    const names = async (kind: string) =>
      ((await kubectlJson(['-n', ns, 'get', kind])).items as any[]).map((o) => o.metadata.name as string).sort();
    expect(await names('networkpolicies')).toEqual(
      expect.arrayContaining([
        `${platform}-adminer`,
        `${platform}-content-bridge`,
        `${platform}-minio`,
        `${platform}-ml-server`,
        `${platform}-postgres`,
        `${platform}-redis`,
        `${platform}-redis-commander`,
      ]),
    );
    expect(await names('horizontalpodautoscalers')).toEqual([`${platform}-ml-server`]);
    expect(await names('poddisruptionbudgets')).toEqual([`${platform}-content-bridge`, `${platform}-ml-server`]);
    expect(await names('ingresses')).toEqual([`${platform}-ingress`]);
    expect(await names('cronjobs')).toEqual([`${platform}-postgres-backup`]);
    const deployments = await names('deployments');
    expect(deployments).toEqual(expect.arrayContaining([`${platform}-adminer`, `${platform}-redis-commander`]));
  });

  it('keeps a pod outside the platform away from PostgreSQL, Redis and the management UIs, in another namespace or in the same one', async () => {
    const probes = await waitProbes('ECONNREFUSED');
    expect(probes).toEqual(Object.fromEntries(Object.keys(probes).map((k) => [k, 'ECONNREFUSED'])));
    // MinIO's API port is open to all, as its policy says when the Ingress exposes it (presigned URLs).
    expect(await tcpProbe(elsewhere, 'outsider', svc('minio'), 9000)).toBe('connected');
  });

  it('lets anyone reach the APIs on their port, and the APIs still reach their data services', async () => {
    // The outsider is allowed by the APIs' policies (port only, from anywhere).
    for (const api of APIS) expect(await tcpProbe(elsewhere, 'outsider', svc(api.name), api.port), api.name).toBe('connected');
    const fromOutside = await fetchFromPod(elsewhere, `http://${svc('content-bridge')}:8090/readyz`, {}, 'outsider');
    expect(fromOutside.status).toBe(200);
    expect(await readyz(ns)).toEqual([200, 200]);
  });

  it('runs the management UIs under enforcement, reached through kubectl port-forward: Adminer logs in to PostgreSQL, Redis Commander reads Redis', async () => {
    const pg = await postgresCredentials();
    await withPortForward(ns, `svc/${platform}-adminer`, 8080, async (base) => {
      const page = await fetch(`${base}/`);
      expect(page.status).toBe(200);
      // ADMINER_DEFAULT_SERVER, set by the operator to managed PostgreSQL's Service, fills the form.
      expect(await page.text()).toContain(`name="auth[server]" value="${platform}-postgres.${ns}.svc"`);
      const good = await adminerLogin(base, pg);
      expect(good.status, good.body.slice(0, 2000)).toBe(200);
      expect(good.body).toContain('id="logout"');
      const bad = await adminerLogin(base, { ...pg, password: `${pg.password}-wrong` });
      expect(bad.status).toBe(403);
      expect(bad.body).toMatch(/password authentication failed/);
    });
    await withPortForward(ns, `svc/${platform}-redis-commander`, 8081, async (base) => {
      const page = await fetch(`${base}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<title>Redis Commander');
      // Connected, the server info carries Redis' INFO; refused, it says `disabled` and the client's state.
      let last: unknown;
      await waitUntil(
        'Redis Commander connected to Redis',
        async () => {
          last = ((await (await fetch(`${base}/apiv2/server/info`)).json()) as { data: RedisCommanderServer[] }).data;
          const [server] = last as RedisCommanderServer[];
          return !server?.disabled && /^\d+\.\d+/.test(server?.info?.find((i) => i.key === 'Redis version')?.value ?? '');
        },
        { timeoutMs: 60_000 },
      ).catch((err: Error) => {
        throw new Error(`${err.message}: ${JSON.stringify(last)}`);
      });
    });
  });

  it('blocks them because of the agent: stopped, the bridge lets the same probes through; started again, they are refused', async () => {
    await setPolicyAgent('stop');
    try {
      const open = await waitProbes('connected', 30_000);
      expect(allAre(open, 'connected')).toBe(true);
    } finally {
      await setPolicyAgent('start');
    }
    expect(allAre(await waitProbes('ECONNREFUSED'), 'ECONNREFUSED')).toBe(true);
  });

  it('blocks them because of the policies: switched off in the spec they are removed and the probes connect; on again, refused', async () => {
    const patch = (enabled: boolean) =>
      kubectl(['-n', ns, 'patch', 'hmp', platform, '--type=merge', '-p', JSON.stringify({ spec: { networkPolicy: { enabled } } })]);
    await patch(false);
    try {
      await waitUntil(
        'the operator removed the NetworkPolicies',
        async () => ((await kubectlJson(['-n', ns, 'get', 'networkpolicies'])).items as any[]).length === 0,
        { timeoutMs: 60_000 },
      );
      expect(allAre(await waitProbes('connected'), 'connected')).toBe(true);
    } finally {
      await patch(true);
    }
    expect(allAre(await waitProbes('ECONNREFUSED'), 'ECONNREFUSED')).toBe(true);
    await waitPlatformReady(ns, platform, 300);
    expect(await readyz(ns)).toEqual([200, 200]);
  });

  it('changes nothing on the machine while it enforces: its rules and sets stay in the node namespace', async () => {
    const found = await findLeftovers(readBaseline()!);
    expect(found.filter((f) => /iptables|sysctl/.test(f))).toEqual([]);
  });
});
