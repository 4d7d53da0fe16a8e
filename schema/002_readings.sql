-- Raw readings, one daily partition per UTC day (created ahead and dropped after the retention
-- period by the hub). The primary key makes a redelivered reading land once.
CREATE TABLE readings (
    device_id        text NOT NULL,
    ts               timestamptz NOT NULL,
    user_id          text NOT NULL,
    power_w          double precision,
    energy_wh        double precision,
    voltage_v        double precision,
    current_a        double precision,
    energy_delta_wh  double precision,   -- usage since the device's previous counter value
    received_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (device_id, ts)
) PARTITION BY RANGE (ts);

-- Hourly rollup for dashboards and insights, maintained per batch by the hub.
CREATE TABLE readings_hourly (
    device_id      text NOT NULL,
    hour           timestamptz NOT NULL,
    user_id        text NOT NULL,
    samples        integer NOT NULL,
    power_samples  integer NOT NULL,
    power_sum      double precision NOT NULL,
    power_max      double precision,
    power_min      double precision,
    energy_wh      double precision NOT NULL,
    PRIMARY KEY (device_id, hour)
);
CREATE INDEX readings_hourly_user_idx ON readings_hourly (user_id, hour);
