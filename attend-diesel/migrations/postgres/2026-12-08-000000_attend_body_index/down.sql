DROP INDEX attend_webhooks_body_idx;
CREATE INDEX attend_webhooks_received_idx ON attend_webhooks (received_at);
