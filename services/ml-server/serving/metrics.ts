/**
 * Prometheus metrics of the ML Server. Created unregistered, then registered on the app's registry
 * (`createServiceApp` returns it), so two servers in one test process never share counters.
 */
import { Counter, Gauge, Histogram, type Metric, type Registry } from 'prom-client';
import { fastCounter, fastHistogram } from '../../kit/observability/fast-metrics.ts';

export function createMlMetrics() {
  // Counted on every prediction: label values in labelNames order, records handed over at scrape time.
  const predictions = fastCounter({
    name: 'hma_predictions_total',
    help: 'Prediction requests answered, by model, version and whether the prediction cache served them',
    labelNames: ['model', 'version', 'cached'],
    registers: [],
  });
  const predictionRows = fastCounter({
    name: 'hma_prediction_rows_total',
    help: 'Rows predicted (a batch request counts each row)',
    labelNames: ['model', 'version'],
    registers: [],
  });
  const duration = fastHistogram({
    name: 'hma_prediction_duration_seconds',
    help: 'Time to answer a prediction (resolve, cache, load, predict), in seconds',
    labelNames: ['model', 'cached'],
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [],
  });
  const errors = new Counter({
    name: 'hma_prediction_errors_total',
    help: 'Prediction requests refused or failed, by reason (not_found, invalid_input, model_unavailable)',
    labelNames: ['model', 'reason'] as const,
    registers: [],
  });
  const cacheBytes = new Gauge({ name: 'hma_model_cache_bytes', help: 'Estimated bytes held by loaded models', registers: [] });
  const cacheModels = new Gauge({ name: 'hma_model_cache_models', help: 'Loaded models held in memory', registers: [] });
  const loads = new Counter({
    name: 'hma_model_loads_total',
    help: 'Model artifact loads, by result (ok, missing, corrupt, unavailable)',
    labelNames: ['result'] as const,
    registers: [],
  });
  const loadDuration = new Histogram({
    name: 'hma_model_load_duration_seconds',
    help: 'Time to fetch, verify and load a model artifact, in seconds',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [],
  });
  const logDropped = new Counter({
    name: 'hma_prediction_log_dropped_total',
    help: 'Sampled prediction records dropped (buffer full or database unavailable)',
    registers: [],
  });
  const trainingJobs = new Counter({
    name: 'hma_training_jobs_total',
    help: 'Training jobs finished, by status',
    labelNames: ['status'] as const,
    registers: [],
  });
  const metrics = { predictions, predictionRows, duration, errors, cacheBytes, cacheModels, loads, loadDuration, logDropped, trainingJobs };
  return {
    ...metrics,
    register(registry: Registry) {
      for (const metric of Object.values(metrics)) registry.registerMetric(('metric' in metric ? metric.metric : metric) as Metric);
    },
  };
}

export type MlMetrics = ReturnType<typeof createMlMetrics>;
