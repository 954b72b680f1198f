/**
 * NetworkPolicy enforcement for the node tier: kube-router's network-policy controller alone (no
 * routing, no service proxy), in the node's network namespace, where it writes iptables chains and
 * ipsets (the bridge CNI enforces nothing by itself). It runs on demand, not from the node's start:
 * the test of the policies starts and stops it, and other tests see the plain bridge. Stopping it
 * removes its chains and sets, so no stale rule outlives it.
 */
import { waitUntil, type ManagedProcess } from '../process.ts';
import { NODE_NAME } from './config.ts';
import { inNode, NODE_NETWORK as N } from './network.ts';

/** kube-router's chains: its three top-level ones, one per pod (KUBE-POD-FW-) and one per policy (KUBE-NWPLCY-). */
const AGENT_CHAIN = /^(KUBE-ROUTER-(INPUT|FORWARD|OUTPUT)|KUBE-POD-FW-\S+|KUBE-NWPLCY-\S+)$/;
const TOP_LEVEL = { INPUT: 'KUBE-ROUTER-INPUT', FORWARD: 'KUBE-ROUTER-FORWARD', OUTPUT: 'KUBE-ROUTER-OUTPUT' } as const;

export function policyAgentArgs(kubeconfigPath: string): string[] {
  return [
    `--kubeconfig=${kubeconfigPath}`,
    `--hostname-override=${NODE_NAME}`,
    '--run-firewall=true',
    '--run-router=false',
    '--run-service-proxy=false',
    '--run-loadbalancer=false',
    '--enable-ipv4=true',
    '--enable-ipv6=false',
    `--service-cluster-ip-range=${N.serviceCidr}`,
    // Nothing listens: no health or metrics port.
    '--health-port=0',
    '--metrics-port=0',
    '--v=1',
  ];
}

/** The agent's filter-table chains in the node's namespace. */
export async function agentChains(): Promise<string[]> {
  const rules = await inNode('iptables', ['-t', 'filter', '-S']);
  return rules
    .split('\n')
    .filter((l) => l.startsWith('-N '))
    .map((l) => l.slice(3).trim())
    .filter((c) => AGENT_CHAIN.test(c));
}

/** Waits until the agent has hooked its chains into INPUT, FORWARD and OUTPUT. */
export async function waitAgentHooked(agent: ManagedProcess): Promise<void> {
  await waitUntil(
    'kube-router network-policy controller hooked into the filter table',
    async () => {
      const rules = await inNode('iptables', ['-t', 'filter', '-S']);
      return Object.entries(TOP_LEVEL).every(([chain, target]) => rules.includes(`-A ${chain} `) && rules.includes(`-j ${target}`));
    },
    { timeoutMs: 60_000, process: agent },
  );
}

/**
 * Removes what the agent wrote, once it has stopped: the jumps into its chains, its chains, and every
 * ipset (nothing else in the node's namespace uses ipsets: kube-proxy runs in iptables mode).
 * kube-router's own --cleanup-config does not remove the policy chains in v2.1.0.
 */
export async function removeAgentRules(): Promise<void> {
  const rules = (await inNode('iptables', ['-t', 'filter', '-S'])).split('\n');
  for (const chain of Object.keys(TOP_LEVEL))
    for (const rule of rules.filter((l) => l.startsWith(`-A ${chain} `) && /-j KUBE-ROUTER-/.test(l)))
      await inNode('iptables', ['-t', 'filter', '-D', ...splitRule(rule.slice(3))]);
  const chains = await agentChains();
  for (const chain of chains) await inNode('iptables', ['-t', 'filter', '-F', chain]);
  for (const chain of chains) await inNode('iptables', ['-t', 'filter', '-X', chain]);
  await inNode('ipset', ['destroy']);
}

/** `iptables -S` quotes comments with spaces; splits one rule into the arguments that produced it. */
export function splitRule(rule: string): string[] {
  const args: string[] = [];
  for (const m of rule.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)) args.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!);
  return args;
}
