#!/usr/bin/env bash
# The hub is killed with SIGKILL twice while firmware-sim publishes 20,000 QoS-1 readings, and
# restarted each time. Every reading the broker acknowledged to the simulator must be in
# PostgreSQL exactly once, and counted once in the hourly rollup.
source "$(dirname "$0")/lib.sh"

DEVICES=100
PER_DEVICE=200
write_config
create_database
"$FIRMWARE_SIM_BIN" --register-only --config "$CONFIG" --devices "$DEVICES" --device-prefix "k9-$$" --users 10 >/dev/null
[[ "$(q "SELECT count(*) FROM devices")" == "$DEVICES" ]] || fail "firmware-sim did not register $DEVICES devices"

start_hub
"$FIRMWARE_SIM_BIN" --uri "$ENERGYHUB_MQTT_URI" --devices "$DEVICES" --device-prefix "k9-$$" --users 10 \
    --count "$PER_DEVICE" --rate 40 --qos 1 --acked-log "$WORK_DIR/acked.tsv" >"$WORK_DIR/sim.log" 2>&1 &
SIM_PID=$!
BACKGROUND_PIDS+=("$SIM_PID")

for round in 1 2; do
    sleep "$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", 0.5 + (r % 1500) / 1000 }')"
    stored_before=$(q "SELECT count(*) FROM readings")
    kill9_hub
    log "round $round: killed the hub with SIGKILL after $stored_before stored readings"
    sleep 1
    start_hub
done

wait "$SIM_PID" || true
sent=$(sed -n 's/.*sent=\([0-9]*\).*/\1/p' "$WORK_DIR/sim.log")
acked=$(wc -l <"$WORK_DIR/acked.tsv")
[[ "$acked" -ge $((DEVICES * PER_DEVICE * 9 / 10)) ]] || fail "simulator had only $acked of $((DEVICES * PER_DEVICE)) acknowledged: $(tail -3 "$WORK_DIR/sim.log")"

wait_stored "$acked"
read -r _ stored duplicated lost < <(count_against_acked "$WORK_DIR/acked.tsv")
rollup_samples=$(q "SELECT sum(samples) FROM readings_hourly")
log "sent=$sent acked=$acked stored=$stored lost=$lost duplicated=$duplicated rollup_samples=$rollup_samples"
((lost == 0)) || fail "$lost acknowledged readings are missing"
((duplicated == 0)) || fail "$duplicated readings stored twice"
((rollup_samples == stored)) || fail "hourly rollup counts $rollup_samples samples for $stored readings"
stop_hub
log "ok"
