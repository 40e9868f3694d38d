DROP INDEX attend_webhooks_waiting_idx;
CREATE INDEX attend_webhooks_status_idx ON attend_webhooks (status, received_at, id);

DROP INDEX attend_jobs_finished_idx;
DROP INDEX attend_jobs_lease_idx;
DROP INDEX attend_jobs_ready_idx;
DROP INDEX attend_jobs_dedupe_key;
CREATE UNIQUE INDEX attend_jobs_dedupe_key
    ON attend_jobs (dedupe_key) WHERE state IN ('ready', 'running');
CREATE INDEX attend_jobs_claim_idx ON attend_jobs (state, run_at, id);
CREATE INDEX attend_jobs_lease_idx ON attend_jobs (state, locked_until);
CREATE INDEX attend_jobs_finished_idx ON attend_jobs (state, updated_at);
