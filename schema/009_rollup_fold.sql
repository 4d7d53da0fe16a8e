-- The hourly rollup folded in behind the readings instead of updated by every batch.
--
-- Updated per batch, the rollup cost an upsert for every device a batch held: with readings from
-- many devices (10,000 publishing at once, or a home's 100 at 200 ms batches) that is an upsert
-- per reading, half of what PostgreSQL spent per reading and half of the WAL (bench_copy_rate).
-- Now the hub folds the readings older than `hub.rollup_interval` into the stored rows once per
-- interval, one upsert per device and hour, and `readings_hourly` is a view: the folded rows plus
-- the few minutes not yet folded, summed from the readings when read.
--
-- Exact through a kill at any point: the fold moves `folded_before` and adds the readings it
-- passed over in one transaction; a batch adds to the stored rows only its readings older than
-- `folded_before` (late ones). Writers hold an advisory lock shared and the fold holds it alone, so
-- no batch commits readings into a range while the fold is passing over it.
ALTER TABLE readings_hourly RENAME TO readings_hourly_folded;
ALTER INDEX readings_hourly_pkey RENAME TO readings_hourly_folded_pkey;
ALTER INDEX readings_hourly_user_idx RENAME TO readings_hourly_folded_user_idx;

CREATE TABLE rollup_fold (
    one            boolean PRIMARY KEY DEFAULT true CHECK (one),
    folded_before  timestamptz NOT NULL   -- every reading older than this is in readings_hourly_folded
);
-- The rows maintained per batch until now hold every reading: the current hour and any later
-- (a device clock ahead) are summed from the readings from here on instead.
INSERT INTO rollup_fold (folded_before) VALUES (date_trunc('hour', now(), 'UTC'));
DELETE FROM readings_hourly_folded WHERE hour >= (SELECT folded_before FROM rollup_fold);

-- A fold reads one interval of readings: a block range index finds it in a day's partition
-- (readings arrive in time order) at a few pages per million rows, nothing per insert until a
-- range fills and is summarised.
CREATE INDEX readings_ts_brin ON readings USING brin (ts) WITH (autosummarize = on);

-- One row per device, hour and owner (a device given to another user within the not yet folded
-- minutes has a row for each); the conditions of a query on these columns reach both parts. The
-- UTC hour by date_bin, as the hub folds it (date_trunc's time zone costs a lookup per row).
CREATE VIEW readings_hourly AS
SELECT device_id, hour, user_id, sum(samples)::integer AS samples, sum(power_samples)::integer AS power_samples,
       sum(power_sum) AS power_sum, max(power_max) AS power_max, min(power_min) AS power_min,
       sum(energy_wh) AS energy_wh, sum(export_wh) AS export_wh
FROM (
    SELECT device_id, hour, user_id, samples, power_samples, power_sum, power_max, power_min, energy_wh, export_wh
    FROM readings_hourly_folded
    UNION ALL
    SELECT device_id, date_bin('1 hour', ts, timestamptz 'epoch'), user_id, count(*)::integer, count(power_w)::integer, coalesce(sum(power_w), 0),
           max(power_w), min(power_w), coalesce(sum(energy_delta_wh), 0), coalesce(sum(export_delta_wh), 0)
    FROM readings WHERE ts >= (SELECT folded_before FROM rollup_fold)
    GROUP BY 1, 2, 3
) parts
GROUP BY device_id, hour, user_id;
COMMENT ON VIEW readings_hourly IS 'energy and power per device and hour (UTC): folded rows plus recent readings';
