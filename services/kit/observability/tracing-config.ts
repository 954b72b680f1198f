/**
 * Whether this process traces, and the running SDK's shutdown, apart from tracing.ts so that neither
 * the preload nor the server loads the OpenTelemetry SDK when no exporter is configured.
 */

/** Tracing runs only when spans have somewhere to go. */
export function tracingConfigured(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT);
}

let active: { shutdown(): Promise<void> } | undefined;

export function setActiveTracing(sdk: { shutdown(): Promise<void> }): void {
  active = sdk;
}

/** Flushes and stops tracing, if it was started; called last during graceful shutdown. */
export async function shutdownTracing(): Promise<void> {
  await active?.shutdown().catch(() => undefined);
  active = undefined;
}
