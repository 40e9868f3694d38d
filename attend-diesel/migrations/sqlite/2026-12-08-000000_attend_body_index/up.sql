-- Deliveries that still have a body, by age: what the retention purge looks for.
--
-- The purge (`WebhookInbox::purge_webhook_bodies`, run by the worker at every sweep) drops
-- the bodies of deliveries older than the retention and keeps their rows. It found them
-- through an index on every delivery's `received_at`, so each sweep walked the rows of every
-- delivery ever purged again, to find the few that still had a body, inside a write
-- transaction: time that grew with the inbox's whole history (about 0.12 s per million
-- deliveries on SQLite, holding every other writer, acknowledgements included, once a
-- minute). This index holds only the deliveries that still have a body; a purged one leaves
-- it. On an existing database it is built from the deliveries within the retention.
DROP INDEX attend_webhooks_received_idx;
CREATE INDEX attend_webhooks_body_idx ON attend_webhooks (received_at, id)
    WHERE body IS NOT NULL;
