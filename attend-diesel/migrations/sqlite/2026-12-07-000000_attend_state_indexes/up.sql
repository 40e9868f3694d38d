-- Indexes that hold only the rows each query looks for.
--
-- The first migration indexed jobs by (state, ...) and deliveries by (status, ...). A job or
-- a delivery changes state a few times and is then finished for good, so those indexes were
-- mostly entries of finished rows, each state change wrote a new entry into every one of them
-- (on PostgreSQL an update that changes an indexed column writes every index again), and the
-- worker's "finish these running jobs" update was planned as a walk through every entry ever
-- written under `running` (entries of finished jobs stay until a vacuum), which took
-- milliseconds per call under load instead of a few primary-key lookups.
--
-- Now each query's rows have an index of their own, entered only while the row qualifies:
-- claimable jobs, leased jobs, finished jobs, deliveries waiting for processing. Queries that
-- use the partial indexes spell the state out literally (`state = 'ready'`), as a partial
-- index is only chosen when the query's own WHERE implies the index's.
--
-- On an existing database the new indexes are built from the rows that qualify: few for the
-- ready, lease, dedupe and waiting indexes (unfinished work); the finished-jobs index holds
-- every finished job not yet purged, and PostgreSQL holds writes to attend_jobs (job enqueues
-- wait, so do acknowledgements of new deliveries) while it is built (0.1 s for 300,000
-- finished jobs on the benchmark machine).

DROP INDEX attend_jobs_claim_idx;
DROP INDEX attend_jobs_lease_idx;
DROP INDEX attend_jobs_finished_idx;
-- One unfinished job per dedupe key, as before; the added `dedupe_key IS NOT NULL` changes
-- nothing for uniqueness (NULLs never conflict) but keeps the planner from reading this index
-- whole for a bare `state = 'running'`, which it did, entries of finished jobs included.
DROP INDEX attend_jobs_dedupe_key;
CREATE UNIQUE INDEX attend_jobs_dedupe_key ON attend_jobs (dedupe_key)
    WHERE dedupe_key IS NOT NULL AND state IN ('ready', 'running');
-- Claimable: `ready`, by when they are due.
CREATE INDEX attend_jobs_ready_idx ON attend_jobs (run_at, id) WHERE state = 'ready';
-- Leased: only `running` jobs have a lease end (every other state clears it), so any
-- `locked_until <= ?` finds expired leases here, whatever the state filter says.
CREATE INDEX attend_jobs_lease_idx ON attend_jobs (locked_until, id)
    WHERE locked_until IS NOT NULL;
-- Finished, by age, for the retention purge.
CREATE INDEX attend_jobs_finished_idx ON attend_jobs (updated_at)
    WHERE state IN ('done', 'dead');

-- Deliveries waiting for processing (the sweep's question); a processed delivery leaves it.
DROP INDEX attend_webhooks_status_idx;
CREATE INDEX attend_webhooks_waiting_idx ON attend_webhooks (received_at, id)
    WHERE status = 'received';
