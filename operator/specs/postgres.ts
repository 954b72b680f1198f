/**
 * Managed PostgreSQL: a one-replica StatefulSet of the official image, its Services and the init
 * script. The script runs once, on an empty data directory, and creates the application database
 * (owned by the app role, so migrations can create tables and public.schema_migrations), the
 * read-only ml_reader role and the schemas users, content and ml.
 */
import type { V1ConfigMap, V1ContainerPort } from '@kubernetes/client-node';
import { PORTS, POSTGRES, UIDS } from './constants.ts';
import type { BuildInput } from './context.ts';
import { secretEnv } from './env.ts';
import { childMeta } from './labels.ts';
import { execProbe } from './pod.ts';
import { SECRET_KEYS } from './secrets.ts';
import { dataServiceServices, dataServiceStatefulSet, dataServiceVersion, type DataServiceParams } from './stateful.ts';
import type { Child } from './types.ts';

export const POSTGRES_INIT_SCRIPT_KEY = '10-huntmaster.sh';

/** The init script. Credentials come from the environment (the generated Secret), never from this ConfigMap. */
export function postgresInitScript(): string {
  const schemas = POSTGRES.schemas;
  const reader = POSTGRES.readerSchemas.join(', ');
  return [
    '#!/bin/sh',
    '# Runs once, on an empty data directory (docker-entrypoint-initdb.d), as the postgres superuser.',
    'set -eu',
    'psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \\',
    '  --set=db="$HMA_DATABASE" \\',
    '  --set=app_user="$HMA_APP_USER" --set=app_password="$HMA_APP_PASSWORD" \\',
    '  --set=reader_user="$HMA_READER_USER" --set=reader_password="$HMA_READER_PASSWORD" <<\'SQL\'',
    `CREATE ROLE :"app_user" LOGIN PASSWORD :'app_password';`,
    `CREATE ROLE :"reader_user" LOGIN PASSWORD :'reader_password';`,
    'ALTER ROLE :"reader_user" SET default_transaction_read_only = on;',
    'CREATE DATABASE :"db" OWNER :"app_user";',
    'REVOKE ALL ON DATABASE :"db" FROM PUBLIC;',
    'GRANT CONNECT, TEMPORARY ON DATABASE :"db" TO :"app_user";',
    'GRANT CONNECT ON DATABASE :"db" TO :"reader_user";',
    '\\connect :"db"',
    ...schemas.map((s) => `CREATE SCHEMA IF NOT EXISTS ${s} AUTHORIZATION :"app_user";`),
    `GRANT USAGE ON SCHEMA ${reader} TO :"reader_user";`,
    `ALTER DEFAULT PRIVILEGES FOR ROLE :"app_user" IN SCHEMA ${reader} GRANT SELECT ON TABLES TO :"reader_user";`,
    `ALTER DEFAULT PRIVILEGES FOR ROLE :"app_user" IN SCHEMA ${reader} GRANT SELECT ON SEQUENCES TO :"reader_user";`,
    'SQL',
    '',
  ].join('\n');
}

const PORTS_POSTGRES: V1ContainerPort[] = [{ name: 'postgres', containerPort: PORTS.postgres, protocol: 'TCP' }];

/** The server's command line for spec.postgres.parameters (already checked and sorted by name). */
export function postgresArgs(parameters: Record<string, string>): string[] {
  return ['postgres', ...Object.entries(parameters).flatMap(([name, value]) => ['-c', `${name}=${value}`])];
}

/** Managed PostgreSQL's objects, or none in external mode. */
export function postgresObjects(input: BuildInput): Child[] {
  const { cr, spec, names, images } = input;
  if (spec.postgres.mode !== 'managed') return [];
  const secret = names.secrets.postgres;
  const K = SECRET_KEYS.postgres;
  // Ready only once the real server listens on TCP: during initialisation the entrypoint's
  // temporary server listens on the Unix socket only.
  const isReady = ['pg_isready', '--host', '127.0.0.1', '--port', String(PORTS.postgres), '--username', POSTGRES.superuser];
  const params: DataServiceParams = {
    key: 'postgres',
    name: names.postgres,
    headlessName: names.postgresHeadless,
    image: images.postgres,
    settings: spec.postgres,
    uid: UIDS.postgres,
    gid: UIDS.postgres,
    dataMountPath: POSTGRES.dataDir,
    terminationGracePeriodSeconds: 60,
    container: {
      name: 'postgres',
      // The image's command is `postgres`; settings from the CR follow it as -c name=value.
      ...(Object.keys(spec.postgres.parameters).length ? { args: postgresArgs(spec.postgres.parameters) } : {}),
      ports: PORTS_POSTGRES,
      env: [
        secretEnv('POSTGRES_USER', { name: secret, key: K.superuserUsername }),
        secretEnv('POSTGRES_PASSWORD', { name: secret, key: K.superuserPassword }),
        // A subdirectory: the volume's root may hold lost+found, which initdb refuses.
        { name: 'PGDATA', value: POSTGRES.pgdata },
        secretEnv('HMA_DATABASE', { name: secret, key: K.database }),
        secretEnv('HMA_APP_USER', { name: secret, key: K.username }),
        secretEnv('HMA_APP_PASSWORD', { name: secret, key: K.password }),
        secretEnv('HMA_READER_USER', { name: secret, key: K.readerUsername }),
        secretEnv('HMA_READER_PASSWORD', { name: secret, key: K.readerPassword }),
      ],
      startupProbe: execProbe(isReady, { periodSeconds: 5, failureThreshold: 120 }),
      readinessProbe: execProbe(isReady, { periodSeconds: 5 }),
      livenessProbe: execProbe(isReady, { periodSeconds: 10, failureThreshold: 6 }),
      volumeMounts: [
        { name: 'init', mountPath: '/docker-entrypoint-initdb.d', readOnly: true },
        { name: 'run', mountPath: '/var/run/postgresql' },
      ],
    },
    volumes: [
      { name: 'init', configMap: { name: names.postgresInit, defaultMode: 0o555 } },
      { name: 'run', emptyDir: {} },
    ],
  };
  const initConfigMap: Child<V1ConfigMap> = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: childMeta(cr, names.postgresInit, 'postgres', { version: dataServiceVersion(images.postgres) }),
    data: { [POSTGRES_INIT_SCRIPT_KEY]: postgresInitScript() },
  };
  return [initConfigMap, dataServiceStatefulSet(input, params), ...dataServiceServices(input, params, PORTS_POSTGRES)];
}
