-- Insights: advice for one user over a period, from the model ("ollama:<model>") or from the
-- built-in rules ("rules"), made on the schedule or on demand after an alert on one device.
CREATE TABLE insights (
    id               bigserial PRIMARY KEY,
    user_id          text NOT NULL REFERENCES users ON DELETE CASCADE,
    period_start     timestamptz NOT NULL,
    period_end       timestamptz NOT NULL,
    source           text NOT NULL,
    format           text NOT NULL CHECK (format IN ('json', 'text', 'rules')),
    summary          text NOT NULL,
    recommendations  jsonb NOT NULL DEFAULT '[]',
    facts            jsonb NOT NULL,
    trigger          text NOT NULL CHECK (trigger IN ('schedule', 'alert')),
    device_id        text,
    alert_id         text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    CHECK ((trigger = 'alert') = (device_id IS NOT NULL))
);
CREATE INDEX insights_user_idx ON insights (user_id, created_at DESC);

-- On-demand insights taken per device and local day of its owner: the rate limit survives
-- restarts and holds across several schedulers.
CREATE TABLE insight_on_demand (
    device_id   text NOT NULL,
    local_day   date NOT NULL,
    n           integer NOT NULL,
    user_id     text NOT NULL REFERENCES users ON DELETE CASCADE,
    alert_id    text,
    claimed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (device_id, local_day, n)
);

-- The last slot the schedule ran, so slots missed while no scheduler ran are made up once.
CREATE TABLE insight_schedule (
    name        text PRIMARY KEY,
    last_slot   timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
