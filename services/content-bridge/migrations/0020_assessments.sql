-- Assessments (issue 4 §2): definitions, attempts, manual grades and an outbox of learning events.
-- `passing_score` is a percentage (0..100) of `total_points`. Questions live in one jsonb array per
-- assessment (their shape is checked by the service); attempts keep per-question results as jsonb.

CREATE TABLE content.assessments (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    title varchar(255) NOT NULL,
    assessment_type varchar(32) NOT NULL CHECK (assessment_type IN ('quiz', 'simulation', 'practical', 'certification')),
    questions jsonb NOT NULL CHECK (jsonb_typeof(questions) = 'array' AND jsonb_array_length(questions) BETWEEN 1 AND 500),
    total_points numeric(12, 2) NOT NULL CHECK (total_points > 0),
    time_limit_minutes integer CHECK (time_limit_minutes BETWEEN 1 AND 10080),
    passing_score numeric(5, 2) NOT NULL CHECK (passing_score BETWEEN 0 AND 100),
    attempts_allowed integer CHECK (attempts_allowed >= 1),
    course_id uuid REFERENCES content.courses (id) ON DELETE SET NULL,
    difficulty_level varchar(50),
    prerequisites jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(prerequisites) = 'array'),
    created_by uuid REFERENCES users.users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX assessments_course_idx ON content.assessments (course_id);

-- One row per started attempt. `submitted_at IS NULL` is the submission gate: the first
-- `UPDATE ... WHERE submitted_at IS NULL` wins, every concurrent or later submit finds no row.
CREATE TABLE content.assessment_attempts (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    assessment_id uuid NOT NULL REFERENCES content.assessments (id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users.users (id) ON DELETE CASCADE,
    attempt_number integer NOT NULL CHECK (attempt_number >= 1),
    status varchar(16) NOT NULL DEFAULT 'started' CHECK (status IN ('started', 'submitted', 'graded')),
    started_at timestamptz NOT NULL DEFAULT now(),
    deadline timestamptz,
    submitted_at timestamptz,
    answers jsonb,
    results jsonb,
    auto_score numeric(12, 2),
    final_score numeric(12, 2),
    max_score numeric(12, 2) NOT NULL,
    score_percent numeric(5, 2),
    passed boolean,
    graded_at timestamptz,
    graded_by uuid REFERENCES users.users (id) ON DELETE SET NULL,
    UNIQUE (assessment_id, user_id, attempt_number),
    CHECK ((status = 'started') = (submitted_at IS NULL)),
    CHECK ((status = 'graded') = (passed IS NOT NULL))
);
CREATE INDEX assessment_attempts_user_idx ON content.assessment_attempts (user_id, assessment_id) INCLUDE (passed);

-- Manual grades (short_answer / essay), one per question of an attempt; the audit trail behind the
-- points merged into `assessment_attempts.results`.
CREATE TABLE content.assessment_grades (
    attempt_id uuid NOT NULL REFERENCES content.assessment_attempts (id) ON DELETE CASCADE,
    question_id varchar(100) NOT NULL,
    points numeric(12, 2) NOT NULL CHECK (points >= 0),
    feedback text NOT NULL DEFAULT '' CHECK (char_length(feedback) <= 10000),
    graded_by uuid REFERENCES users.users (id) ON DELETE SET NULL,
    graded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (attempt_id, question_id)
);

-- Transactional outbox of learning events raised by assessments (`assessment_complete`), written in
-- the same transaction as the final result. Rows are copied into content.learning_events when that
-- table exists (`forwarded_at` set); rows with `forwarded_at IS NULL` are left for a relay.
CREATE TABLE content.assessment_events_outbox (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_type varchar(64) NOT NULL,
    attempt_id uuid NOT NULL REFERENCES content.assessment_attempts (id) ON DELETE CASCADE,
    assessment_id uuid NOT NULL,
    user_id uuid NOT NULL REFERENCES users.users (id) ON DELETE CASCADE,
    course_id uuid,
    content_id uuid,
    payload jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    forwarded_at timestamptz,
    UNIQUE (event_type, attempt_id)
);
CREATE INDEX assessment_events_outbox_pending_idx ON content.assessment_events_outbox (id) WHERE forwarded_at IS NULL;
