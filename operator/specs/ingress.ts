/**
 * The Ingress (spec.ingress.enabled): each API, and the managed MinIO when asked (clients download
 * content through presigned URLs), on its own host; their routes all start at `/`. With
 * `tls.secretName` every host is served from that one certificate (cert-manager can issue it from
 * an annotation). The public URLs also feed PUBLIC_BASE_URL and S3_PUBLIC_ENDPOINT of the Content
 * Bridge, unless its env sets them.
 */
import type { V1Ingress, V1IngressRule } from '@kubernetes/client-node';
import type { BuildInput } from './context.ts';
import { childMeta } from './labels.ts';
import type { Child } from './types.ts';

export type PublicComponent = 'contentBridge' | 'mlServer' | 'objectStorage';
const EXPOSED: PublicComponent[] = ['contentBridge', 'mlServer', 'objectStorage'];

/** `https://host` (or http without TLS) of every component the Ingress serves. */
export function publicUrls(input: BuildInput): Partial<Record<PublicComponent, string>> {
  const ing = input.spec.ingress;
  if (!ing.enabled) return {};
  const scheme = ing.tls ? 'https' : 'http';
  return Object.fromEntries(EXPOSED.flatMap((key) => (ing[key] ? [[key, `${scheme}://${ing[key].host}`]] : [])));
}

export function platformIngress(input: BuildInput): Child<V1Ingress> | undefined {
  const { cr, spec, names } = input;
  const ing = spec.ingress;
  if (!ing.enabled) return undefined;
  const backends: Record<PublicComponent, { service: string; port: string }> = {
    contentBridge: { service: names.contentBridge, port: 'http' },
    mlServer: { service: names.mlServer, port: 'http' },
    objectStorage: { service: names.minio, port: 'api' },
  };
  const rules: V1IngressRule[] = EXPOSED.flatMap((key) => {
    const host = ing[key]?.host;
    if (!host) return [];
    const { service, port } = backends[key];
    return [{ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: service, port: { name: port } } } }] } }];
  });
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: childMeta(cr, names.ingress, 'ingress', { version: spec.version, annotations: { ...ing.annotations } }),
    spec: {
      ...(ing.className ? { ingressClassName: ing.className } : {}),
      ...(ing.tls ? { tls: [{ hosts: rules.map((r) => r.host!), secretName: ing.tls.secretName }] } : {}),
      rules,
    },
  };
}
