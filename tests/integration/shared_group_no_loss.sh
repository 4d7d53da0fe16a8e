#!/usr/bin/env bash
# Scale-out: two hubs in one MQTT shared subscription group ($share/<group>/...), each with its own
# client id, state folder and persistent session, both writing to one database. firmware-sim
# publishes 20,000 QoS-1 readings; one hub is killed with SIGKILL mid-stream and the other must
# keep storing; the killed hub is started again (as systemd's Restart= would) and receives what
# the broker kept in its session. Every reading the broker acknowledged must be stored exactly
# once, and counted once in the hourly rollup.
source "$(dirname "$0")/lib.sh"

DEVICES=100
PER_DEVICE=200
GROUP="hubs-$TEST_ID"
write_config
sed -i "s/^  client_id: hub-$TEST_ID$/&\n  share_group: $GROUP/" "$CONFIG"
grep -q "share_group: $GROUP" "$CONFIG" || fail "could not add share_group to the config"
# The second hub: same file but its own client id and state folder.
CONFIG_B="$WORK_DIR/energyhub-b.yaml"
sed -e "s/client_id: hub-$TEST_ID/client_id: hub-b-$TEST_ID/" -e "s#state_dir: $WORK_DIR/state#state_dir: $WORK_DIR/state-b#" \
    "$CONFIG" >"$CONFIG_B"
grep -q "client_id: hub-b-$TEST_ID" "$CONFIG_B" || fail "could not write the second hub's config"
create_database
"$FIRMWARE_SIM_BIN" --register-only --config "$CONFIG" --devices "$DEVICES" --device-prefix "sg-$$" --users 10 >/dev/null

HUB_B_PID=""
EXTRA_CLEANUP+=("timeout 5 mosquitto_sub -p $MQTT_PORT -h 127.0.0.1 -i hub-b-$TEST_ID -t energyhub/none -E >/dev/null 2>&1")
start_hub_b() {
    "$ENERGYHUB_BIN" hub --config "$CONFIG_B" >>"$WORK_DIR/hub-b.log" 2>&1 &
    HUB_B_PID=$!
    BACKGROUND_PIDS+=("$HUB_B_PID")
    local before=$1
    wait_for 20 "second hub subscribed" '[[ $(grep -c "subscribed to \$share/$GROUP/" "$WORK_DIR/hub-b.log") -gt $before ]]'
}
stored_by() { curl -s "http://127.0.0.1:$(http_port "$1")/metrics" | awk '$1 == "energyhub_readings_stored_total" { printf "%.0f", $2 }'; }

start_hub
grep -q "subscribed to \$share/$GROUP/energy/+/reading" "$WORK_DIR/hub.log" || fail "hub A did not subscribe through the share group"
start_hub_b 0
"$FIRMWARE_SIM_BIN" --uri "$ENERGYHUB_MQTT_URI" --devices "$DEVICES" --device-prefix "sg-$$" --users 10 \
    --count "$PER_DEVICE" --rate 20 --qos 1 --acked-log "$WORK_DIR/acked.tsv" >"$WORK_DIR/sim.log" 2>&1 &
SIM_PID=$!
BACKGROUND_PIDS+=("$SIM_PID")

sleep 2.5
b_stored=$(stored_by hub-b)
((${b_stored:-0} > 0)) || fail "the second hub stored nothing while both were up: the group did not split the stream"
kill -9 "$HUB_B_PID"
wait "$HUB_B_PID" 2>/dev/null || true
killed_at=$(q "SELECT count(*) FROM readings")
log "killed the second hub with SIGKILL after it stored $b_stored; $killed_at readings stored in all"

# The survivor keeps storing while its peer is down.
wait_for 10 "the surviving hub storing more" '(($(q "SELECT count(*) FROM readings") > killed_at + 500))'
survivor_at=$(q "SELECT count(*) FROM readings")
log "hub A alone: $killed_at -> $survivor_at stored readings"

start_hub_b 1
log "restarted the second hub"

wait "$SIM_PID" || true
acked=$(wc -l <"$WORK_DIR/acked.tsv")
[[ "$acked" -ge $((DEVICES * PER_DEVICE * 9 / 10)) ]] || fail "simulator had only $acked of $((DEVICES * PER_DEVICE)) acknowledged: $(tail -3 "$WORK_DIR/sim.log")"

wait_stored "$acked"
read -r _ stored duplicated lost < <(count_against_acked "$WORK_DIR/acked.tsv")
rollup_samples=$(q "SELECT sum(samples) FROM readings_hourly")
a_stored=$(stored_by hub)
b_stored=$(stored_by hub-b)
log "acked=$acked stored=$stored lost=$lost duplicated=$duplicated rollup_samples=$rollup_samples; since start: hub A stored $a_stored, restarted hub B $b_stored"
((lost == 0)) || fail "$lost acknowledged readings are missing"
((duplicated == 0)) || fail "$duplicated readings stored twice"
((rollup_samples == stored)) || fail "hourly rollup counts $rollup_samples samples for $stored readings"

stop_hub
kill -TERM "$HUB_B_PID"
wait "$HUB_B_PID" || fail "the second hub exited with status $? on SIGTERM"
log "ok"
