/**
 * Teardown of the node tier, and the check that it left nothing behind: no process, mount,
 * network namespace, link, cgroup, iptables rule, changed sysctl or file outside its temp dir. The
 * same cleanup runs before a start, for whatever a crashed run left; the machine's state from
 * before that run is kept in a file, so the cleanup knows what was there already.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binaries, runDir } from '../paths.ts';
import type { ManagedProcess } from '../process.ts';
import { log, runOutput } from '../shell.ts';
import type { NodePaths } from './config.ts';
import { NODE_NETWORK as N, netnsPath } from './network.ts';

export interface HostBaseline {
  iptables: string;
  ip6tables: string;
  sysctls: Record<string, string>;
  /** Paths outside the temp dir that the daemons may create, and which of them existed before. */
  preexisting: string[];
  /** Whether a kubepods cgroup existed before (another kubelet's): then pods' cgroups are not ours to remove. */
  kubepods: boolean;
  /** Named network namespaces that existed before: containerd names each pod's `cni-<uuid>` there. */
  netns: string[];
}

/** Host sysctls the kubelet, kube-proxy or the CNI plugins would change if they ran in the machine's namespaces. */
export const WATCHED_SYSCTLS = [
  'vm/overcommit_memory',
  'kernel/panic',
  'kernel/panic_on_oops',
  'net/ipv4/ip_forward',
  'net/ipv4/conf/all/route_localnet',
  'net/bridge/bridge-nf-call-iptables',
];

/** Fixed paths containerd, runc, the CNI plugins and the kubelet use whatever their configuration says. */
const OUTSIDE_PATHS = ['/run/containerd', '/run/runc', '/var/lib/cni', '/var/lib/kubelet', '/run/netns'];

const baselineFile = () => join(runDir(), 'node-baseline.json');
/**
 * The node's temp dir, as mkdtemp names it (`hma-node-` and six characters), and nothing else that
 * shares the prefix: the shared lock that serialises node runs is /tmp/hma-node-tier.lock, and
 * matching it would kill the lock holder's `flock` (freeing the lock while its node runs) and delete
 * the lock file (letting a second run in).
 */
const TEMP_DIR_NAME = /^hma-node-[A-Za-z0-9]{6}$/;
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const tempDirPattern = new RegExp(`${escapeRegExp(join(tmpdir(), 'hma-node-'))}[A-Za-z0-9]{6}(/|\\s|$)`);

/** Whether a command line or a path names a node temp dir (or a file below one). */
export function mentionsNodeTempDir(text: string): boolean {
  return tempDirPattern.test(text);
}

function readSysctl(key: string): string {
  const file = join('/proc/sys', key);
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : '(absent)';
}

async function iptablesSave(cmd: 'iptables-save' | 'ip6tables-save'): Promise<string> {
  const out = await runOutput(cmd, [], { allowFailure: true });
  // Counters and timestamps change by themselves; rules and chains are what must not.
  return out
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.replace(/\[\d+:\d+\]/g, ''))
    .join('\n');
}

async function snapshot(): Promise<HostBaseline> {
  return {
    iptables: await iptablesSave('iptables-save'),
    ip6tables: await iptablesSave('ip6tables-save'),
    sysctls: Object.fromEntries(WATCHED_SYSCTLS.map((k) => [k, readSysctl(k)])),
    preexisting: OUTSIDE_PATHS.filter((p) => existsSync(p)),
    kubepods: kubepodsCgroups().length > 0,
    netns: namedNetns(),
  };
}

/** The machine's state recorded before the running (or last crashed) node started, if any. */
export function readBaseline(): HostBaseline | undefined {
  if (!existsSync(baselineFile())) return undefined;
  // Files written before `netns` was recorded lack it.
  return { netns: [], ...JSON.parse(readFileSync(baselineFile(), 'utf8')) } as HostBaseline;
}

/** Records the machine's state before a start; kept on disk until a clean teardown. */
export async function recordBaseline(): Promise<HostBaseline> {
  const baseline = await snapshot();
  // On a new machine the node side can get here before any process has made the run directory.
  mkdirSync(runDir(), { recursive: true });
  writeFileSync(baselineFile(), JSON.stringify(baseline, null, 2));
  return baseline;
}

function pidsWhere(match: (pid: number, cmdline: string) => boolean): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (match(pid, cmdline)) pids.push(pid);
    } catch {
      /* exited meanwhile */
    }
  }
  return pids;
}

function netnsInode(pid: number | 'self'): string | null {
  try {
    return readlinkSync(`/proc/${pid}/ns/net`);
  } catch {
    return null;
  }
}

/** Processes of the node tier: anything in its network namespace, or running from its temp dirs (shims, containers). */
export function nodeProcesses(baseline?: HostBaseline): number[] {
  // A named network namespace is a bind mount of nsfs: its inode is the namespace's.
  const nodeNs = existsSync(netnsPath()) ? `net:[${statSync(netnsPath()).ino}]` : null;
  // Pod processes: only when the machine had no kubepods cgroup of its own before (a real kubelet's).
  const podsAreOurs = baseline !== undefined && !baseline.kubepods;
  return pidsWhere(
    (pid, cmdline) => mentionsNodeTempDir(cmdline) || (nodeNs !== null && netnsInode(pid) === nodeNs) || (podsAreOurs && inKubepods(pid)),
  );
}

function inKubepods(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes('/kubepods');
  } catch {
    return false;
  }
}

function mountsBelow(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => mentionsNodeTempDir(m) || m.startsWith('/run/netns/cni-') || m === netnsPath());
}

