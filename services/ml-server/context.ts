/** Everything a route module needs, built once per process and passed down explicitly. */
import type { TokenSettings } from '../kit/auth/tokens.ts';
import type { Database } from '../kit/deps/database.ts';
import type { Deps } from '../kit/deps/index.ts';
import type { BackgroundTask } from '../kit/lifecycle.ts';
import type { Logger } from '../kit/observability/logger.ts';
import type { LoadedModel } from './inference/index.ts';
import type { MlServerConfig } from './config.ts';
import type { RegistryRepository } from './registry/repository.ts';
import type { ModelDirectory } from './serving/directory.ts';
import type { MlMetrics } from './serving/metrics.ts';
import type { ModelCache } from './serving/model-cache.ts';
import type { PredictionLog } from './serving/prediction-log.ts';
import type { Predictor } from './serving/predictor.ts';
import type { RegistryEvents } from './serving/registry-events.ts';
import type { TrainingJobs } from './training/jobs.ts';

export interface MlContext {
  config: MlServerConfig;
  deps: Deps;
  /** Reads of the Content Bridge's tables (training, insights): ML_READONLY_DATABASE_URL, else the main pool. */
  readDb: Database;
  logger: Logger;
  tokens: TokenSettings;
  isRevoked: (jti: string) => boolean | Promise<boolean>;
  registry: RegistryRepository;
  directory: ModelDirectory;
  models: ModelCache<LoadedModel>;
  predictor: Predictor;
  predictionLog: PredictionLog;
  events: RegistryEvents;
  jobs: TrainingJobs;
  metrics: MlMetrics;
  background: BackgroundTask[];
  /** Drops cached metadata of `model` here and (through pub/sub) on every replica. */
  registryChanged(model: string): void;
}
