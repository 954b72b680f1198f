/**
 * `npm run operator`: runs the operator against the current kubeconfig (or in-cluster config).
 *   WATCH_NAMESPACES   comma-separated namespaces to watch (default: all)
 *   OPERATOR_NAMESPACE namespace of the leader-election Lease (default: POD_NAMESPACE or default)
 *   LEADER_ELECT       true|false (default true)
 *   MAX_CONCURRENT_RECONCILES (default 2), HTTP_PORT for /metrics /livez /readyz (default 8080), LOG_LEVEL,
 *   RESYNC_SECONDS (default 600): how often every cached object is reconciled again
 */
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { exitOnConfigError, parseEnv } from '../services/kit/config.ts';
import { envBoolean } from '../services/kit/config-helpers.ts';
import { createLogger } from '../services/kit/observability/logger.ts';
import { loadKubeCredentials } from './kube/config.ts';
import { startOperator } from './runtime.ts';

const env = {
  WATCH_NAMESPACES: z.string().default(''),
  OPERATOR_NAMESPACE: z.string().default(process.env.POD_NAMESPACE ?? 'default'),
  LEADER_ELECT: envBoolean(true),
  LEADER_ELECTION_ID: z.string().default('huntmaster-operator'),
  MAX_CONCURRENT_RECONCILES: z.coerce.number().int().min(1).max(50).default(2),
  HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  RESYNC_SECONDS: z.coerce.number().int().min(1).default(600),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DASHBOARDS_DIR: z.string().default(fileURLToPath(new URL('../charts/huntmaster/dashboards', import.meta.url))),
};

let config;
try {
  config = parseEnv(env);
} catch (err) {
  exitOnConfigError(err);
}
// The kit's logger: JSON lines with credential-looking fields redacted, written at once (bufferBytes 0)
// so a crash-looping operator's last words reach `kubectl logs`.
const logger = createLogger({ service: 'huntmaster-operator', level: config.LOG_LEVEL, bufferBytes: 0 });
const kubeConfig = await loadKubeCredentials();
const operator = await startOperator({
  kubeConfig,
  logger,
  watchNamespaces: config.WATCH_NAMESPACES.split(',')
    .map((s) => s.trim())
    .filter(Boolean),
  concurrency: config.MAX_CONCURRENT_RECONCILES,
  leaderElection: { enabled: config.LEADER_ELECT, namespace: config.OPERATOR_NAMESPACE, name: config.LEADER_ELECTION_ID },
  httpPort: config.HTTP_PORT,
  dashboardsDir: config.DASHBOARDS_DIR,
  resyncMs: config.RESYNC_SECONDS * 1000,
});
logger.info({ port: operator.port, namespaces: config.WATCH_NAMESPACES || 'all' }, 'operator started');
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    logger.info({ signal }, 'stopping: releasing the lease and finishing in-flight reconciles');
    void operator.stop().then(() => process.exit(0));
  });
}
