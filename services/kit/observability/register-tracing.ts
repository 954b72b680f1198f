/**
 * Preloaded with `node --import` before any instrumented module: hooks ESM loading so the
 * instrumentations can patch modules, then starts the SDK. Graceful shutdown flushes the spans.
 */
import { register } from 'node:module';
import { startTracing } from './tracing.ts';

register('import-in-the-middle/hook.mjs', import.meta.url);
startTracing();
