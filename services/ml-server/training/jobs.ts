/**
 * Training jobs, run in-process in the background (never on a request): a job row is created as
 * `queued`, then a runner marks it `running` (with this replica's id and a heartbeat), trains, and
 * registers the result as a NEW VERSION of the model carrying its evaluation metrics and the
 * training feature statistics (the drift reference). It never moves an alias: promoting a trained
 * version is a separate, deliberate PUT /models/{name}/aliases/production.
 *
 * Jobs survive restarts: at startup, jobs left `queued`/`running` by this replica (same
 * ML_INSTANCE_ID) or by a replica whose heartbeat stopped (TRAINING_JOB_STALE_SECONDS) are marked
 * `failed` with "interrupted by restart". A live replica's job is never touched.
 *
 * Reads of the Content Bridge's tables go through `readDb` (ML_READONLY_DATABASE_URL when set) inside
 * a READ ONLY transaction, so training can never write there even through the fallback pool.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readOnlyTransaction, type Database } from '../../kit/deps/database.ts';
import type { ObjectStore } from '../../kit/deps/object-store.ts';
import type { Logger } from '../../kit/observability/logger.ts';
import { accuracy, auc, fitLogisticRegression, loadModel, logLoss, trainTestSplit } from '../inference/index.ts';
import { compatibilityProblems } from '../registry/model.ts';
import { insertVersionIn, type ModelRow } from '../registry/repository.ts';
import { COMPLETION_FEATURES, completionFeatures, featureStats, isCompleted, readAggregates } from './features.ts';

export const TRAINING_TASKS = ['completion_risk'] as const;
export type TrainingTask = (typeof TRAINING_TASKS)[number];

export interface TrainParams {
  from?: string | undefined;
  to?: string | undefined;
}

export interface JobRow {
  id: string;
  model_id: string;
  model_name: string;
  task: string;
  params: TrainParams;
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  error: string | null;
  result_version: number | null;
  metrics: Record<string, unknown> | null;
  instance_id: string | null;
  created_by: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

export class TrainingFailure extends Error {}

export const MIN_EXAMPLES = 10;

export interface TrainingJobsOptions {
  db: Database;
  readDb: Database;
  store: ObjectStore;
  logger: Logger;
  instanceId: string;
  staleSeconds: number;
  heartbeatMs: number;
  /** Called after a version is registered (drops cached metadata on every replica). */
  onVersion: (modelName: string) => void;
  onFinished?: (status: 'succeeded' | 'failed') => void;
}

const JOB_COLUMNS = `j.id, j.model_id, m.name AS model_name, j.task, j.params, j.status, j.error, j.result_version, j.metrics, j.instance_id,
  j.created_by, j.created_at, j.started_at, j.finished_at`;

export function toJob(j: JobRow) {
  const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
  return {
    job_id: j.id,
    model: j.model_name,
    task: j.task,
    params: j.params,
    status: j.status,
    error: j.error,
    result_version: j.result_version,
    metrics: j.metrics,
    created_at: iso(j.created_at),
    started_at: iso(j.started_at),
    finished_at: iso(j.finished_at),
  };
}

export class TrainingJobs {
  readonly #o: TrainingJobsOptions;
  readonly #running = new Set<Promise<void>>();
  #stopping = false;

  constructor(options: TrainingJobsOptions) {
    this.#o = options;
  }

  /** Marks jobs interrupted by a restart (this replica's, or a dead replica's) as failed; returns how many. */
  async recoverInterrupted(): Promise<number> {
    const { rowCount } = await this.#o.db.query(
      `UPDATE ml.training_jobs SET status = 'failed', error = 'interrupted by restart', finished_at = now()
        WHERE status IN ('queued', 'running')
          AND (instance_id = $1 OR instance_id IS NULL OR coalesce(heartbeat_at, created_at) < now() - make_interval(secs => $2))`,
      [this.#o.instanceId, this.#o.staleSeconds],
    );
    if (rowCount) this.#o.logger.warn({ jobs: rowCount }, 'training jobs interrupted by a restart marked failed');
    return rowCount;
  }

