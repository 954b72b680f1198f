/**
 * Preloaded with `node --import` before any instrumented module. With an OTLP endpoint configured it
 * hooks ESM loading so the instrumentations can patch modules, then starts the SDK; graceful shutdown
 * flushes the spans. Without one it does nothing at all: no loader hook, no SDK, no instrumentation,
 * so tracing that exports nowhere costs no request anything.
 */
import { register } from 'node:module';
import { tracingConfigured } from './tracing-config.ts';

if (tracingConfigured(process.env)) {
  register('import-in-the-middle/hook.mjs', import.meta.url);
  const { startTracing } = await import('./tracing.ts');
  startTracing();
}
