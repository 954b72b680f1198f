/**
 * Every packet stays on this machine: the node lives in its own network namespace without a
 * default route or an outside interface, pods get routes to the service range and the node's subnet
 * only, DROP guards keep the pod range on its bridge, nothing is masqueraded outward, nothing
 * listens on the machine's interfaces, no registry is ever contacted, and the machine's sysctls
 * and iptables are as they were.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NODE_NETWORK as N, inNode, guardRules } from '../harness/node/network.ts';
import { nodeProcesses, readBaseline, WATCHED_SYSCTLS, type HostBaseline } from '../harness/node/cleanup.ts';
import { waitUntil } from '../harness/process.ts';
import { runOutput } from '../harness/shell.ts';
import { apply, clientPod, createNamespace, deleteNamespace, execIn, kubectl, kubectlJson, waitForPodsReady } from './support/node.ts';

const namespace = 'node-network';
/** TEST-NET-2: documentation addresses, never routed anywhere. A connect() to them must fail before a packet exists. */
const OUTSIDE = '198.51.100.7';

describe('node tier network safety', () => {
  beforeAll(async () => {
    await createNamespace(namespace);
    await apply([clientPod('probe')], namespace);
    await waitForPodsReady(namespace, 'app=probe', 1);
  });
  afterAll(() => deleteNamespace(namespace));

  it('gives pods no default route, only the service range and the node subnet', async () => {
    const routes = await execIn(namespace, 'probe', ['cat', '/proc/net/route']);
    const destinations = routes
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split(/\s+/)[1]);
    // /proc/net/route writes destinations as little-endian hex; 00000000 is the default route.
    expect(destinations).not.toContain('00000000');
    const asCidrStart = (hex: string) => Buffer.from(hex, 'hex').reverse().join('.');
    expect(destinations.map((d) => asCidrStart(d!))).toEqual(expect.arrayContaining(['10.96.0.0', '10.87.0.0', '10.88.0.0']));
  });

  it('fails a connection to an outside address with ENETUNREACH inside the pod', async () => {
    const script = `require('net').connect({host:'${OUTSIDE}',port:80}).on('error',e=>{console.log(e.code);process.exit(0)}).on('connect',()=>{console.log('CONNECTED');process.exit(1)})`;
    expect((await execIn(namespace, 'probe', ['node', '-e', script])).trim()).toBe('ENETUNREACH');
  });

  it('gives the node namespace no default route and no interface but its own', async () => {
    expect(await inNode('ip', ['-4', 'route', 'show', 'default'])).toBe('');
    const links = (JSON.parse(await inNode('ip', ['-j', 'link'])) as Array<{ ifname: string }>).map((l) => l.ifname);
    for (const name of links) expect(name).toMatch(/^(lo|eth0|cni0|veth[0-9a-f]+)$/);
  });

  it('keeps the DROP guards in place and masquerades nothing toward the outside', async () => {
    const rules = await inNode('iptables-save', []);
    for (const g of guardRules()) {
      const table = rules.split(/^\*/m).find((t) => t.startsWith(g.table))!;
      const guard = table.split('\n').find((l) => l.startsWith(`-A ${g.chain} `) && l.includes(N.guardComment));
      expect(guard, `${g.table} ${g.chain}`).toMatch(new RegExp(`-s ${N.podCidr.replace('.', '\\.')} ! -o ${N.bridge} .* -j DROP`));
    }
    // kube-proxy masquerades only marked service traffic; CNI adds no MASQUERADE (ipMasq false).
    const masquerades = rules.split('\n').filter((l) => l.includes('MASQUERADE'));
    for (const rule of masquerades) expect(rule).toMatch(/KUBE-POSTROUTING|mark/);
    // And the machine's own tables are exactly as before the node started.
    expect(await runOutput('iptables-save', [])).not.toContain(N.guardComment);
  });

  it('listens on no address of the machine: only the node subnet, loopback inside the node, and pods', async () => {
    const listeners = (await inNode('ss', ['-Hltun'])).trim().split('\n');
    for (const line of listeners) {
      const local = line.split(/\s+/)[4]!;
      expect(local, line).toMatch(/^(127\.0\.0\.1|\[::1\]|10\.87\.0\.1|\[::ffff:10\.87\.0\.1\]|\*|0\.0\.0\.0|\[::\]):\d+$/);
    }
    // Wildcard listeners inside the node's namespace can only be reached through its own interfaces;
    // in the machine's namespace no process of the node listens at all.
    const nodePids = new Set(nodeProcesses(baseline()));
    expect(nodePids.size).toBeGreaterThan(10);
    const hostListeners = (await runOutput('ss', ['-Hltunp'])).trim().split('\n');
    const ofNode = hostListeners.filter((line) => [...line.matchAll(/pid=(\d+)/g)].some((m) => nodePids.has(Number(m[1]))));
    expect(ofNode).toEqual([]);
  });

  it('never contacts a registry: pulls go to 127.0.0.1:1 and fail', async () => {
    await apply(
      [
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'pull', labels: { app: 'pull' } },
          spec: { containers: [{ name: 'c', image: 'docker.io/library/busybox:1.36', imagePullPolicy: 'Always' }] },
        },
      ],
      namespace,
    );
    // The pull is tried and refused; the kubelet then reports why, in an Event and in the pod's status.
    let message = '';
    let reason = '';
    await waitUntil(
      'the pull failed',
      async () => {
        const events = await kubectlJson(['-n', namespace, 'get', 'events', '--field-selector', 'involvedObject.name=pull']);
        message = (events.items as any[]).map((e) => e.message as string).join('\n');
        const pod = await kubectlJson(['-n', namespace, 'get', 'pod', 'pull']);
        reason = pod.status.containerStatuses?.[0]?.state?.waiting?.reason ?? '';
        return message.includes('127.0.0.1:1') && /ErrImagePull|ImagePullBackOff/.test(reason);
      },
      { timeoutMs: 60_000 },
    ).catch((err: Error) => {
      throw new Error(`${err.message}: reason ${reason}, events:\n${message}`);
    });
    expect(message).toMatch(/dial tcp 127\.0\.0\.1:1: connect: connection refused/);
    await kubectl(['-n', namespace, 'delete', 'pod', 'pull', '--wait=false']);
  });

  it('resolves cluster names and nothing else', async () => {
    const lookup = (name: string) =>
      execIn(namespace, 'probe', ['node', '-e', `require('dns').lookup('${name}',(e,a)=>console.log(e?e.code:a))`]);
    expect((await lookup('kubernetes.default.svc.cluster.local')).trim()).toBe(N.apiServiceIp);
    expect((await lookup('registry-1.docker.io')).trim()).toMatch(/ENOTFOUND|EAI_AGAIN|ESERVFAIL/);
  });

  it('leaves the machine sysctls as they were, though the kubelet and CNI run', () => {
    for (const key of WATCHED_SYSCTLS) {
      const value = readFileSync(`/proc/sys/${key}`, 'utf8').trim();
      expect(`${key}=${value}`).toBe(`${key}=${baselineSysctl(key)}`);
    }
  });
});

/** The machine's state recorded before the node started (tests/harness/node/cleanup.ts). */
function baseline(): HostBaseline {
  return readBaseline()!;
}

function baselineSysctl(key: string): string {
  return baseline().sysctls[key]!;
}