  async get(id: string): Promise<JobRow | null> {
    const { rows } = await this.#o.db.query<JobRow>(
      `SELECT ${JOB_COLUMNS} FROM ml.training_jobs j JOIN ml.models m ON m.id = j.model_id WHERE j.id = $1`,
      [id],
    );
    return rows[0] ?? null;
  }

  /** Records a queued job and starts it in the background; returns at once. */
  async submit(model: ModelRow, task: TrainingTask, params: TrainParams, userId: string | null): Promise<string> {
    const { rows } = await this.#o.db.query<{ id: string }>(
      `INSERT INTO ml.training_jobs (model_id, task, params, status, instance_id, heartbeat_at, created_by)
       VALUES ($1, $2, $3, 'queued', $4, now(), $5) RETURNING id`,
      [model.id, task, JSON.stringify(params), this.#o.instanceId, userId],
    );
    const id = rows[0]!.id;
    const run = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.#run(id, model, params));
    this.#running.add(run);
    void run.finally(() => this.#running.delete(run));
    return id;
  }

  /** Waits for running jobs (they are short); a job cut off by a hard kill is recovered at the next start. */
  async stop(timeoutMs = 10_000): Promise<void> {
    this.#stopping = true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.#running]),
      new Promise((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }

  get active(): number {
    return this.#running.size;
  }

  async #run(id: string, model: ModelRow, params: TrainParams): Promise<void> {
    const { db, logger } = this.#o;
    const log = logger.child({ job_id: id, model: model.name });
    if (this.#stopping) return; // left queued: the next start marks it interrupted
    const heartbeat = setInterval(() => {
      db.query('UPDATE ml.training_jobs SET heartbeat_at = now() WHERE id = $1', [id]).catch(() => undefined);
    }, this.#o.heartbeatMs);
    heartbeat.unref();
    let artifactKey: string | undefined;
    try {
      await db.query(
        `UPDATE ml.training_jobs SET status = 'running', started_at = now(), heartbeat_at = now(), instance_id = $2 WHERE id = $1`,
        [id, this.#o.instanceId],
      );
      log.info('training started');
      const trained = await this.#train(model, params, id);
      artifactKey = `ml/models/${model.id}/${randomUUID()}.json`;
      const bytes = Buffer.from(JSON.stringify(trained.artifact));
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      await this.#o.store.put(artifactKey, bytes, { contentType: 'application/json', size: bytes.length });
      const version = await db.transaction(async (tx) => {
        const row = await insertVersionIn(tx, {
          modelId: model.id,
          artifactKey: artifactKey!,
          sha256,
          sizeBytes: bytes.length,
          format: trained.loaded.format,
          task: trained.loaded.task,
          inputSchema: trained.loaded.inputSchema,
          outputSchema: trained.loaded.outputSchema,
          approxBytes: trained.loaded.approxBytes,
          details: { ...trained.loaded.details },
          metrics: trained.metrics,
          trainingStats: trained.stats,
          description: `completion_risk trained by job ${id}`,
          source: 'training',
          trainingJobId: id,
          createdBy: null,
        });
        await tx.query(
          `UPDATE ml.training_jobs SET status = 'succeeded', result_version = $2, metrics = $3, finished_at = now(), heartbeat_at = now() WHERE id = $1`,
          [id, row.version, JSON.stringify(trained.metrics)],
        );
        return row.version;
      });
      artifactKey = undefined;
      this.#o.onVersion(model.name);
      this.#o.onFinished?.('succeeded');
      log.info({ version, metrics: trained.metrics }, 'training succeeded');
    } catch (err) {
      const reason = err instanceof TrainingFailure ? err.message : `training failed: ${(err as Error).message}`;
      if (!(err instanceof TrainingFailure)) log.error({ err }, 'training failed');
      else log.warn({ reason }, 'training failed');
      if (artifactKey) await this.#o.store.remove(artifactKey).catch(() => undefined);
      await db
        .query(`UPDATE ml.training_jobs SET status = 'failed', error = $2, finished_at = now() WHERE id = $1`, [id, reason.slice(0, 2000)])
        .catch((e: unknown) => log.error({ err: e }, 'could not record the failed job'));
      this.#o.onFinished?.('failed');
    } finally {
      clearInterval(heartbeat);
    }
  }

  async #train(model: ModelRow, params: TrainParams, jobId: string) {
    const from = params.from ? new Date(params.from) : undefined;
    const to = params.to ? new Date(params.to) : undefined;
    let aggregates;
    try {
      aggregates = await readOnlyTransaction(this.#o.readDb, (tx) => readAggregates(tx, { from, to }));
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === '42P01') throw new TrainingFailure(`the learning data is not there: ${(err as Error).message}`);
      if (code === '42501')
        throw new TrainingFailure(`the training database role may not read the learning data: ${(err as Error).message}`);
      throw err;
    }
    const asOf = to ?? new Date();
    const examples = aggregates.map((a) => ({ features: completionFeatures(a, asOf), label: isCompleted(a) ? 1 : 0 }));
    const positives = examples.filter((e) => e.label === 1).length;
    if (examples.length < MIN_EXAMPLES || positives < 2 || examples.length - positives < 2) {
      throw new TrainingFailure(
        `not enough training data: ${examples.length} learner-course examples, ${positives} completed (need at least ${MIN_EXAMPLES}, with 2 of each outcome)`,
      );
    }
    const split = trainTestSplit(examples, { seed: 42, testFraction: 0.25, stratify: (e) => e.label });
    const toMatrix = (rows: typeof examples) => rows.map((e) => COMPLETION_FEATURES.map((f) => e.features[f] ?? Number.NaN));
    const fit = fitLogisticRegression(
      toMatrix(split.train),
      split.train.map((e) => e.label),
      COMPLETION_FEATURES,
      { imputeMissing: true, classes: [0, 1] },
    );
    const artifact = {
      ...fit.artifact,
      metadata: {
        ...fit.artifact.metadata,
        task: 'completion_risk',
        job_id: jobId,
        features: [...COMPLETION_FEATURES],
        window: { from: params.from ?? null, to: params.to ?? null },
        trained_at: new Date().toISOString(),
      },
    };
    const loaded = loadModel(artifact);
    const problems = compatibilityProblems(model, loaded);
    if (problems.length)
      throw new TrainingFailure(`the trained model does not fit model '${model.name}': ${problems.map((p) => p.message).join('; ')}`);
    const testRows = split.test.map((e) => e.features);
    const predictions = loaded.predict(testRows);
    const scores = predictions.map((p) => (p.task === 'classification' ? p.probabilities[1]! : Number.NaN));
    const labels = split.test.map((e) => e.label);
    const predicted = predictions.map((p) => (p.task === 'classification' ? p.classIndex : -1));
    const testAuc = auc(scores, labels);
    const metrics = {
      auc: Number.isFinite(testAuc) ? testAuc : null,
      accuracy: accuracy(predicted, labels),
      log_loss: logLoss(scores, labels),
      train_log_loss: fit.trainLogLoss,
      train_rows: split.train.length,
      test_rows: split.test.length,
      positive_rate: positives / examples.length,
      iterations: fit.iterations,
      converged: fit.converged,
    };
    const stats = featureStats(
      split.train.map((e) => e.features),
      COMPLETION_FEATURES,
    );
    return { artifact, loaded, metrics, stats };
  }
}
