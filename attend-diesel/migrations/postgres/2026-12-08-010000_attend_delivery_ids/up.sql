-- Delivery ids taken ahead in blocks.
--
-- On PostgreSQL the webhook receiver stores a group of deliveries and their processing jobs in
-- one statement, and the jobs name the deliveries' ids, so the ids are taken from this
-- sequence before the insert (`store/pg_deliveries.rs`), a block at a time. Without a cache
-- every `nextval` locks the sequence and writes to the WAL now and then: about 3 µs of the
-- server's time per delivery, measured. With one, a connection takes 256 values at once and
-- hands them out from memory. Values a connection took and did not use are skipped, which
-- leaves gaps in the ids, as rolled-back inserts already do; ids stay unique.
ALTER SEQUENCE attend_webhooks_id_seq CACHE 256;
