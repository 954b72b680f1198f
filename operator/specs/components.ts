/**
 * The vocabulary of the two API components: their keys, container names and ports, where each is
 * reached in the cluster, and whether an autoscaler owns its replica count. A leaf module: the
 * builders of Deployments, Services, autoscalers, disruption budgets and status all import it, and it
 * imports none of them.
 */
import { PORTS } from './constants.ts';
import type { BuildInput } from './context.ts';

export type ApiKey = 'contentBridge' | 'mlServer';

export const API_COMPONENTS: Record<ApiKey, { container: string; port: number }> = {
  contentBridge: { container: 'content-bridge', port: PORTS.contentBridge },
  mlServer: { container: 'ml-server', port: PORTS.mlServer },
};

/** In-cluster URL of an API's Service. */
export function apiEndpoint(input: Pick<BuildInput, 'names' | 'cr'>, key: ApiKey): string {
  return `http://${input.names[key]}.${input.cr.metadata.namespace}.svc:${API_COMPONENTS[key].port}`;
}

/** Whether an autoscaler owns the API's replica count: autoscaling is enabled and the platform is not suspended. */
export function isAutoscaled(input: Pick<BuildInput, 'spec'>, key: ApiKey): boolean {
  return input.spec[key].autoscaling.enabled && !input.spec.suspend;
}
