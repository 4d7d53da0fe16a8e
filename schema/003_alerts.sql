-- Alert transitions (one row per firing or resolved event), written by the hub in the same
-- transaction as the readings that caused them, and the notifier's queue: a row is emailed once,
-- then notified_at is set.
CREATE TABLE alerts (
    id               uuid PRIMARY KEY,          -- derived from device, rule, state and start
    user_id          text NOT NULL,
    device_id        text NOT NULL,
    rule             text NOT NULL,
    state            text NOT NULL CHECK (state IN ('firing', 'resolved')),
    value            double precision NOT NULL,
    threshold        double precision NOT NULL,
    since            timestamptz NOT NULL,
    ts               timestamptz NOT NULL,
    message          text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    notified_at      timestamptz,
    notify_attempts  integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz,
    notify_error     text,
    failed_at        timestamptz,               -- gave up after the retry budget
    email_message_id text
);
CREATE INDEX alerts_device_rule_idx ON alerts (device_id, rule, ts DESC);
CREATE INDEX alerts_user_idx ON alerts (user_id, ts DESC);
CREATE INDEX alerts_unsent_idx ON alerts (created_at) WHERE notified_at IS NULL AND failed_at IS NULL;
