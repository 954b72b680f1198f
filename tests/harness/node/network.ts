/**
 * The node tier's network: the whole node (control plane, containerd, kubelet, kube-proxy, pods)
 * lives in a network namespace this harness makes, joined to the machine by one veth pair. The
 * namespace has no default route and no outside interface; pods get routes to the service range
 * and the node's subnet only; DROP guards keep the pod range on its bridge; nothing is
 * masqueraded outward. The machine's own interfaces, routes, iptables and sysctls are not touched,
 * apart from the host end of the veth pair, which goes away with the namespace.
 */
import { existsSync } from 'node:fs';
import { runOutput } from '../shell.ts';

export const NODE_NETWORK = {
  netns: 'hma-node',
  /** The veth pair: the host end stays in the machine's namespace, the node end is the node's eth0. */
  hostLink: 'hmanode0',
  nodeLink: 'eth0',
  subnet: '10.87.0.0/24',
  hostIp: '10.87.0.2',
  nodeIp: '10.87.0.1',
  prefix: 24,
  bridge: 'cni0',
  podCidr: '10.88.0.0/16',
  podGateway: '10.88.0.1',
  serviceCidr: '10.96.0.0/16',
  apiServiceIp: '10.96.0.1',
  dnsServiceIp: '10.96.0.10',
  /** Comment on every guard rule, so tests and cleanup find them. */
  guardComment: 'hma-node-guard',
} as const;

const N = NODE_NETWORK;
export const netnsPath = () => `/run/netns/${N.netns}`;

/** Runs a command inside the node's network namespace (and only that namespace: mounts stay shared). */
export function inNode(cmd: string, args: string[], opts: { allowFailure?: boolean; input?: string } = {}): Promise<string> {
  return runOutput('nsenter', [`--net=${netnsPath()}`, '--', cmd, ...args], opts);
}

const ip = (args: string[], allowFailure = false) => runOutput('ip', args, { allowFailure });

function ipv4ToInt(addr: string): number {
  return addr.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

export function cidrsOverlap(a: string, b: string): boolean {
  const [aAddr, aLen] = a.split('/') as [string, string | undefined];
  const [bAddr, bLen] = b.split('/') as [string, string | undefined];
  const len = Math.min(Number(aLen ?? 32), Number(bLen ?? 32));
  const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
  return (ipv4ToInt(aAddr) & mask) >>> 0 === (ipv4ToInt(bAddr) & mask) >>> 0;
}

/** Refuses to start when the node's subnet would collide with an address or route of the machine. */
export async function assertNoCollision(): Promise<void> {
  const addrs = JSON.parse(await ip(['-j', '-4', 'addr'])) as Array<{
    ifname: string;
    addr_info: Array<{ local: string; prefixlen: number }>;
  }>;
  const routes = JSON.parse(await ip(['-j', '-4', 'route'])) as Array<{ dst: string; dev?: string }>;
  const taken = [
    ...addrs.filter((a) => a.ifname !== N.hostLink).flatMap((a) => a.addr_info.map((i) => `${i.local}/${i.prefixlen}`)),
    ...routes.filter((r) => r.dst !== 'default' && r.dev !== N.hostLink).map((r) => (r.dst.includes('/') ? r.dst : `${r.dst}/32`)),
  ];
  const clash = taken.find((cidr) => cidrsOverlap(cidr, N.subnet));
  if (clash) throw new Error(`the node tier's subnet ${N.subnet} collides with ${clash} on this machine`);
}

export function guardRules(): Array<{ table: string; chain: string; rule: string[] }> {
  // mangle runs before kube-proxy's filter ACCEPTs and before any nat; filter FORWARD for good measure.
  const rule = ['-s', N.podCidr, '!', '-o', N.bridge, '-m', 'comment', '--comment', N.guardComment, '-j', 'DROP'];
  return [
    { table: 'mangle', chain: 'FORWARD', rule },
    { table: 'mangle', chain: 'POSTROUTING', rule },
    { table: 'filter', chain: 'FORWARD', rule },
  ];
}

/** Makes the namespace, the veth pair and the guards. Idempotent parts are not expected: call removeNodeNetwork first. */
export async function createNodeNetwork(): Promise<void> {
  await assertNoCollision();
  await ip(['netns', 'add', N.netns]);
  await inNode('ip', ['link', 'set', 'lo', 'up']);
  await ip(['link', 'add', N.hostLink, 'type', 'veth', 'peer', 'name', 'hmanode0p']);
  await ip(['link', 'set', 'hmanode0p', 'netns', N.netns]);
  await inNode('ip', ['link', 'set', 'hmanode0p', 'name', N.nodeLink]);
  await ip(['addr', 'add', `${N.hostIp}/${N.prefix}`, 'dev', N.hostLink]);
  await inNode('ip', ['addr', 'add', `${N.nodeIp}/${N.prefix}`, 'dev', N.nodeLink]);
  await ip(['link', 'set', N.hostLink, 'up']);
  await inNode('ip', ['link', 'set', N.nodeLink, 'up']);
  // Guards go in before any bridge or pod exists.
  for (const g of guardRules()) await inNode('iptables', ['-t', g.table, '-I', g.chain, '1', ...g.rule]);
}

/** Deleting the namespace removes everything in it, including the node end and so the host end of the veth pair. */
export async function removeNodeNetwork(): Promise<void> {
  if (existsSync(netnsPath())) await ip(['netns', 'delete', N.netns], true);
  await ip(['link', 'delete', N.hostLink], true);
}

/** The CNI configuration: a bridge with host-local IPAM that routes only the service range and the node subnet. */
export function cniConflist(ipamDir: string): string {
  return JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: 'hma-node',
      plugins: [
        {
          type: 'bridge',
          bridge: N.bridge,
          isGateway: true,
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            dataDir: ipamDir,
            ranges: [[{ subnet: N.podCidr, gateway: N.podGateway }]],
            // No default route: an outside address is unreachable from a pod (ENETUNREACH).
            routes: [{ dst: N.serviceCidr }, { dst: N.subnet }],
          },
        },
        { type: 'portmap', capabilities: { portMappings: true }, snat: false },
      ],
    },
    null,
    2,
  );
}
