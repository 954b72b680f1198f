/**
 * OpenTelemetry tracing for http, koa, pg and ioredis. It must start before those modules load,
 * which is why services start through `--import ./services/kit/observability/register-tracing.ts`.
 * Spans are exported over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set; pg spans never carry
 * query parameters and ioredis spans never carry command arguments.
 */
import { NodeSDK } from '@opentelemetry/sdk-node';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { KoaInstrumentation } from '@opentelemetry/instrumentation-koa';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { BatchSpanProcessor, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { setActiveTracing, tracingConfigured } from './tracing-config.ts';

export { shutdownTracing } from './tracing-config.ts';

const UNTRACED_PATHS = new Set(['/livez', '/readyz', '/healthz', '/metrics']);

export function createInstrumentations() {
  return [
    new HttpInstrumentation({ ignoreIncomingRequestHook: (req) => UNTRACED_PATHS.has((req.url ?? '').split('?')[0] ?? '') }),
    new KoaInstrumentation(),
    new PgInstrumentation({ enhancedDatabaseReporting: false }), // false: no query parameters in spans
    new IORedisInstrumentation({ dbStatementSerializer: (command) => command }), // the command name only, never its arguments
  ];
}

/** Starts tracing; returns undefined when neither an endpoint nor an exporter is configured. */
export function startTracing(opts: { serviceName?: string; exporter?: SpanExporter } = {}): NodeSDK | undefined {
  if (!opts.exporter && !tracingConfigured(process.env)) return undefined;
  const serviceName = opts.serviceName ?? process.env.OTEL_SERVICE_NAME ?? 'huntmaster-service';
  const exporter = opts.exporter ?? new OTLPTraceExporter();
  // Metrics go to Prometheus and logs to stdout; without these the SDK would also push both over OTLP.
  process.env.OTEL_METRICS_EXPORTER ??= 'none';
  process.env.OTEL_LOGS_EXPORTER ??= 'none';
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: serviceName }),
    spanProcessors: [opts.exporter ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter, { scheduledDelayMillis: 500 })],
    instrumentations: createInstrumentations(),
  });
  sdk.start();
  setActiveTracing(sdk);
  return sdk;
}
