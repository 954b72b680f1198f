-- The ML Server's model registry, prediction log, training jobs and online features, in the `ml`
-- schema (the Content Bridge's 0001 creates it too; whichever runs first wins).
CREATE SCHEMA IF NOT EXISTS ml;

-- A model is a named slot; its artifacts are numbered versions. Version numbers come from
-- `next_version` and are never reused, even after a version is deleted, so a (name, version) pair
-- always means one artifact (caches key on it).
CREATE TABLE ml.models (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name varchar(100) NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9._-]{0,99}$'),
    description text NOT NULL DEFAULT '',
    task varchar(16) NOT NULL CHECK (task IN ('classification', 'regression')),
    format varchar(16) NOT NULL CHECK (format IN ('linear', 'logistic', 'xgboost')),
    input_schema jsonb,
    output_schema jsonb,
    next_version integer NOT NULL DEFAULT 1,
    created_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ml.model_versions (
    model_id uuid NOT NULL REFERENCES ml.models (id) ON DELETE CASCADE,
    version integer NOT NULL CHECK (version > 0),
    artifact_key varchar(500) NOT NULL UNIQUE,
    sha256 char(64) NOT NULL,
    size_bytes bigint NOT NULL,
    format varchar(16) NOT NULL,
    task varchar(16) NOT NULL,
    -- What the artifact itself declares (from the inference engine at upload).
    input_schema jsonb NOT NULL,
    output_schema jsonb NOT NULL,
    approx_bytes bigint NOT NULL,
    details jsonb NOT NULL DEFAULT '{}'::jsonb,
    metrics jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- Per input feature {mean, std, count} of the training data, the reference for drift.
    training_stats jsonb,
    description text NOT NULL DEFAULT '',
    source varchar(16) NOT NULL DEFAULT 'upload' CHECK (source IN ('upload', 'training')),
    training_job_id uuid,
    created_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (model_id, version)
);

-- MLflow-style aliases (`production`, `staging`...). The foreign key makes PostgreSQL itself refuse
-- to delete a version an alias points at.
CREATE TABLE ml.model_aliases (
    model_id uuid NOT NULL REFERENCES ml.models (id) ON DELETE CASCADE,
    alias varchar(63) NOT NULL,
    version integer NOT NULL,
    updated_by uuid,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (model_id, alias),
    FOREIGN KEY (model_id, version) REFERENCES ml.model_versions (model_id, version) ON DELETE RESTRICT
);

-- A sample of predictions, written in batches off the request path. `inputs`/`outputs` keep at most
-- PREDICTION_LOG_MAX_ROWS rows of a batch; `rows` is the batch size.
CREATE TABLE ml.predictions (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    model_id uuid NOT NULL,
    model_name varchar(100) NOT NULL,
    version integer NOT NULL,
    rows integer NOT NULL,
    cached boolean NOT NULL,
    latency_ms double precision NOT NULL,
    inputs jsonb NOT NULL,
    outputs jsonb,
    error text,
    user_id uuid,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX predictions_model_idx ON ml.predictions (model_id, version, created_at);

-- Exact request counters per model version and hour (every request, not a sample), added to by
-- each replica's flusher.
CREATE TABLE ml.prediction_counts (
    model_id uuid NOT NULL,
    version integer NOT NULL,
    bucket timestamptz NOT NULL,
    requests bigint NOT NULL DEFAULT 0,
    rows bigint NOT NULL DEFAULT 0,
    cached bigint NOT NULL DEFAULT 0,
    errors bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (model_id, version, bucket)
);

CREATE TABLE ml.training_jobs (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    model_id uuid NOT NULL REFERENCES ml.models (id) ON DELETE CASCADE,
    task varchar(64) NOT NULL,
    params jsonb NOT NULL DEFAULT '{}'::jsonb,
    status varchar(16) NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    error text,
    result_version integer,
    metrics jsonb,
    instance_id varchar(255),
    heartbeat_at timestamptz,
    created_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    finished_at timestamptz
);
CREATE INDEX training_jobs_active_idx ON ml.training_jobs (status) WHERE status IN ('queued', 'running');

-- Online features per learner and course, updated incrementally by POST /api/ml/events/batch. Ids
-- are text, as in content.learning_events (events name users and courses of other modules).
CREATE TABLE ml.user_features (
    user_id varchar(255) NOT NULL,
    course_id varchar(255) NOT NULL,
    event_count bigint NOT NULL DEFAULT 0,
    active_days date[] NOT NULL DEFAULT '{}',
    content_ids text[] NOT NULL DEFAULT '{}',
    completed_content_ids text[] NOT NULL DEFAULT '{}',
    time_spent_seconds double precision NOT NULL DEFAULT 0,
    score_sum double precision NOT NULL DEFAULT 0,
    score_count integer NOT NULL DEFAULT 0,
    first_event_at timestamptz,
    last_event_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, course_id)
);

-- Event ids already folded into ml.user_features, so a re-sent batch is not counted twice.
CREATE TABLE ml.processed_events (
    event_id varchar(255) PRIMARY KEY,
    processed_at timestamptz NOT NULL DEFAULT now()
);
