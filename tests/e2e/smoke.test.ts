/** Proves the cluster tier schedules and runs workloads on kwok nodes and garbage-collects. */
import * as k8s from '@kubernetes/client-node';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { waitUntil } from '../harness/index.ts';

const labels = (app: string) => ({ app });
const podSpec = (app: string): k8s.V1PodTemplateSpec => ({
  metadata: { labels: labels(app) },
  spec: { containers: [{ name: app, image: `example.invalid/${app}:1` }] },
});

describe('cluster tier', () => {
  const kc = new k8s.KubeConfig();
  kc.loadFromString(inject('kubeconfig'));
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const namespace = 'e2e-smoke';

  beforeAll(async () => {
    await core.createNamespace({ body: { metadata: { name: namespace } } });
  });

  it('brings a 2-replica Deployment to Available with 2 Ready pods on kwok nodes', async () => {
    await apps.createNamespacedDeployment({
      namespace,
      body: { metadata: { name: 'web' }, spec: { replicas: 2, selector: { matchLabels: labels('web') }, template: podSpec('web') } },
    });
    await waitUntil(
      'Deployment web Available',
      async () => {
        const d = await apps.readNamespacedDeployment({ namespace, name: 'web' });
        return d.status?.readyReplicas === 2 && !!d.status.conditions?.some((c) => c.type === 'Available' && c.status === 'True');
      },
      { timeoutMs: 90_000 },
    );
    const pods = await core.listNamespacedPod({ namespace, labelSelector: 'app=web' });
    expect(pods.items).toHaveLength(2);
    for (const pod of pods.items) {
      expect(pod.spec?.nodeName).toMatch(/^kwok-node-/);
      expect(pod.status?.phase).toBe('Running');
    }
  });

  it('brings a 1-replica StatefulSet to readyReplicas=1', async () => {
    await core.createNamespacedService({
      namespace,
      body: { metadata: { name: 'db' }, spec: { clusterIP: 'None', selector: labels('db'), ports: [{ port: 5432 }] } },
    });
    await apps.createNamespacedStatefulSet({
      namespace,
      body: {
        metadata: { name: 'db' },
        spec: { serviceName: 'db', replicas: 1, selector: { matchLabels: labels('db') }, template: podSpec('db') },
      },
    });
    await waitUntil(
      'StatefulSet db ready',
      async () => (await apps.readNamespacedStatefulSet({ namespace, name: 'db' })).status?.readyReplicas === 1,
      {
        timeoutMs: 90_000,
      },
    );
  });

  it('garbage-collects the dependents of a deleted owner', async () => {
    const owner = await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'owner' } } });
    const ownerReferences = [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata!.uid!, controller: true }];
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'dependent', ownerReferences } } });
    await core.deleteNamespacedConfigMap({ namespace, name: 'owner' });
    await waitUntil(
      'dependent garbage-collected',
      async () => {
        try {
          await core.readNamespacedConfigMap({ namespace, name: 'dependent' });
          return false;
        } catch (err) {
          return (err as { code?: number }).code === 404;
        }
      },
      { timeoutMs: 90_000 },
    );
  });
});
