/**
 * manifests/samples/full.yaml on the node tier: its prerequisites, created as its header says, and
 * the two changes one 2-CPU node needs. Everything else of the sample is applied as it is.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from '../../harness/paths.ts';
import { apply } from './node.ts';

export function fullSample(): any {
  return parse(readFileSync(join(REPO_ROOT, 'manifests/samples/full.yaml'), 'utf8'));
}

/**
 * The sample places the APIs on a pool labelled `apps` and the data services on a pool labelled
 * `data`; one node can carry only one value of that label, so the node selectors go. Its CPU
 * requests add up to 2.4 CPUs, more than this node has, so each is divided by four. Tolerations,
 * affinities, priority classes, replicas, memory and everything else stay as the sample has them.
 */
export function adaptToOneNode(sample: any): any {
  const cr = structuredClone(sample);
  const spec = cr.spec;
  const blocks = [spec, spec.contentBridge, spec.mlServer, spec.postgres, spec.redis, spec.objectStorage];
  for (const block of blocks) delete block.scheduling?.nodeSelector;
  for (const block of blocks) {
    const cpu = block.resources?.requests?.cpu as string | undefined;
    if (cpu) block.resources.requests.cpu = `${Math.ceil(millicores(cpu) / 4)}m`;
  }
  return cr;
}

function millicores(q: string): number {
  return q.endsWith('m') ? Number(q.slice(0, -1)) : Number(q) * 1000;
}

/** What the sample's header asks for before it is applied: its PriorityClasses and the Secrets it names. */
export async function applyFullSamplePrerequisites(namespace: string): Promise<void> {
  const random = () => Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex');
  await apply([
    priorityClass('huntmaster-critical', 1_000_000, 'Data services of the Hunt Master platform'),
    priorityClass('huntmaster-normal', 100_000, 'APIs and tools of the Hunt Master platform'),
  ]);
  await apply(
    [
      secret('huntmaster-jwt', { 'signing-key': random() }),
      secret('huntmaster-sso', { 'shared-secret': random() }),
      {
        ...secret('registry-credentials', { '.dockerconfigjson': JSON.stringify({ auths: {} }) }),
        type: 'kubernetes.io/dockerconfigjson',
      },
    ],
    namespace,
  );
}

export const FULL_SAMPLE_PRIORITY_CLASSES = ['huntmaster-critical', 'huntmaster-normal'];

function priorityClass(name: string, value: number, description: string): object {
  return { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value, globalDefault: false, description };
}

function secret(name: string, stringData: Record<string, string>): object {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name }, type: 'Opaque', stringData };
}
