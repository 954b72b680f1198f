/**
 * `npm start`: the whole platform on one machine, from a fresh clone, after `npm ci`.
 *
 * The Content Bridge (8090) and the ML Server (8010) run in this one process (see
 * scripts/start/platform.ts for why), each built from its own code, configuration and migrations.
 * Dependencies are the embedded drivers unless a URL says otherwise: PGlite for PostgreSQL, an
 * in-process cache for Redis, a filesystem store for S3, all under the data directory (./.hma-data),
 * which survives restarts. The first start seeds an admin and sample data. Ctrl-C stops gracefully.
 *
 * This is the one-machine mode. Production is the Helm chart or the operator (docs/local.md).
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../services/kit/config.ts';
import { isProcessAlive } from '../services/kit/deps/embedded/process.ts';
import { selectDrivers, type Drivers } from '../services/kit/deps/index.ts';
import { PortInUseError, startPlatform, type Platform } from './start/platform.ts';

const DEFAULTS = { portContentBridge: 8090, portMlServer: 8010, host: '127.0.0.1', dataDir: '.hma-data' };

const HELP_OPTIONS = `Usage: npm start [-- options]

Runs the Hunt Master Academy platform on this machine: the Content Bridge and the ML Server, in one
process, on embedded PostgreSQL (PGlite), cache and object storage unless real ones are configured.
Data is kept in the data directory across restarts; the first start creates an admin and sample data.

Options (each also has an environment variable):
  --port-content-bridge <port>  Content Bridge port       CONTENT_BRIDGE_PORT  (default ${DEFAULTS.portContentBridge})
  --port-ml-server <port>       ML Server port            ML_SERVER_PORT       (default ${DEFAULTS.portMlServer})
  --host <address>              interface to listen on    HOST                 (default ${DEFAULTS.host}: this machine only)
  --data-dir <dir>              embedded data directory   HMA_DATA_DIR         (default ./${DEFAULTS.dataDir})
  --reset                       delete the data directory first, then start fresh
  --verbose                     print the services' JSON logs too (always in <data-dir>/logs/platform.log)
  -h, --help                    show this help

The first admin: ADMIN_EMAIL and ADMIN_PASSWORD (12+ characters) when set, otherwise a generated
password, printed once on the first start. Any other variable of the services applies as well.`;

function driverLines(drivers: Drivers, dataDir: string): string[] {
  const d = (path: string) => join(dataDir, path);
  return [
    drivers.database === 'pglite'
      ? `  database      embedded  PGlite (PostgreSQL 18 in WebAssembly), ${d('postgres')}   real: set DATABASE_URL`
      : '  database      real      PostgreSQL at DATABASE_URL                 embedded: unset DATABASE_URL',
    drivers.cache === 'memory'
      ? '  cache         embedded  in-process, bounded; lost on restart      real: set REDIS_URL'
      : '  cache         real      Redis at REDIS_URL                         embedded: unset REDIS_URL',
    drivers.objectStore === 'filesystem'
      ? `  object store  embedded  files in ${d('objects')}, presigned URLs served by the Content Bridge   real: set S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY`
      : '  object store  real      S3/MinIO at S3_ENDPOINT                    embedded: unset S3_ENDPOINT',
  ];
}

function port(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new ConfigError(`${name} must be a port number (0-65535), not '${value}'`);
  return n;
}

/** Deletes the data directory, unless another process uses it or it does not look like one of ours. */
function reset(dataDir: string): void {
  if (!existsSync(dataDir)) return;
  const lock = join(dataDir, 'postgres.lock');
  if (existsSync(lock)) {
    const pid = Number(readFileSync(lock, 'utf8').trim());
    if (isProcessAlive(pid)) throw new ConfigError(`--reset: ${dataDir} is in use by process ${pid}; stop it first`);
  }
  const ours = new Set(['postgres', 'postgres.lock', 'objects', 'logs', 'jwt.secret', 'object-url.secret', 'sample-data.json']);
  const entries = readdirSync(dataDir);
  if (entries.some((e) => !ours.has(e))) {
    throw new ConfigError(
      `--reset: ${dataDir} holds files the platform did not write (${entries.filter((e) => !ours.has(e)).join(', ')}); not deleting it`,
    );
  }
  rmSync(dataDir, { recursive: true, force: true });
}

