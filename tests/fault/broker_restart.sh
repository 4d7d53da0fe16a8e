#!/usr/bin/env bash
# Mosquitto restarted in the middle of a stream (persistence on): the hub and the simulator
# reconnect, the hub's queued messages arrive, and every acknowledged reading is stored once; the
# same for 2,000 devices each on its own connection of one event loop (firmware-sim --connections).
# Then a broker that lost what it retained: the hub announces its devices again, and the insights
# daemon publishes each user's newest insight again.
PRIVATE_STACK_PORT=19120
source "$(dirname "$0")/../integration/lib.sh"
source "$(dirname "$0")/stream.sh"
write_config "" "insights: {client_id: insights-$TEST_ID}"
create_database
start_hub
start_stream broker 50 200 25
sleep 2
"$REPO_DIR/scripts/stack.sh" restart-one mosquitto >/dev/null
log "Mosquitto restarted with $(acked_so_far broker) readings acknowledged"
finish_stream broker
wait_for 20 "the hub reconnected" 'grep -q "reconnected to" "$WORK_DIR/hub.log"'

# 2,000 connections through a restart: each comes back (after its backoff), sends what it held
# meanwhile, and reports what was lost with the old connection as failed, never as acknowledged.
SIM_EXTRA="--connections 2000 --connect-rate 2000" start_stream fleet 2000 6 1
sleep 2.5
"$REPO_DIR/scripts/stack.sh" restart-one mosquitto >/dev/null
log "Mosquitto restarted under 2,000 connections with $(acked_so_far fleet) readings acknowledged"
finish_stream fleet
(($(acked_so_far fleet) >= 10000)) || fail "the 2,000 connections did not come back: $(acked_so_far fleet) of 12000 acknowledged"

# The hub away while readings keep coming: the broker queues them for its session.
stop_hub
start_stream queued 20 50 20
sleep 2
"$REPO_DIR/scripts/stack.sh" restart-one mosquitto >/dev/null
start_hub
finish_stream queued

# A broker back without what it retained (a crash restarts from its last save; here from none):
# the hub announces each device again on its next reading; the insights daemon republishes at once.
device=$(q "SELECT device_id FROM readings WHERE device_id LIKE 'queued-%' ORDER BY device_id LIMIT 1")
user=$(q "SELECT user_id FROM devices WHERE device_id = '$device'")
retained() {  # retained TOPIC
    mosquitto_sub -h 127.0.0.1 -p "${ENERGYHUB_MQTT_URI##*:}" -t "$1" --retained-only -C 1 -W 2 2>/dev/null || true
}
availability() { retained "energy/+/$device/availability"; }
[[ $(availability) == online ]] || fail "no retained availability of $device before the broker lost it"
eh insights --once --user "$user" >>"$WORK_DIR/insights.log" 2>&1 || fail "no insight for $user"
insight=$(retained "insights/$user")
[[ $insight == *'"user_id":"'$user'"'* ]] || fail "no retained insight of $user: $insight"
"$ENERGYHUB_BIN" insights --config "$CONFIG" >>"$WORK_DIR/insights.log" 2>&1 &
BACKGROUND_PIDS+=($!)
republished() { grep -c "published the newest insight of 1 user" "$WORK_DIR/insights.log" || true; }
wait_for 20 "the insights daemon connected" '(( $(republished) == 1 ))'
reconnects=$(grep -c "reconnected to" "$WORK_DIR/hub.log" || true)
"$REPO_DIR/scripts/stack.sh" stop-one mosquitto >/dev/null
rm -f "$ENERGYHUB_RUN_DIR/mosquitto/mosquitto.db"
"$REPO_DIR/scripts/stack.sh" start-one mosquitto >/dev/null
wait_for 20 "the hub reconnected to the emptied broker" '(( $(grep -c "reconnected to" "$WORK_DIR/hub.log") > reconnects ))'
[[ -z $(availability) ]] || fail "the emptied broker still retains $device's availability"
wait_for 20 "the insights daemon reconnected" '(( $(republished) == 2 ))'
wait_for 10 "$user's insight retained again as it was" '[[ $(retained "insights/$user") == "$insight" ]]'
log "the emptied broker retains $user's insight again, as it was"
sleep 1  # its subscription renewed
"$FIRMWARE_SIM_BIN" --uri "$ENERGYHUB_MQTT_URI" --devices 20 --device-prefix queued --users 5 --count 1 --rate 0 --qos 1 >/dev/null 2>&1 ||
    fail "firmware-sim could not publish to the emptied broker"
wait_for 10 "$device announced again" '[[ $(availability) == online ]]'
stop_hub
log "ok"
