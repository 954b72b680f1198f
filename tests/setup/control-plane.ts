/**
 * Global setup of the operator (apiserver tier) and e2e (cluster tier) projects. The tier comes from
 * the project's `HMA_TIER` env, so both projects share this file.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestProject } from 'vitest/node';
import type { NodeCluster, RestartableDaemon } from '../harness/node/cluster.ts';
import { reapOrphans } from '../harness/process.ts';
import { startControlPlane, type Tier } from '../harness/index.ts';

export default async function setup(project: TestProject) {
  reapOrphans();
  const tier = (project.config.env?.HMA_TIER ?? 'apiserver') as Tier;
  const plane = await startControlPlane({ tier });
  project.provide('kubeconfig', plane.kubeconfig);
  if (tier !== 'node') return () => plane.close();
  // Test files run in worker processes; the node's daemons belong to this one. A loopback endpoint lets
  // a test restart containerd or the kubelet, or start and stop the NetworkPolicy agent.
  const control = await serveNodeControl(plane as unknown as NodeCluster);
  project.provide('nodeControl', control.url);
  return async () => {
    control.server.close();
    await plane.close();
  };
}

async function serveNodeControl(node: NodeCluster): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const match = /^\/restart\/(containerd|kubelet|kube-proxy)(?:\?down=(\d+))?$/.exec(req.url ?? '');
    const agent = /^\/policy-agent\/(start|stop)$/.exec(req.url ?? '');
    if (req.method !== 'POST' || !(match || agent)) return void res.writeHead(404).end();
    const done = agent
      ? node.policyAgent[agent[1] as 'start' | 'stop']()
      : node.restart(match![1] as RestartableDaemon, Number(match![2] ?? 0));
    done.then(
      () => res.writeHead(204).end(),
      (err: Error) => res.writeHead(500).end(err.message),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

declare module 'vitest' {
  export interface ProvidedContext {
    kubeconfig: string;
    /** The node tier only: POST /restart/<daemon>[?down=ms], POST /policy-agent/start|stop. */
    nodeControl: string;
  }
}
