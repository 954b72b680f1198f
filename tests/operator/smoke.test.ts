/** Proves the apiserver tier is a real kube-apiserver backed by etcd. */
import * as k8s from '@kubernetes/client-node';
import { describe, expect, inject, it } from 'vitest';

describe('apiserver tier', () => {
  const kc = new k8s.KubeConfig();
  kc.loadFromString(inject('kubeconfig'));
  const core = kc.makeApiClient(k8s.CoreV1Api);

  it('reports the pinned Kubernetes version', async () => {
    const version = await kc.makeApiClient(k8s.VersionApi).getCode();
    expect(version.gitVersion).toMatch(/^v1\.3[3-9]\.\d+$/);
  });

  it('creates a Namespace and a ConfigMap and reads them back', async () => {
    await core.createNamespace({ body: { metadata: { name: 'smoke' } } });
    await core.createNamespacedConfigMap({
      namespace: 'smoke',
      body: { metadata: { name: 'range-rules' }, data: { maxDistance: '200m' } },
    });
    const ns = await core.readNamespace({ name: 'smoke' });
    expect(ns.status?.phase).toBe('Active');
    const cm = await core.readNamespacedConfigMap({ namespace: 'smoke', name: 'range-rules' });
    expect(cm.data).toEqual({ maxDistance: '200m' });
    expect(cm.metadata?.resourceVersion).toMatch(/^\d+$/);
  });

  it('rejects an invalid object with a real validation error', async () => {
    await expect(
      core.createNamespacedConfigMap({ namespace: 'smoke', body: { metadata: { name: 'Not_A_Valid_Name' } } }),
    ).rejects.toMatchObject({ code: 422 });
  });
});