function kubepodsCgroups(): string[] {
  if (!existsSync('/sys/fs/cgroup')) return [];
  return readdirSync('/sys/fs/cgroup')
    .map((c) => join('/sys/fs/cgroup', c, 'kubepods'))
    .filter((p) => existsSync(p));
}

function namedNetns(): string[] {
  return existsSync('/run/netns') ? readdirSync('/run/netns') : [];
}

function tempDirs(): string[] {
  return readdirSync(tmpdir())
    .filter((f) => TEMP_DIR_NAME.test(f))
    .map((f) => join(tmpdir(), f))
    .filter((p) => statSync(p).isDirectory());
}

/** Everything of the node tier still on the machine, measured against the state before it started. */
export async function findLeftovers(baseline: HostBaseline): Promise<string[]> {
  const now = await snapshot();
  const found: string[] = [];
  for (const pid of nodeProcesses(baseline)) found.push(`process ${pid}`);
  if (existsSync(netnsPath())) found.push(`network namespace ${N.netns}`);
  if ((await runOutput('ip', ['link', 'show', N.hostLink], { allowFailure: true })).trim()) found.push(`link ${N.hostLink}`);
  for (const m of mountsBelow()) found.push(`mount ${m}`);
  for (const ns of namedNetns().filter((n) => !baseline.netns.includes(n))) found.push(`network namespace ${ns}`);
  if (!baseline.kubepods) for (const c of kubepodsCgroups()) found.push(`cgroup ${c}`);
  for (const d of tempDirs()) found.push(`directory ${d}`);
  if (now.iptables !== baseline.iptables) found.push('host iptables rules changed');
  if (now.ip6tables !== baseline.ip6tables) found.push('host ip6tables rules changed');
  for (const [k, v] of Object.entries(baseline.sysctls)) if (now.sysctls[k] !== v) found.push(`sysctl ${k}: ${v} → ${now.sysctls[k]}`);
  for (const p of now.preexisting) if (!baseline.preexisting.includes(p)) found.push(`path ${p}`);
  return found;
}

async function killAll(pids: number[]): Promise<void> {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  const deadline = Date.now() + 10_000;
  while (pids.some((pid) => existsSync(`/proc/${pid}`) && !isZombie(pid)) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
}

function isZombie(pid: number): boolean {
  try {
    return / Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

/** Removes every CRI sandbox while containerd still runs: each removal stops its containers and runs the CNI DEL. */
async function removeSandboxes(paths: NodePaths): Promise<void> {
  if (!existsSync(paths.containerdSocket)) return;
  await runOutput(
    'timeout',
    ['60', binaries.crictl(), '--runtime-endpoint', `unix://${paths.containerdSocket}`, '--timeout', '30s', 'rmp', '--all', '--force'],
    { allowFailure: true },
  );
}

export interface RunningNode {
  processes: ManagedProcess[];
  paths: NodePaths;
  baseline: HostBaseline;
}

/**
 * Stops and removes the node tier. With a running node: the kubelet first (so it restarts nothing),
 * then the sandboxes through containerd, then every process by its pid, newest first. Then, with or
 * without one, whatever is left: processes, the namespace, mounts, cgroups, outside paths, temp dirs.
 * Throws, naming each, if anything is still there afterwards.
 */
export async function cleanupNode(node?: RunningNode): Promise<void> {
  const baseline = node?.baseline ?? readBaseline();
  if (!node && !baseline && tempDirs().length === 0 && !existsSync(netnsPath())) return; // nothing was ever left
  if (!node) log('node tier: removing what an earlier run left behind');
  if (node) {
    await node.processes.find((p) => p.name === 'kubelet')?.stop('SIGTERM', 10_000);
    await removeSandboxes(node.paths);
    for (const p of [...node.processes].reverse()) await p.stop('SIGTERM', 10_000);
  } else {
    for (const dir of tempDirs()) await removeSandboxes({ containerdSocket: join(dir, 'containerd/containerd.sock') } as NodePaths);
  }
  await killAll(nodeProcesses(baseline));
  if (existsSync(netnsPath())) await runOutput('ip', ['netns', 'delete', N.netns], { allowFailure: true });
  await runOutput('ip', ['link', 'delete', N.hostLink], { allowFailure: true });
  for (const m of mountsBelow().sort().reverse()) await runOutput('umount', ['--lazy', m], { allowFailure: true });
  if (baseline && !baseline.kubepods)
    for (const cgroup of kubepodsCgroups())
      await runOutput('find', [cgroup, '-depth', '-type', 'd', '-exec', 'rmdir', '{}', ';'], { allowFailure: true });
  if (baseline) {
    // Pod namespaces whose sandbox was never removed (containerd died first): their mounts are gone, the files stay.
    for (const ns of namedNetns().filter((n) => n.startsWith('cni-') && !baseline.netns.includes(n)))
      rmSync(join('/run/netns', ns), { force: true });
    for (const p of OUTSIDE_PATHS.filter((p) => existsSync(p) && !baseline.preexisting.includes(p))) {
      if (p === '/run/netns' && readdirSync(p).length > 0) continue; // someone else's namespaces
      await runOutput('umount', ['--lazy', p], { allowFailure: true });
      rmSync(p, { recursive: true, force: true });
    }
  }
  for (const dir of tempDirs()) rmSync(dir, { recursive: true, force: true });
  if (!baseline) return;
  const left = await findLeftovers(baseline);
  if (left.length) throw new Error(`node tier teardown left: ${left.join('; ')}`);
  rmSync(baselineFile(), { force: true });
}
