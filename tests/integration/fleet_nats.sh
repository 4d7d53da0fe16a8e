#!/usr/bin/env bash
# Fleet mode on a NATS cluster (scripts/nats-cluster.sh): three nodes, two hubs for partitions 0
# and 1 of 2, each given all three nodes and preferring a different one; 20,000 QoS-1 readings
# from firmware-sim into the third node with its acknowledged log. Mid-stream the first hub and
# the node it is connected to are SIGKILLed; the hub is started again while its node is still
# down (it fails over to the next node), then the node. Every acknowledged reading is stored
# exactly once, and each device's state was published by one hub only (device affinity comes
# from the broker's partition mapping, not from hubs throwing readings away).
source "$(dirname "$0")/lib.sh"
export NATS_BASE_PORT=19200 NATS_DIR="$WORK_DIR/nats" NATS_PARTITIONS=2
NATS="$REPO_DIR/scripts/nats-cluster.sh"
EXTRA_CLEANUP+=("'$NATS' stop")
"$NATS" start >/dev/null
node() { echo "tcp://127.0.0.1:$((NATS_BASE_PORT + 10 + $1))"; }

DEVICES=100
PER_DEVICE=200
write_config
create_database
"$FIRMWARE_SIM_BIN" --register-only --config "$CONFIG" --devices "$DEVICES" --device-prefix fleet --users 5 >/dev/null

# Hub i: partition i's topic filter, its own client id, state folder and state topics, and the
# three nodes starting with node i+1.
declare -A PID
hub_config() {
    local i=$1 first=$(($1 + 1)) uris
    uris="$(node "$first"),$(node $((first % 3 + 1))),$(node $(((first + 1) % 3 + 1)))"
    sed -e "0,/^  uri: /s#^  uri: .*#  uri: \"$uris\"\n  qos: 1#" -e "s/client_id: hub-$TEST_ID/client_id: hub$i-$TEST_ID/" \
        -e "s#state_dir: $WORK_DIR/state#state_dir: $WORK_DIR/state$i#" \
        -e "s#^  topics: {discovery_prefix: ''}#  topics: {discovery_prefix: '', reading: 'hub/$i/energy/+/reading', state_prefix: 'fleet$i'}#" \
        "$CONFIG" >"$WORK_DIR/hub$i.yaml"
    grep -q "reading: 'hub/$i/energy" "$WORK_DIR/hub$i.yaml" || fail "could not write hub $i's config"
}
start_fleet_hub() {
    local i=$1 before
    before=$(grep -c "subscribed to" "$WORK_DIR/hub$i.log" 2>/dev/null || true)
    "$ENERGYHUB_BIN" hub --config "$WORK_DIR/hub$i.yaml" >>"$WORK_DIR/hub$i.log" 2>&1 &
    PID[$i]=$!
    BACKGROUND_PIDS+=("${PID[$i]}")
    wait_for 30 "hub $i subscribed" '(($(grep -c "subscribed to hub/'"$i"'/energy/+/reading" "$WORK_DIR/hub'"$i"'.log") > ${before:-0}))'
}
for i in 0 1; do hub_config "$i"; start_fleet_hub "$i"; done
grep -q "connected to $(node 1) as" "$WORK_DIR/hub0.log" || fail "hub 0 is not on node 1: $(grep -a connected "$WORK_DIR/hub0.log")"

"$FIRMWARE_SIM_BIN" --uri "$(node 3)" --devices "$DEVICES" --device-prefix fleet --users 5 --count "$PER_DEVICE" \
    --rate 20 --qos 1 --acked-log "$WORK_DIR/acked.tsv" >"$WORK_DIR/sim.log" 2>&1 &
SIM_PID=$!
BACKGROUND_PIDS+=("$SIM_PID")
sleep 3
stored=$(q "SELECT count(*) FROM readings")
((stored > 0)) || fail "nothing stored after 3 s: $(tail -3 "$WORK_DIR/hub0.log")"
kill -9 "${PID[0]}"
wait "${PID[0]}" 2>/dev/null || true
"$NATS" kill 1
log "hub 0 and node 1 SIGKILLed with $stored readings stored and $(wc -l <"$WORK_DIR/acked.tsv") acknowledged"
sleep 1
start_fleet_hub 0
now_on=$(grep -ao 'connected to [^ ]* as' "$WORK_DIR/hub0.log" | tail -1)
[[ $now_on == *"$(node 2) as" || $now_on == *"$(node 3) as" ]] || fail "hub 0 did not fail over from node 1: $now_on"
log "hub 0 restarted while node 1 is down: $now_on"
"$NATS" start-node 1
log "node 1 back"

wait "$SIM_PID" || true
acked=$(wc -l <"$WORK_DIR/acked.tsv")
((acked > 0)) || fail "nothing acknowledged: $(tail -3 "$WORK_DIR/sim.log")"
# A reading a killed hub took but did not acknowledge comes back after the stream's ack wait (30 s).
lost_now() { count_against_acked "$WORK_DIR/acked.tsv" | awk '{ print $4 }'; }
wait_for 90 "every acknowledged reading stored" '(($(lost_now) == 0))' \
    'read -r _ s d l < <(count_against_acked "$WORK_DIR/acked.tsv"); echo "acked $acked, stored $s, duplicated $d, lost $l"'
sleep 1
read -r sent stored duplicated lost < <(count_against_acked "$WORK_DIR/acked.tsv")
log "acked=$sent stored=$stored duplicated=$duplicated lost=$lost"
((lost == 0)) || fail "$lost acknowledged readings lost"
((duplicated == 0)) || fail "$duplicated readings stored twice"

# Affinity: every device's retained state under exactly one hub's prefix.
timeout 10 mosquitto_sub -h 127.0.0.1 -p "$((NATS_BASE_PORT + 12))" -i "check-$TEST_ID" -t 'fleet0/#' -t 'fleet1/#' \
    -v -W 3 >"$WORK_DIR/states.txt" 2>/dev/null || true
# <prefix>/<user>/<device>/state
owners=$(awk '$1 ~ /\/state$/ { split($1, t, "/"); print t[3], t[1] }' "$WORK_DIR/states.txt" | sort -u)
[[ $(awk '{ print $1 }' <<<"$owners" | sort -u | wc -l) == "$DEVICES" ]] ||
    fail "state of $(awk '{ print $1 }' <<<"$owners" | sort -u | wc -l) devices, not $DEVICES: $(head -3 "$WORK_DIR/states.txt")"
shared=$(awk '{ print $1 }' <<<"$owners" | uniq -d | wc -l)
((shared == 0)) || fail "$shared devices were handled by both hubs"
log "each of the $DEVICES devices handled by one hub: $(grep -c ' fleet0$' <<<"$owners") by hub 0, $(grep -c ' fleet1$' <<<"$owners") by hub 1"
log "ok"
