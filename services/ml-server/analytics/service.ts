/**
 * `GET /admin/analytics` (admin): per model version, over a window (`since`, default the last 24 h):
 * - requests, rows, cache hits and errors: exact, from ml.prediction_counts (every replica adds its
 *   counts there; counts are per hour, so the window starts at the hour of `since`);
 * - latency p50/p95/p99: from the sampled ml.predictions (PREDICTION_LOG_SAMPLE_RATE), successful
 *   requests only;
 * - input drift: mean and std of each numeric input in the sampled live inputs against the training
 *   statistics of the version (`training_stats`), as a standardised mean shift
 *   ((live mean − training mean) / training std) and a std ratio; a feature is `drifted` when
 *   |shift| > DRIFT_THRESHOLD.
 * This replica's buffered log is flushed first, so its own recent traffic is included.
 */
import type { MlContext } from '../context.ts';
import { analyticsRepository } from './repository.ts';

const round = (x: number | null, digits = 4) => (x === null || !Number.isFinite(x) ? null : Math.round(x * 10 ** digits) / 10 ** digits);

export function analyticsService(app: MlContext) {
  const repo = analyticsRepository(app.deps.db);
  return {
    async report(query: { since?: string | undefined; model?: string | undefined }) {
      await app.predictionLog.flush();
      const since = query.since ? new Date(query.since) : new Date(Date.now() - 24 * 3600 * 1000);
      const model = query.model ?? null;
      const [versions, counts, latency, live] = await Promise.all([
        repo.versions(model),
        repo.counts(since),
        repo.latency(since),
        repo.liveInputs(since),
      ]);
      const key = (r: { model_id: string; version: number }) => `${r.model_id}:${r.version}`;
      const countsBy = new Map(counts.map((r) => [key(r), r]));
      const latencyBy = new Map(latency.map((r) => [key(r), r]));
      const liveBy = new Map<string, Map<string, { mean: number; std: number; n: number }>>();
      for (const r of live) {
        const m = liveBy.get(key(r)) ?? new Map();
        m.set(r.feature, { mean: Number(r.mean), std: Number(r.std), n: r.n });
        liveBy.set(key(r), m);
      }
      const threshold = app.config.DRIFT_THRESHOLD;
      return {
        since: since.toISOString(),
        generated_at: new Date().toISOString(),
        drift_threshold: threshold,
        server: {
          instance: app.config.ML_INSTANCE_ID,
          model_cache: { bytes: app.models.bytes, models: app.models.size, max_bytes: app.config.MODEL_CACHE_BYTES },
          prediction_log: {
            sample_rate: app.config.PREDICTION_LOG_SAMPLE_RATE,
            buffered: app.predictionLog.buffered,
            written: app.predictionLog.written,
            dropped: app.predictionLog.dropped,
          },
        },
        models: versions.map((v) => {
          const c = countsBy.get(key(v));
          const l = latencyBy.get(key(v));
          const requests = c ? Number(c.requests) : 0;
          const stats = v.training_stats?.features;
          const liveStats = liveBy.get(key(v));
          const drift = stats
            ? Object.entries(stats).map(([feature, t]) => {
                const s = liveStats?.get(feature);
                const shift = s ? (t.std > 0 ? (s.mean - t.mean) / t.std : s.mean === t.mean ? 0 : null) : null;
                return {
                  feature,
                  training_mean: round(t.mean),
                  training_std: round(t.std),
                  live_mean: s ? round(s.mean) : null,
                  live_std: s ? round(s.std) : null,
                  live_count: s?.n ?? 0,
                  mean_shift: round(shift),
                  std_ratio: s && t.std > 0 ? round(s.std / t.std) : null,
                  drifted: shift === null ? (s ? true : false) : Math.abs(shift) > threshold,
                };
              })
            : null;
          return {
            model: v.model,
            version: v.version,
            aliases: v.aliases,
            requests,
            rows: c ? Number(c.rows) : 0,
            cache_hits: c ? Number(c.cached) : 0,
            cache_hit_ratio: requests ? round(Number(c!.cached) / requests) : null,
            errors: c ? Number(c.errors) : 0,
            error_rate: requests ? round(Number(c!.errors) / requests) : null,
            latency_ms: l
              ? { p50: round(Number(l.p50), 3), p95: round(Number(l.p95), 3), p99: round(Number(l.p99), 3), sampled: l.sampled }
              : null,
            drift: drift ? { features: drift, drifted: drift.filter((d) => d.drifted).map((d) => d.feature) } : null,
          };
        }),
      };
    },
  };
}
