-- Outbound webhooks. outbox_cursors holds, per consumer (the webhook
-- dispatcher), the seq of the last outbox event it has handed on, so that
-- it resumes there after a restart.
CREATE TABLE outbox_cursors (
	consumer TEXT    NOT NULL PRIMARY KEY,
	seq      INTEGER NOT NULL DEFAULT 0
);

-- The delivery log: one row per attempt to deliver an event to a
-- subscription. delivery_id groups the attempts of one delivery (a replay is
-- a new delivery); created_at is Unix microseconds.
CREATE TABLE webhook_attempts (
	id              TEXT    NOT NULL PRIMARY KEY,
	delivery_id     TEXT    NOT NULL,
	event_id        TEXT    NOT NULL,
	event_type      TEXT    NOT NULL DEFAULT '',
	subscription_id TEXT    NOT NULL,
	location_id     TEXT    NOT NULL DEFAULT '',
	created_at      INTEGER NOT NULL,
	data            TEXT    NOT NULL
);
CREATE INDEX webhook_attempts_created      ON webhook_attempts (created_at, id);
CREATE INDEX webhook_attempts_event        ON webhook_attempts (event_id, created_at);
CREATE INDEX webhook_attempts_subscription ON webhook_attempts (subscription_id, created_at);
CREATE INDEX webhook_attempts_delivery     ON webhook_attempts (delivery_id, created_at);
