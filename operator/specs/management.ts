/**
 * Optional admin UIs, off by default: Adminer (PostgreSQL) and Redis Commander. They get ClusterIP
 * Services only, and with network policies on no ingress at all: use `kubectl port-forward`.
 */
import type { V1Deployment, V1EnvVar, V1Service } from '@kubernetes/client-node';
import { PORTS, UIDS } from './constants.ts';
import type { BuildInput } from './context.ts';
import { LINT_EXEMPTIONS } from './lint-exemptions.ts';
import { secretEnv } from './env.ts';
import { childMeta, type ComponentKey, podTemplateMeta, selectorLabels } from './labels.ts';
import { containerBase, containerSecurityContext, podBase, podSecurityContext, tmpMount, tmpVolume } from './pod.ts';
import { SECRET_KEYS } from './secrets.ts';
import type { Child, SkippedNote } from './types.ts';

interface ToolParams {
  key: Extract<ComponentKey, 'adminer' | 'redisCommander'>;
  name: string;
  container: string;
  image: string;
  port: number;
  uid: number;
  env: V1EnvVar[];
  readOnlyRootFilesystem: boolean;
}

function tool(input: BuildInput, p: ToolParams): [Child<V1Deployment>, Child<V1Service>] {
  const { cr, spec } = input;
  const deployment: Child<V1Deployment> = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: childMeta(cr, p.name, p.key, {
      version: spec.version,
      ...(p.readOnlyRootFilesystem ? {} : { annotations: LINT_EXEMPTIONS.writableRoot }),
    }),
    spec: {
      replicas: spec.suspend ? 0 : 1,
      revisionHistoryLimit: 3,
      selector: { matchLabels: selectorLabels(cr, p.key) },
      template: {
        metadata: podTemplateMeta(cr, p.key, spec.version),
        spec: {
          ...podBase(input, spec.scheduling),
          securityContext: podSecurityContext(p.uid),
          containers: [
            {
              ...containerBase(input, p.container, p.image),
              ports: [{ name: 'http', containerPort: p.port, protocol: 'TCP' }],
              env: p.env,
              resources: { requests: { cpu: '10m', memory: '64Mi' }, limits: { memory: '256Mi' } },
              readinessProbe: { tcpSocket: { port: 'http' }, periodSeconds: 10 },
              livenessProbe: { tcpSocket: { port: 'http' }, periodSeconds: 20, failureThreshold: 3 },
              securityContext: containerSecurityContext({ readOnlyRootFilesystem: p.readOnlyRootFilesystem }),
              volumeMounts: [tmpMount()],
            },
          ],
          volumes: [tmpVolume()],
        },
      },
    },
  };
  const service: Child<V1Service> = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMeta(cr, p.name, p.key, {
      version: spec.version,
      ...(p.readOnlyRootFilesystem ? {} : { annotations: LINT_EXEMPTIONS.writableRoot }),
    }),
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(cr, p.key),
      ports: [{ name: 'http', port: p.port, targetPort: 'http', protocol: 'TCP' }],
    },
  };
  return [deployment, service];
}

export function managementObjects(input: BuildInput): { objects: Child[]; skipped: SkippedNote[] } {
  const { spec, names, images, cr } = input;
  const objects: Child[] = [];
  const skipped: SkippedNote[] = [];
  if (spec.management.adminer.enabled) {
    const env: V1EnvVar[] =
      spec.postgres.mode === 'managed' ? [{ name: 'ADMINER_DEFAULT_SERVER', value: `${names.postgres}.${cr.metadata.namespace}.svc` }] : [];
    objects.push(
      ...tool(input, {
        key: 'adminer',
        name: names.adminer,
        container: 'adminer',
        image: images.adminer,
        port: PORTS.adminer,
        uid: UIDS.adminer,
        env,
        readOnlyRootFilesystem: true,
      }),
    );
  }
  if (spec.management.redisCommander.enabled) {
    if (spec.redis.mode !== 'managed') {
      skipped.push({
        kind: 'Deployment',
        reason: 'ExternalRedis',
        message: 'Redis Commander skipped: it is only wired to managed Redis (an external Redis Secret holds just REDIS_URL)',
      });
    } else {
      objects.push(
        ...tool(input, {
          key: 'redisCommander',
          name: names.redisCommander,
          container: 'redis-commander',
          image: images.redisCommander,
          port: PORTS.redisCommander,
          uid: UIDS.redisCommander,
          env: [
            { name: 'REDIS_HOST', value: `${names.redis}.${cr.metadata.namespace}.svc` },
            { name: 'REDIS_PORT', value: String(PORTS.redis) },
            secretEnv('REDIS_PASSWORD', { name: names.secrets.redis, key: SECRET_KEYS.redis.password }),
            { name: 'K8S_SIGTERM', value: '1' },
          ],
          // Its entrypoint writes its connection config under $HOME/config at every start.
          readOnlyRootFilesystem: false,
        }),
      );
    }
  }
  return { objects, skipped };
}
