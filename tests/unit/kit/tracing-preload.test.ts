/**
 * The tracing preload (`node --import register-tracing.ts`, as the images start the APIs) costs
 * nothing without an exporter: it loads no OpenTelemetry SDK and registers no instrumentation. With
 * an endpoint it does both (nothing is exported here: no span is made, and the process exits first).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../harness/paths.ts';

const run = promisify(execFile);

/** What the preload left behind in a fresh process: loaded OpenTelemetry packages, a registered tracer provider. */
const PROBE = `
import { createRequire } from 'node:module';
const loaded = Object.keys(createRequire(import.meta.url).cache).filter((p) => p.includes('/@opentelemetry/'));
const packages = [...new Set(loaded.map((p) => /@opentelemetry\\/[^/]+/.exec(p)[0]))].sort();
const provider = globalThis[Symbol.for('opentelemetry.js.api.1')]?.trace !== undefined;
console.log(JSON.stringify({ packages, provider }));
`;

async function probe(env: Record<string, string>) {
  const { stdout } = await run(
    `${REPO_ROOT}/node_modules/.bin/node`,
    ['--import', './services/kit/observability/register-tracing.ts', '--input-type=module', '-e', PROBE],
    { cwd: REPO_ROOT, env: { PATH: process.env.PATH, ...env } },
  );
  return JSON.parse(stdout) as { packages: string[]; provider: boolean };
}

describe('the tracing preload', () => {
  it('loads and registers nothing when no exporter is configured', async () => {
    expect(await probe({})).toEqual({ packages: [], provider: false });
  });

  it('starts the SDK with its instrumentations when an OTLP endpoint is set', async () => {
    const traced = await probe({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_SERVICE_NAME: 'preload-test' });
    expect(traced.packages).toEqual(expect.arrayContaining(['@opentelemetry/sdk-node', '@opentelemetry/instrumentation-http']));
    expect(traced.provider).toBe(true);
  });
});
