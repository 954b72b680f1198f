/** SQL of `GET /admin/analytics`: the per-version counts, latencies and live input statistics. */
import type { Queryable } from '../../kit/deps/database.ts';

export interface TrainingStats {
  features?: Record<string, { mean: number; std: number; count?: number }>;
}

export type VersionRow = { model_id: string; model: string; version: number; training_stats: TrainingStats | null; aliases: string[] };
export type CountRow = { model_id: string; version: number; requests: number; rows: number; cached: number; errors: number };
export type LatencyRow = { model_id: string; version: number; p50: number; p95: number; p99: number; sampled: number };
export type LiveInputRow = { model_id: string; version: number; feature: string; mean: number; std: number; n: number };

export function analyticsRepository(db: Queryable) {
  return {
    /** Every version of every model (or of `model`), with its training statistics and aliases. */
    async versions(model: string | null): Promise<VersionRow[]> {
      const { rows } = await db.query<VersionRow>(
        `SELECT v.model_id, m.name AS model, v.version, v.training_stats,
            coalesce((SELECT array_agg(a.alias ORDER BY a.alias) FROM ml.model_aliases a WHERE a.model_id = v.model_id AND a.version = v.version), '{}') AS aliases
       FROM ml.model_versions v JOIN ml.models m ON m.id = v.model_id
      WHERE ($1::text IS NULL OR m.name = $1) ORDER BY m.name, v.version`,
        [model],
      );
      return rows;
    },

    /** Exact request, row, cache-hit and error counts per version, from the hour of `since` on. */
    async counts(since: Date): Promise<CountRow[]> {
      const { rows } = await db.query<CountRow>(
        `SELECT model_id, version, sum(requests)::float8 AS requests, sum(rows)::float8 AS rows, sum(cached)::float8 AS cached, sum(errors)::float8 AS errors
       FROM ml.prediction_counts WHERE bucket >= date_trunc('hour', $1::timestamptz) GROUP BY model_id, version`,
        [since],
      );
      return rows;
    },

    /** Latency percentiles of the sampled successful predictions since `since`. */
    async latency(since: Date): Promise<LatencyRow[]> {
      const { rows } = await db.query<LatencyRow>(
        `SELECT model_id, version,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) AS p50,
            percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) AS p95,
            percentile_cont(0.99) WITHIN GROUP (ORDER BY latency_ms) AS p99,
            count(*)::int AS sampled
       FROM ml.predictions WHERE created_at >= $1 AND error IS NULL GROUP BY model_id, version`,
        [since],
      );
      return rows;
    },

    /** Mean and std of each numeric input of the sampled successful predictions since `since`. */
    async liveInputs(since: Date): Promise<LiveInputRow[]> {
      const { rows } = await db.query<LiveInputRow>(
        `SELECT p.model_id, p.version, kv.key AS feature, avg((kv.value)::float8) AS mean, stddev_pop((kv.value)::float8) AS std, count(*)::int AS n
       FROM ml.predictions p
      CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(p.inputs) = 'array' THEN p.inputs ELSE '[]'::jsonb END) AS r(item)
      CROSS JOIN LATERAL jsonb_each(CASE WHEN jsonb_typeof(r.item) = 'object' THEN r.item ELSE '{}'::jsonb END) AS kv
      WHERE p.created_at >= $1 AND p.error IS NULL AND jsonb_typeof(kv.value) = 'number'
      GROUP BY p.model_id, p.version, kv.key`,
        [since],
      );
      return rows;
    },
  };
}
