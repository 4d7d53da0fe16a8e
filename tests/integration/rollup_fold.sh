#!/usr/bin/env bash
# The hourly rollup is folded in behind the readings (schema/009_rollup_fold.sql), here once a
# second, starting three hours behind (caught up in steps). Devices publish their last hours first
# (late readings: added to the stored rollup by their batch where a fold passed over their time
# already) and then live ones (summed from the readings until a fold passes over them), one late
# reading is redelivered, and the hub is killed with SIGKILL twice. Afterwards every reading is
# folded, and each device's hours in the stored rows equal the readings summed again.
source "$(dirname "$0")/lib.sh"

DEVICES=20
PER_DEVICE=120
write_config "  rollup_interval: 1s"
create_database
"$FIRMWARE_SIM_BIN" --register-only --config "$CONFIG" --devices "$DEVICES" --device-prefix "rf-$$" --users 4 >/dev/null

# As after three hours without a hub: it folds them in steps of ten intervals, storing between them.
q "UPDATE rollup_fold SET folded_before = now() - interval '3 hours'"
start_hub
"$FIRMWARE_SIM_BIN" --uri "$ENERGYHUB_MQTT_URI" --devices "$DEVICES" --device-prefix "rf-$$" --users 4 \
    --history 3h --history-step 10m --count "$PER_DEVICE" --rate 20 --qos 1 \
    --acked-log "$WORK_DIR/acked.tsv" >"$WORK_DIR/sim.log" 2>&1 &
SIM_PID=$!
BACKGROUND_PIDS+=("$SIM_PID")

for round in 1 2; do
    sleep "$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", 1 + (r % 1500) / 1000 }')"
    kill9_hub
    log "round $round: killed the hub with SIGKILL after $(q "SELECT count(*) FROM readings") stored readings"
    start_hub
done

wait "$SIM_PID" || true
acked=$(wc -l <"$WORK_DIR/acked.tsv")
[[ "$acked" -ge $((DEVICES * PER_DEVICE * 9 / 10)) ]] || fail "simulator had only $acked acknowledged: $(tail -3 "$WORK_DIR/sim.log")"
wait_stored "$acked"
read -r _ _ duplicated lost < <(count_against_acked "$WORK_DIR/acked.tsv")
((lost == 0 && duplicated == 0)) || fail "$lost acknowledged readings missing, $duplicated stored twice"

late=$(q "SELECT count(*) FROM readings WHERE ts < now() - interval '30 minutes'")
((late > 0)) || fail "no late readings were stored: the test publishes none"
# A late reading again (a redelivery): stored once, counted once.
read -r dev ts_ms power < <(q "SELECT device_id, (extract(epoch FROM ts) * 1000)::bigint, power_w FROM readings
                               WHERE ts < now() - interval '30 minutes' ORDER BY ts LIMIT 1" | tr '\t' ' ')
pub "energy/$dev/reading" "{\"ts\":$ts_ms,\"power_w\":$power}"
wait_for 10 "the redelivered late reading seen" '(( $(metric_of hub energyhub_readings_duplicate_total) > 0 ))'

wait_for 15 "every reading folded" '[[ $(q "SELECT folded_before > max(ts) FROM rollup_fold, readings GROUP BY folded_before") == t ]]'
total=$(q "SELECT count(*) FROM readings")
folded=$(q "SELECT sum(samples) FROM readings_hourly_folded")
viewed=$(q "SELECT sum(samples) FROM readings_hourly")
log "readings=$total (late $late) folded=$folded view=$viewed"
((folded == total)) || fail "the stored rollup counts $folded samples for $total readings"
((viewed == total)) || fail "readings_hourly counts $viewed samples for $total readings"

# Each device and hour, from the stored rows and from the readings summed again.
wrong=$(q "WITH again AS (
               SELECT device_id, date_trunc('hour', ts, 'UTC') AS hour, count(*) AS samples, count(power_w) AS power_samples,
                      round(coalesce(sum(power_w), 0)::numeric, 6) AS power_sum, max(power_w) AS power_max,
                      min(power_w) AS power_min, round(coalesce(sum(energy_delta_wh), 0)::numeric, 6) AS energy_wh
               FROM readings GROUP BY 1, 2),
           kept AS (
               SELECT device_id, hour, samples::bigint, power_samples::bigint, round(power_sum::numeric, 6) AS power_sum,
                      power_max, power_min, round(energy_wh::numeric, 6) AS energy_wh
               FROM readings_hourly_folded)
           SELECT count(*) FROM ((TABLE again EXCEPT TABLE kept) UNION ALL (TABLE kept EXCEPT TABLE again)) d")
[[ "$wrong" == 0 ]] || fail "$wrong device-hours of the stored rollup differ from their readings"
# What an operator watches: the folds, and how far behind now the stored rows are.
folds=$(metric_of hub energyhub_rollup_folds_total)
folded_s=$(metric_of hub energyhub_rollup_folded_before_seconds)
awk -v f="$folded_s" -v now="$(date +%s)" 'BEGIN { exit !(f > now - 10 && f <= now) }' ||
    fail "energyhub_rollup_folded_before_seconds is $folded_s, not within 10 s before now"
((folds > 0)) || fail "energyhub_rollup_folds_total is '$folds'"
hours=$(q "SELECT count(*) FROM readings_hourly_folded")
log "$hours device-hours stored, each equal to its readings summed again"
stop_hub
log "ok"
