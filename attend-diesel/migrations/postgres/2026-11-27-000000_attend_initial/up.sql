-- attend's tables on PostgreSQL. Conventions (see migrations/README.md):
-- times are BIGINT microseconds since the Unix epoch (UTC); booleans are INTEGER 0/1;
-- JSON is TEXT; host user ids are TEXT with no foreign key into host tables.

CREATE TABLE attend_meetings (
    id TEXT PRIMARY KEY NOT NULL,
    account TEXT NOT NULL,
    zoom_meeting_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    group_key TEXT NOT NULL,
    topic TEXT NOT NULL,
    start_time BIGINT,
    duration_minutes BIGINT,
    timezone TEXT,
    host_id TEXT,
    restrict_to_registered INTEGER NOT NULL,
    policy TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    CONSTRAINT attend_meetings_account_zoom_key UNIQUE (account, zoom_meeting_id)
);
CREATE INDEX attend_meetings_group_idx ON attend_meetings (group_key, created_at);
CREATE INDEX attend_meetings_zoom_idx ON attend_meetings (zoom_meeting_id);

CREATE TABLE attend_registrations (
    meeting_id TEXT NOT NULL REFERENCES attend_meetings (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    status TEXT NOT NULL,
    registrant_id TEXT,
    join_url TEXT,
    registrant_email TEXT,
    registrant_email_lower TEXT,
    registered_at BIGINT,
    error_code TEXT,
    error_message TEXT,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (meeting_id, user_id)
);
CREATE UNIQUE INDEX attend_registrations_registrant_key
    ON attend_registrations (meeting_id, registrant_id);
CREATE INDEX attend_registrations_email_idx
    ON attend_registrations (meeting_id, registrant_email_lower);
CREATE INDEX attend_registrations_user_idx ON attend_registrations (user_id);

CREATE TABLE attend_webhooks (
    id BIGSERIAL PRIMARY KEY NOT NULL,
    account TEXT NOT NULL,
    dedupe_key TEXT NOT NULL,
    event_type TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    body TEXT,
    body_encoding TEXT,
    status TEXT NOT NULL,
    processed_at BIGINT,
    failure TEXT,
    CONSTRAINT attend_webhooks_dedupe_key UNIQUE (account, dedupe_key)
);
CREATE INDEX attend_webhooks_status_idx ON attend_webhooks (status, received_at, id);
CREATE INDEX attend_webhooks_received_idx ON attend_webhooks (received_at);

CREATE TABLE attend_instances (
    uuid TEXT PRIMARY KEY NOT NULL,
    meeting_id TEXT NOT NULL REFERENCES attend_meetings (id) ON DELETE CASCADE,
    started_at BIGINT,
    ended_at BIGINT,
    state TEXT NOT NULL,
    reconciled_at BIGINT,
    updated_at BIGINT NOT NULL
);
CREATE INDEX attend_instances_meeting_idx ON attend_instances (meeting_id);

CREATE TABLE attend_participant_events (
    id BIGSERIAL PRIMARY KEY NOT NULL,
    meeting_id TEXT NOT NULL REFERENCES attend_meetings (id) ON DELETE CASCADE,
    instance_uuid TEXT NOT NULL,
    connection_key TEXT NOT NULL,
    action TEXT NOT NULL,
    occurred_at BIGINT NOT NULL,
    registrant_id TEXT,
    customer_key TEXT,
    email TEXT,
    email_lower TEXT,
    participant_user_id TEXT,
    participant_uuid TEXT,
    zoom_user_id TEXT,
    user_name TEXT,
    source_webhook_id BIGINT,
    CONSTRAINT attend_participant_events_dedupe_key
        UNIQUE (instance_uuid, connection_key, action, occurred_at)
);
CREATE INDEX attend_participant_events_instance_idx
    ON attend_participant_events (instance_uuid, occurred_at);
CREATE INDEX attend_participant_events_registrant_idx
    ON attend_participant_events (meeting_id, registrant_id);
CREATE INDEX attend_participant_events_email_idx ON attend_participant_events (email_lower);
CREATE INDEX attend_participant_events_customer_idx ON attend_participant_events (customer_key);

CREATE TABLE attend_report_rows (
    id BIGSERIAL PRIMARY KEY NOT NULL,
    meeting_id TEXT NOT NULL REFERENCES attend_meetings (id) ON DELETE CASCADE,
    instance_uuid TEXT NOT NULL,
    join_at BIGINT NOT NULL,
    leave_at BIGINT NOT NULL,
    registrant_id TEXT,
    customer_key TEXT,
    email TEXT,
    email_lower TEXT,
    participant_user_id TEXT,
    participant_uuid TEXT,
    zoom_user_id TEXT,
    user_name TEXT
);
CREATE INDEX attend_report_rows_instance_idx ON attend_report_rows (instance_uuid, join_at);
CREATE INDEX attend_report_rows_registrant_idx ON attend_report_rows (meeting_id, registrant_id);
CREATE INDEX attend_report_rows_email_idx ON attend_report_rows (email_lower);
CREATE INDEX attend_report_rows_customer_idx ON attend_report_rows (customer_key);

CREATE TABLE attend_manual_links (
    meeting_id TEXT NOT NULL REFERENCES attend_meetings (id) ON DELETE CASCADE,
    participant_key TEXT NOT NULL,
    user_id TEXT NOT NULL,
    linked_by TEXT NOT NULL,
    linked_at BIGINT NOT NULL,
    PRIMARY KEY (meeting_id, participant_key)
);
CREATE INDEX attend_manual_links_user_idx ON attend_manual_links (user_id);

CREATE TABLE attend_join_clicks (
    id BIGSERIAL PRIMARY KEY NOT NULL,
    meeting_id TEXT NOT NULL REFERENCES attend_meetings (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    clicked_at BIGINT NOT NULL
);
CREATE INDEX attend_join_clicks_meeting_idx ON attend_join_clicks (meeting_id, clicked_at);
CREATE INDEX attend_join_clicks_user_idx ON attend_join_clicks (user_id);

CREATE TABLE attend_jobs (
    id BIGSERIAL PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    dedupe_key TEXT,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    max_attempts BIGINT NOT NULL,
    run_at BIGINT NOT NULL,
    locked_by TEXT,
    locked_until BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
-- One unfinished job per dedupe key; finished jobs do not block their key.
CREATE UNIQUE INDEX attend_jobs_dedupe_key
    ON attend_jobs (dedupe_key) WHERE state IN ('ready', 'running');
CREATE INDEX attend_jobs_claim_idx ON attend_jobs (state, run_at, id);
CREATE INDEX attend_jobs_lease_idx ON attend_jobs (state, locked_until);
CREATE INDEX attend_jobs_finished_idx ON attend_jobs (state, updated_at);
