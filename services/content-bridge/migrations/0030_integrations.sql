-- Inter-service traffic: an audit log of every call from another module, and the delivery keys
-- that make webhooks idempotent.
CREATE SCHEMA IF NOT EXISTS integrations;

CREATE TABLE integrations.audit_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_service varchar(64) NOT NULL,
    endpoint varchar(255) NOT NULL,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    outcome varchar(32) NOT NULL,
    status_code integer NOT NULL,
    detail text
);
CREATE INDEX audit_log_source_idx ON integrations.audit_log (source_service, occurred_at);

CREATE TABLE integrations.webhook_deliveries (
    event_type varchar(64) NOT NULL,
    subject_id varchar(255) NOT NULL,
    event_timestamp timestamptz NOT NULL,
    source_service varchar(64) NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_type, subject_id, event_timestamp)
);
