ALTER SEQUENCE attend_webhooks_id_seq CACHE 1;
