/**
 * Names a request's server span after its route (`GET /api/content/:content_id`, with `http.route`),
 * as a router's instrumentation would: the http instrumentation reads the route from the RPC metadata
 * it put in the request's context when the span ends. Reading the metadata through the API's context
 * key (the one @opentelemetry/core's getRPCMetadata uses) keeps the SDK out of the services when
 * nothing traces; then the context is the empty root and this is one lookup.
 */
import { context, createContextKey } from '@opentelemetry/api';

const RPC_METADATA = createContextKey('OpenTelemetry SDK Context Key RPC_METADATA');

export function recordRoute(route: string): void {
  const metadata = context.active().getValue(RPC_METADATA) as { type?: string; route?: string } | undefined;
  if (metadata?.type === 'http') metadata.route = route;
}
