/**
 * The node really runs pods: a Ready node on containerd, pods from our stand-in images, Service DNS
 * names through CoreDNS and kube-proxy, kubectl logs and exec, and volumes that the StorageClass
 * provisions dynamically and that keep their data when the pod is replaced.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMAGE_REFS } from '../harness/node/images.ts';
import {
  apply,
  clientPod,
  createNamespace,
  deleteNamespace,
  execIn,
  kubectl,
  kubectlJson,
  postgresPodSpec,
  waitForPodsReady,
} from './support/node.ts';
import { waitUntil } from '../harness/process.ts';

const namespace = 'node-workloads';

const webServer = `require('http').createServer((q,r)=>r.end('hello from '+require('os').hostname())).listen(8080,()=>console.log('listening on 8080'))`;

describe('node tier workloads', () => {
  beforeAll(async () => {
    await createNamespace(namespace);
    await apply(
      [
        clientPod('client'),
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'web' },
          spec: {
            replicas: 2,
            selector: { matchLabels: { app: 'web' } },
            template: {
              metadata: { labels: { app: 'web' } },
              spec: {
                containers: [
                  {
                    name: 'web',
                    image: IMAGE_REFS.node,
                    imagePullPolicy: 'Never',
                    command: ['node', '-e', webServer],
                    ports: [{ containerPort: 8080 }],
                    readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1 },
                    securityContext: { runAsUser: 1000, runAsNonRoot: true, readOnlyRootFilesystem: true },
                  },
                ],
              },
            },
          },
        },
        {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name: 'web' },
          spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] },
        },
      ],
      namespace,
    );
    await waitForPodsReady(namespace, 'app in (web,client)', 3);
  });
  afterAll(() => deleteNamespace(namespace));

  it('has one Ready node running containerd and the kubelet built here', async () => {
    const nodes = (await kubectlJson(['get', 'nodes'])).items as any[];
    expect(nodes).toHaveLength(1);
    const [node] = nodes;
    expect(node.status.conditions.find((c: any) => c.type === 'Ready').status).toBe('True');
    expect(node.status.nodeInfo.containerRuntimeVersion).toMatch(/^containerd:\/\/1\./);
    expect(node.status.nodeInfo.kubeletVersion).toBe('v1.35.4');
    expect(node.status.addresses).toContainEqual({ type: 'InternalIP', address: '10.87.0.1' });
  });

  it('reaches pods through a Service DNS name, on both replicas', async () => {
    const hosts = new Set<string>();
    await waitUntil(
      'both web replicas answered',
      async () => {
        const body = await execIn(namespace, 'client', [
          'node',
          '-e',
          `fetch('http://web.${namespace}.svc.cluster.local').then(r=>r.text()).then(console.log)`,
        ]);
        hosts.add(body.trim());
        return hosts.size === 2;
      },
      { timeoutMs: 30_000 },
    );
    for (const h of hosts) expect(h).toMatch(/^hello from web-/);
  });

  it('serves kubectl logs and exec through the kubelet', async () => {
    const pod = ((await kubectlJson(['-n', namespace, 'get', 'pods', '-l', 'app=web'])).items as any[])[0].metadata.name;
    expect(await kubectl(['-n', namespace, 'logs', pod])).toContain('listening on 8080');
    expect((await execIn(namespace, pod, ['id', '-u'])).trim()).toBe('1000');
  });

  it('provisions a volume for PostgreSQL on first use and keeps its data when the pod is replaced', async () => {
    await apply(
      [
        { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'pg' }, stringData: { password: 'node-tier-pw' } },
        { apiVersion: 'v1', kind: 'Service', metadata: { name: 'pg' }, spec: { selector: { app: 'pg' }, ports: [{ port: 5432 }] } },
        {
          apiVersion: 'apps/v1',
          kind: 'StatefulSet',
          metadata: { name: 'pg' },
          spec: {
            serviceName: 'pg',
            selector: { matchLabels: { app: 'pg' } },
            template: {
              metadata: { labels: { app: 'pg' } },
              // The data volume comes from the claim template below.
              spec: postgresPodSpec({ password: { valueFrom: { secretKeyRef: { name: 'pg', key: 'password' } } } }),
            },
            volumeClaimTemplates: [
              { metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
            ],
          },
        },
      ],
      namespace,
    );
    await waitForPodsReady(namespace, 'app=pg', 1);
    const pvc = await kubectlJson(['-n', namespace, 'get', 'pvc', 'data-pg-0']);
    expect(pvc.status.phase).toBe('Bound');
    expect(pvc.spec.storageClassName).toBe('standard');
    const psql = (sql: string) => execIn(namespace, 'pg-0', ['psql', '-h', '127.0.0.1', '-U', 'postgres', '-tAc', sql], {});
    const version = await execIn(namespace, 'pg-0', ['postgres', '--version']);
    expect(version).toMatch(/PostgreSQL\) 17\./);
    await psql("CREATE TABLE kept (note text); INSERT INTO kept VALUES ('survives')");
    // Other pods reach it through its Service, as the official image listens on every address.
    const connect = `require('net').connect(5432,'pg.${namespace}.svc').on('connect',()=>{console.log('connected');process.exit(0)}).on('error',e=>{console.log(e.code);process.exit(0)})`;
    // kube-proxy programs a new Service's rules a moment after its endpoints appear.
    let answer = '';
    await waitUntil(
      'pg reachable through its Service',
      async () => (answer = (await execIn(namespace, 'client', ['node', '-e', connect])).trim()) === 'connected',
      { timeoutMs: 30_000 },
    ).catch((err: Error) => {
      throw new Error(`${err.message}: last answer ${answer}`);
    });

    const uid = (await kubectlJson(['-n', namespace, 'get', 'pod', 'pg-0'])).metadata.uid;
    await kubectl(['-n', namespace, 'delete', 'pod', 'pg-0', '--wait=true']);
    await waitUntil('pg-0 replaced', async () => (await kubectlJson(['-n', namespace, 'get', 'pod', 'pg-0'])).metadata.uid !== uid, {
      timeoutMs: 60_000,
    });
    await waitForPodsReady(namespace, 'app=pg', 1);
    expect((await psql('SELECT note FROM kept')).trim()).toBe('survives');
  });
});
