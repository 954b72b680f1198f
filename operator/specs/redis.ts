/** Managed Redis: a one-replica StatefulSet with append-only persistence and a password. */
import type { V1ContainerPort } from '@kubernetes/client-node';
import { PORTS, UIDS } from './constants.ts';
import type { BuildInput } from './context.ts';
import { secretEnv } from './env.ts';
import { execProbe } from './pod.ts';
import { SECRET_KEYS } from './secrets.ts';
import { dataServiceServices, dataServiceStatefulSet, type DataServiceParams } from './stateful.ts';
import type { Child } from './types.ts';

const PORTS_REDIS: V1ContainerPort[] = [{ name: 'redis', containerPort: PORTS.redis, protocol: 'TCP' }];

export function redisObjects(input: BuildInput): Child[] {
  const { spec, names, images } = input;
  if (spec.redis.mode !== 'managed') return [];
  const password = { name: names.secrets.redis, key: SECRET_KEYS.redis.password };
  // redis-cli reads REDISCLI_AUTH; a LOADING or NOAUTH reply is not PONG, so the probe fails then.
  const ping = ['sh', '-c', `redis-cli -h 127.0.0.1 -p ${PORTS.redis} ping | grep -q PONG`];
  const params: DataServiceParams = {
    key: 'redis',
    name: names.redis,
    headlessName: names.redisHeadless,
    image: images.redis,
    settings: spec.redis,
    uid: UIDS.redis,
    gid: UIDS.redisGroup,
    dataMountPath: '/data',
    container: {
      name: 'redis',
      command: ['redis-server'],
      // $(REDIS_PASSWORD) is expanded by the kubelet from the Secret-backed variable, so the password
      // is never in the pod spec; redis-server then replaces its process title, hiding its arguments.
      args: ['--port', String(PORTS.redis), '--dir', '/data', '--appendonly', 'yes', '--requirepass', '$(REDIS_PASSWORD)'],
      ports: PORTS_REDIS,
      env: [secretEnv('REDIS_PASSWORD', password), secretEnv('REDISCLI_AUTH', password)],
      startupProbe: execProbe(ping, { periodSeconds: 5, failureThreshold: 60 }),
      readinessProbe: execProbe(ping, { periodSeconds: 5 }),
      livenessProbe: execProbe(ping, { periodSeconds: 10, failureThreshold: 6 }),
    },
  };
  return [dataServiceStatefulSet(input, params), ...dataServiceServices(input, params, PORTS_REDIS)];
}
