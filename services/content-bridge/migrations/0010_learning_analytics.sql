-- Learning analytics (issue 4 §1): the durable event log, the aggregates kept up to date in the same
-- transaction as each insert, and the outbound-stream state. See services/content-bridge/analytics/README.md.
--
-- Ids are text, without foreign keys: events name users, courses and content items of other modules
-- (the analytics world, external curriculum ids, xAPI account names), and the log must outlive the
-- rows it mentions. Who may write an event for whom is checked by the API, not by the schema.

CREATE TABLE content.learning_events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The idempotency key: client-chosen, or a server-generated UUID.
    event_id varchar(255) NOT NULL UNIQUE,
    event_type varchar(32) NOT NULL
        CHECK (event_type IN ('content_view', 'progress_update', 'assessment_complete', 'login', 'logout')),
    user_id varchar(255) NOT NULL,
    course_id varchar(255),
    content_id varchar(255),
    session_id varchar(255),
    event_data jsonb NOT NULL DEFAULT '{}'::jsonb,
    context_data jsonb NOT NULL DEFAULT '{}'::jsonb,
    occurred_at timestamptz NOT NULL,
    -- SHA-256 (hex) of the canonical JSON of the submitted body: same id + same hash is a replay.
    body_hash char(64) NOT NULL,
    source varchar(16) NOT NULL DEFAULT 'api' CHECK (source IN ('api', 'xapi')),
    submitted_by uuid,
    -- The aggregates below are applied in the inserting transaction, so this is the insert time.
    processed_at timestamptz,
    synced_to_analytics boolean NOT NULL DEFAULT false,
    synced_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
-- Reads go to the aggregates; this index serves per-user export and erasure.
CREATE INDEX learning_events_user_idx ON content.learning_events (user_id, occurred_at);
-- The forwarder's work queue: only unsynced rows, in insertion order.
CREATE INDEX learning_events_unsynced_idx ON content.learning_events (id) WHERE NOT synced_to_analytics;

-- Per user, course and UTC day. Time is kept in seconds (minutes are derived) and the average score
-- as an exact running sum and count.
CREATE TABLE content.analytics_summaries (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id varchar(255) NOT NULL,
    course_id varchar(255),
    summary_date date NOT NULL,
    events integer NOT NULL DEFAULT 0,
    content_views integer NOT NULL DEFAULT 0,
    total_time_seconds numeric NOT NULL DEFAULT 0,
    total_time_minutes integer GENERATED ALWAYS AS (floor(total_time_seconds / 60)::integer) STORED,
    content_items_accessed integer NOT NULL DEFAULT 0,
    progress_made numeric(5, 2),
    assessments_completed integer NOT NULL DEFAULT 0,
    score_sum numeric NOT NULL DEFAULT 0,
    score_count integer NOT NULL DEFAULT 0,
    average_score numeric GENERATED ALWAYS AS (CASE WHEN score_count > 0 THEN score_sum / score_count END) STORED,
    first_event_at timestamptz,
    last_event_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT analytics_summaries_key UNIQUE NULLS NOT DISTINCT (user_id, course_id, summary_date)
) WITH (fillfactor = 70); -- room for HOT updates: aggregate rows are updated in place all the time
CREATE INDEX analytics_summaries_date_idx ON content.analytics_summaries (summary_date);
CREATE INDEX analytics_summaries_course_idx ON content.analytics_summaries (course_id, summary_date);

-- Per user, course, UTC day and content item: the exact distinct count behind
-- content_items_accessed, and the per-day content figures date-ranged reports read.
CREATE TABLE content.analytics_user_content_daily (
    user_id varchar(255) NOT NULL,
    course_id varchar(255),
    summary_date date NOT NULL,
    content_id varchar(255) NOT NULL,
    events integer NOT NULL DEFAULT 0,
    views integer NOT NULL DEFAULT 0,
    time_seconds numeric NOT NULL DEFAULT 0,
    progress_sum numeric NOT NULL DEFAULT 0,
    progress_count integer NOT NULL DEFAULT 0,
    assessments_completed integer NOT NULL DEFAULT 0,
    score_sum numeric NOT NULL DEFAULT 0,
    score_count integer NOT NULL DEFAULT 0,
    CONSTRAINT analytics_user_content_daily_key UNIQUE NULLS NOT DISTINCT (user_id, course_id, summary_date, content_id)
) WITH (fillfactor = 70);
CREATE INDEX analytics_ucd_content_idx ON content.analytics_user_content_daily (content_id, summary_date);
CREATE INDEX analytics_ucd_date_idx ON content.analytics_user_content_daily (summary_date);

-- Per content item, all time. unique_users counts rows of analytics_content_users.
CREATE TABLE content.analytics_content_stats (
    content_id varchar(255) PRIMARY KEY,
    course_id varchar(255),
    events integer NOT NULL DEFAULT 0,
    views integer NOT NULL DEFAULT 0,
    unique_users integer NOT NULL DEFAULT 0,
    time_seconds numeric NOT NULL DEFAULT 0,
    progress_sum numeric NOT NULL DEFAULT 0,
    progress_count integer NOT NULL DEFAULT 0,
    assessments_completed integer NOT NULL DEFAULT 0,
    score_sum numeric NOT NULL DEFAULT 0,
    score_count integer NOT NULL DEFAULT 0,
    first_event_at timestamptz,
    last_event_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now()
) WITH (fillfactor = 70);

CREATE TABLE content.analytics_content_users (
    content_id varchar(255) NOT NULL,
    user_id varchar(255) NOT NULL,
    first_seen_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (content_id, user_id)
);

-- The event insert statement calls this with the ids it could not insert and whose stored body
-- differs (or that a concurrent writer committed meanwhile): raising aborts the whole statement, so
-- nothing of the group is kept, and the writer decides again per request.
CREATE FUNCTION content.analytics_reject_conflicts(ids text[]) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF ids IS NOT NULL AND cardinality(ids) > 0 THEN
        RAISE EXCEPTION 'learning event ids conflict with stored events'
            USING ERRCODE = 'HMA01', DETAIL = array_to_string(ids, ',');
    END IF;
    RETURN 0;
END
$$;
