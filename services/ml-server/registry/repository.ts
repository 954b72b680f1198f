/** SQL for the model registry: models, versions and aliases in the `ml` schema. */
import type { Database, Queryable } from '../../kit/deps/database.ts';

export type ModelTask = 'classification' | 'regression';
export type ArtifactFormat = 'linear' | 'logistic' | 'xgboost';

export interface ModelRow {
  id: string;
  name: string;
  description: string;
  task: ModelTask;
  format: ArtifactFormat;
  input_schema: unknown;
  output_schema: unknown;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface VersionRow {
  model_id: string;
  version: number;
  artifact_key: string;
  sha256: string;
  size_bytes: number;
  format: ArtifactFormat;
  task: ModelTask;
  input_schema: unknown;
  output_schema: unknown;
  approx_bytes: number;
  details: Record<string, unknown>;
  metrics: Record<string, unknown>;
  training_stats: Record<string, unknown> | null;
  description: string;
  source: 'upload' | 'training';
  training_job_id: string | null;
  created_by: string | null;
  created_at: Date;
}

export interface NewVersion {
  modelId: string;
  artifactKey: string;
  sha256: string;
  sizeBytes: number;
  format: ArtifactFormat;
  task: ModelTask;
  inputSchema: unknown;
  outputSchema: unknown;
  approxBytes: number;
  details: Record<string, unknown>;
  metrics: Record<string, unknown>;
  trainingStats: Record<string, unknown> | null;
  description: string;
  source: 'upload' | 'training';
  trainingJobId: string | null;
  createdBy: string | null;
}

/** What serving needs about one model, read in one query and cached by the ModelDirectory. */
export interface ServingVersion {
  version: number;
  artifactKey: string;
  sha256: string;
  sizeBytes: number;
  format: ArtifactFormat;
  task: ModelTask;
  inputSchema: unknown;
  outputSchema: unknown;
  trainingStats: Record<string, unknown> | null;
}

export interface ServingModel {
  id: string;
  name: string;
  task: ModelTask;
  format: ArtifactFormat;
  aliases: Record<string, number>;
  latest: number | null;
  versions: Map<number, ServingVersion>;
}

export class DuplicateModelError extends Error {}
export class VersionNotFoundError extends Error {}
export class AliasedVersionError extends Error {
  readonly aliases: string[];
  constructor(aliases: string[]) {
    super(`the version is referenced by alias(es): ${aliases.join(', ')}`);
    this.aliases = aliases;
  }
}

const MODEL_COLUMNS = 'id, name, description, task, format, input_schema, output_schema, created_by, created_at, updated_at';
const VERSION_COLUMNS = `model_id, version, artifact_key, sha256, size_bytes::float8 AS size_bytes, format, task, input_schema, output_schema,
  approx_bytes::float8 AS approx_bytes, details, metrics, training_stats, description, source, training_job_id, created_by, created_at`;

const pgCode = (err: unknown) => (err as { code?: string }).code;

export function registryRepository(db: Database) {
  return {
    async createModel(m: {
      name: string;
      description: string;
      task: ModelTask;
      format: ArtifactFormat;
      inputSchema: unknown;
      outputSchema: unknown;
      createdBy: string | null;
    }): Promise<ModelRow> {
      try {
        const { rows } = await db.query<ModelRow>(
          `INSERT INTO ml.models (name, description, task, format, input_schema, output_schema, created_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${MODEL_COLUMNS}`,
          [
            m.name,
            m.description,
            m.task,
            m.format,
            m.inputSchema === undefined ? null : JSON.stringify(m.inputSchema),
            m.outputSchema === undefined ? null : JSON.stringify(m.outputSchema),
            m.createdBy,
          ],
        );
        return rows[0]!;
      } catch (err) {
        if (pgCode(err) === '23505') throw new DuplicateModelError(`a model named ${m.name} already exists`);
        throw err;
      }
    },

    async getModel(name: string): Promise<ModelRow | null> {
      const { rows } = await db.query<ModelRow>(`SELECT ${MODEL_COLUMNS} FROM ml.models WHERE name = $1`, [name]);
      return rows[0] ?? null;
    },

    /** Every model with its latest version (or null) and its aliases. */
    async listModels(): Promise<Array<ModelRow & { latest_version: VersionRow | null; aliases: Record<string, number> }>> {
      const { rows } = await db.query<ModelRow & { latest_version: VersionRow | null; aliases: Record<string, number> }>(
        `SELECT m.id, m.name, m.description, m.task, m.format, m.input_schema, m.output_schema, m.created_by, m.created_at, m.updated_at,
                (SELECT to_jsonb(v) - 'input_schema' - 'output_schema' FROM (
                   SELECT version, sha256, size_bytes, format, task, metrics, source, created_at FROM ml.model_versions
                    WHERE model_id = m.id ORDER BY version DESC LIMIT 1) v) AS latest_version,
                coalesce((SELECT jsonb_object_agg(a.alias, a.version) FROM ml.model_aliases a WHERE a.model_id = m.id), '{}'::jsonb) AS aliases
           FROM ml.models m ORDER BY m.name`,
      );
      return rows;
    },

    async listVersions(modelId: string): Promise<VersionRow[]> {
      const { rows } = await db.query<VersionRow>(`SELECT ${VERSION_COLUMNS} FROM ml.model_versions WHERE model_id = $1 ORDER BY version`, [
        modelId,
      ]);
      return rows;
    },

    async getVersion(modelId: string, version: number): Promise<VersionRow | null> {
      const { rows } = await db.query<VersionRow>(`SELECT ${VERSION_COLUMNS} FROM ml.model_versions WHERE model_id = $1 AND version = $2`, [
        modelId,
        version,
      ]);
      return rows[0] ?? null;
    },

    async aliasesOf(modelId: string): Promise<Record<string, number>> {
      const { rows } = await db.query<{ alias: string; version: number }>(
        'SELECT alias, version FROM ml.model_aliases WHERE model_id = $1 ORDER BY alias',
        [modelId],
      );
      return Object.fromEntries(rows.map((r) => [r.alias, r.version]));
    },

    /** Allocates the next version number and records the version, in one transaction. */
    async insertVersion(v: NewVersion): Promise<VersionRow> {
      return db.transaction(async (tx) => insertVersionIn(tx, v));
    },

    async setAlias(modelId: string, alias: string, version: number, userId: string | null): Promise<void> {
      try {
        await db.query(
          `INSERT INTO ml.model_aliases (model_id, alias, version, updated_by) VALUES ($1, $2, $3, $4)
           ON CONFLICT (model_id, alias) DO UPDATE SET version = EXCLUDED.version, updated_by = EXCLUDED.updated_by, updated_at = now()`,
          [modelId, alias, version, userId],
        );
      } catch (err) {
        if (pgCode(err) === '23503') throw new VersionNotFoundError(`version ${version} does not exist`);
        throw err;
      }
    },

    async deleteAlias(modelId: string, alias: string): Promise<boolean> {
      const { rowCount } = await db.query('DELETE FROM ml.model_aliases WHERE model_id = $1 AND alias = $2', [modelId, alias]);
      return rowCount > 0;
    },

    /** Deletes a version row; refused while an alias points at it. Returns the artifact key to remove. */
    async deleteVersion(modelId: string, version: number): Promise<string> {
      return db.transaction(async (tx) => {
        const { rows } = await tx.query<{ artifact_key: string }>(
          'SELECT artifact_key FROM ml.model_versions WHERE model_id = $1 AND version = $2 FOR UPDATE',
          [modelId, version],
        );
        if (!rows[0]) throw new VersionNotFoundError(`version ${version} does not exist`);
        const aliases = await tx.query<{ alias: string }>(
          'SELECT alias FROM ml.model_aliases WHERE model_id = $1 AND version = $2 ORDER BY alias',
          [modelId, version],
        );
        if (aliases.rows.length) throw new AliasedVersionError(aliases.rows.map((r) => r.alias));
        try {
          await tx.query('DELETE FROM ml.model_versions WHERE model_id = $1 AND version = $2', [modelId, version]);
        } catch (err) {
          // An alias set concurrently: the foreign key refuses the delete.
          if (pgCode(err) === '23503') throw new AliasedVersionError(['(set concurrently)']);
          throw err;
        }
        return rows[0].artifact_key;
      });
    },

    /** One query with everything serving needs about `name`, or null when there is no such model. */
    async servingModel(name: string): Promise<ServingModel | null> {
      const { rows } = await db.query<{
        id: string;
        name: string;
        task: ModelTask;
        format: ArtifactFormat;
        aliases: Record<string, number>;
        versions: Array<{
          version: number;
          artifact_key: string;
          sha256: string;
          size_bytes: number;
          format: ArtifactFormat;
          task: ModelTask;
          input_schema: unknown;
          output_schema: unknown;
          training_stats: Record<string, unknown> | null;
        }>;
      }>(
        `SELECT m.id, m.name, m.task, m.format,
                coalesce((SELECT jsonb_object_agg(a.alias, a.version) FROM ml.model_aliases a WHERE a.model_id = m.id), '{}'::jsonb) AS aliases,
                coalesce((SELECT jsonb_agg(jsonb_build_object('version', v.version, 'artifact_key', v.artifact_key, 'sha256', v.sha256,
                                   'size_bytes', v.size_bytes, 'format', v.format, 'task', v.task, 'input_schema', v.input_schema,
                                   'output_schema', v.output_schema, 'training_stats', v.training_stats) ORDER BY v.version)
                            FROM ml.model_versions v WHERE v.model_id = m.id), '[]'::jsonb) AS versions
           FROM ml.models m WHERE m.name = $1`,
        [name],
      );
      const row = rows[0];
      if (!row) return null;
      const versions = new Map<number, ServingVersion>();
      for (const v of row.versions) {
        versions.set(v.version, {
          version: v.version,
          artifactKey: v.artifact_key,
          sha256: v.sha256,
          sizeBytes: Number(v.size_bytes),
          format: v.format,
          task: v.task,
          inputSchema: v.input_schema,
          outputSchema: v.output_schema,
          trainingStats: v.training_stats,
        });
      }
      const latest = row.versions.length ? row.versions[row.versions.length - 1]!.version : null;
      return { id: row.id, name: row.name, task: row.task, format: row.format, aliases: row.aliases, latest, versions };
    },
  };
}

export async function insertVersionIn(tx: Queryable, v: NewVersion): Promise<VersionRow> {
  const allocated = await tx.query<{ version: number }>(
    'UPDATE ml.models SET next_version = next_version + 1, updated_at = now() WHERE id = $1 RETURNING next_version - 1 AS version',
    [v.modelId],
  );
  const version = allocated.rows[0]?.version;
  if (version === undefined) throw new VersionNotFoundError('the model no longer exists');
  const { rows } = await tx.query<VersionRow>(
    `INSERT INTO ml.model_versions (model_id, version, artifact_key, sha256, size_bytes, format, task, input_schema, output_schema,
        approx_bytes, details, metrics, training_stats, description, source, training_job_id, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) RETURNING ${VERSION_COLUMNS}`,
    [
      v.modelId,
      version,
      v.artifactKey,
      v.sha256,
      v.sizeBytes,
      v.format,
      v.task,
      JSON.stringify(v.inputSchema),
      JSON.stringify(v.outputSchema),
      Math.round(v.approxBytes),
      JSON.stringify(v.details),
      JSON.stringify(v.metrics),
      v.trainingStats === null ? null : JSON.stringify(v.trainingStats),
      v.description,
      v.source,
      v.trainingJobId,
      v.createdBy,
    ],
  );
  return rows[0]!;
}

export type RegistryRepository = ReturnType<typeof registryRepository>;