function banner(p: Platform): string {
  const pw = p.admin.source === 'generated' ? p.admin.password! : p.admin.source === 'env' ? '$ADMIN_PASSWORD' : '<your admin password>';
  // Single quotes keep a generated password literal; the ADMIN_PASSWORD variable needs double quotes to expand.
  const loginBody =
    p.admin.source === 'env'
      ? `"{\\"username\\":\\"${p.admin.username}\\",\\"password\\":\\"${pw}\\"}"`
      : `'{"username":"${p.admin.username}","password":"${pw}"}'`;
  const credentials = {
    generated: [
      `Admin account (generated now, shown only this once: keep it somewhere safe):`,
      `  username: ${p.admin.username}`,
      `  password: ${p.admin.password}`,
    ],
    env: [`Admin account: '${p.admin.username}' (${p.admin.email}) with the password from ADMIN_PASSWORD.`],
    existing: [
      `Admin account: '${p.admin.username}' already exists in this data directory (its password was shown on the first start,`,
      `  or came from ADMIN_PASSWORD). Forgot it? npm start -- --reset starts over.`,
    ],
  }[p.admin.source];
  const seeded = p.seeded
    ? `Sample data${p.seededNow ? ' (created now)' : ''}: course "${'Hunting Safety Fundamentals'}" with ${p.seeded.contentIds.length} documents and a quiz; model '${p.seeded.model.name}' v${p.seeded.model.version} aliased production.`
    : 'Sample data: none.';
  const predict = JSON.stringify({
    model: p.seeded?.model.name ?? 'completion-risk',
    inputs: { active_days: 3, events_per_active_day: 2, minutes_per_active_day: 12, avg_score: 68, days_inactive: 9, touched_ratio: 0.33 },
  });
  return [
    '',
    'Hunt Master Academy is running.',
    '',
    `  Content Bridge  ${p.bridgeUrl}   (API description: ${p.bridgeUrl}/openapi.json)`,
    `  ML Server       ${p.mlUrl}   (API description: ${p.mlUrl}/openapi.json)`,
    `  Data            ${p.dataDir}   (kept across restarts; logs in ${p.logFile})`,
    '',
    'Drivers:',
    ...driverLines(p.drivers, p.dataDir),
    '',
    ...credentials,
    '',
    seeded,
    '',
    'Try it:',
    `  # 1. log in, then copy access_token from the answer: export TOKEN=...`,
    `  curl -s -X POST ${p.bridgeUrl}/auth/login -H 'content-type: application/json' -d ${loginBody}`,
    `  # 2. search the content`,
    `  curl -s '${p.bridgeUrl}/api/content/search?q=firearm+safety' -H "authorization: Bearer $TOKEN"`,
    `  # 3. predict with the sample model`,
    `  curl -s -X POST ${p.mlUrl}/predict -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '${predict}'`,
    '',
    'Press Ctrl-C to stop.',
    '',
  ].join('\n');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      'port-content-bridge': { type: 'string' },
      'port-ml-server': { type: 'string' },
      host: { type: 'string' },
      'data-dir': { type: 'string' },
      reset: { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  const env = process.env;
  const dataDir = resolve(values['data-dir'] ?? env.HMA_DATA_DIR ?? DEFAULTS.dataDir);
  const portContentBridge = port(
    values['port-content-bridge'] ?? env.CONTENT_BRIDGE_PORT,
    DEFAULTS.portContentBridge,
    '--port-content-bridge',
  );
  const portMlServer = port(values['port-ml-server'] ?? env.ML_SERVER_PORT, DEFAULTS.portMlServer, '--port-ml-server');
  const host = values.host ?? env.HOST ?? DEFAULTS.host;
  const drivers = selectDrivers({ ...env, HMA_EMBEDDED: true, DATABASE_POOL_SIZE: 1, S3_BUCKET: '', S3_REGION: '' });

  if (values.help) {
    process.stdout.write(
      `${HELP_OPTIONS}\n\nDrivers with the current environment (data directory ${dataDir}):\n${driverLines(drivers, dataDir).join('\n')}\n`,
    );
    return 0;
  }
  if (values.reset) {
    reset(dataDir);
    process.stdout.write(`reset: deleted ${dataDir}\n`);
  }

  const say = (line: string) => process.stdout.write(`… ${line}\n`);
  say(`starting (data directory ${dataDir})`);
  const platform = await startPlatform({ env, dataDir, portContentBridge, portMlServer, host, verbose: values.verbose, say });
  process.stdout.write(banner(platform));

  await new Promise<void>((resolveStop) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        process.stdout.write(`\n${signal} again: exiting now\n`);
        process.exit(130);
      }
      stopping = true;
      process.stdout.write(`\n${signal}: stopping (finishing requests in flight, closing the database)…\n`);
      platform.shutdown(signal).then(resolveStop, (err: unknown) => {
        process.stderr.write(`error while stopping: ${(err as Error).message}\n`);
        resolveStop();
      });
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  process.stdout.write('stopped.\n');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof PortInUseError) {
      const flag = err.service === 'Content Bridge' ? '--port-content-bridge' : '--port-ml-server';
      const variable = err.service === 'Content Bridge' ? 'CONTENT_BRIDGE_PORT' : 'ML_SERVER_PORT';
      process.stderr.write(
        `Port ${err.port} (${err.service}) is already in use.\n` +
          `Stop whatever is using it, or choose another port: npm start -- ${flag} ${err.port + 1}  (or ${variable}=${err.port + 1} npm start)\n`,
      );
      process.exit(1);
    }
    if (err instanceof ConfigError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`${(err as Error).message}\nnpm start -- --help lists the options.\n`);
      process.exit(78);
    }
    process.stderr.write(`npm start failed: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
