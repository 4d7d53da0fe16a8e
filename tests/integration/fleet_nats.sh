#!/usr/bin/env bash
# Fleet mode on a NATS cluster (mqtt.broker: nats; scripts/nats-cluster.sh): three nodes with the
# subject mappings `energyhub nats-mappings` writes for every reading filter of the config, two
# hubs for partitions 0 and 1 of 2, each given all three nodes and preferring a different one.
# 20,000 QoS-1 readings from firmware-sim into the third node with its acknowledged log; mid-stream
# the first hub and the node it is connected to are SIGKILLed; the hub is started again while its
# node is still down (it fails over to the next node), then the node. Every acknowledged reading is
# stored exactly once, and each device's state was published by one hub only (device affinity
# comes from the broker's mappings, not from hubs throwing readings away). Then Tasmota and Shelly
# devices reach their hubs too, the partitioned rules hold (devices above 1000 W for 11 s fire
# once, devices flapping 1500/500 W never), and a device id NATS cannot carry is refused.
source "$(dirname "$0")/lib.sh"
export NATS_BASE_PORT=19300 NATS_DIR="$WORK_DIR/nats" NATS_MAPPINGS="$WORK_DIR/mappings.conf"
NATS="$REPO_DIR/scripts/nats-cluster.sh"
EXTRA_CLEANUP+=("'$NATS' stop")
node() { echo "tcp://127.0.0.1:$((NATS_BASE_PORT + 10 + $1))"; }

DEVICES=100
PER_DEVICE=200
HUB_QOS=1
MQTT_EXTRA="  broker: nats
  topics:
    discovery_prefix: ''
    state_prefix: fleet-partition
    devices:
      - {format: tasmota, filter: tele/+/SENSOR}
      - {format: shelly, filter: shelly/+/status/+}
      - {format: shelly_gen1, filter: shellies/+/relay/+/+}"
write_config "  partition: 0/2" "thresholds:
  types:
    heater:
      power_above: {watts: 1000, for: 3s}"
"$ENERGYHUB_BIN" nats-mappings --config "$CONFIG" >"$NATS_MAPPINGS"
grep -q '"shellies.\*.relay.\*.\*": "hub.{{partition(2,1)}}' "$NATS_MAPPINGS" || fail "mappings: $(cat "$NATS_MAPPINGS")"
"$NATS" start >/dev/null
create_database
"$FIRMWARE_SIM_BIN" --register-only --config "$CONFIG" --devices "$DEVICES" --device-prefix fleet --users 5 >/dev/null

# Hub i: partition i, its own client id, state folder and state topics, and the three nodes
# starting with node i+1.
declare -A PID
hub_config() {
    local i=$1 first=$(($1 + 1)) uris
    uris="$(node "$first"),$(node $((first % 3 + 1))),$(node $(((first + 1) % 3 + 1)))"
    sed -e "0,/^  uri: /s#^  uri: .*#  uri: \"$uris\"#" -e "s/client_id: hub-$TEST_ID/client_id: hub$i-$TEST_ID/" \
        -e "s#state_dir: $WORK_DIR/state#state_dir: $WORK_DIR/state$i#" -e "s#^  partition: 0/2#  partition: $i/2#" \
        -e "s#state_prefix: fleet-partition#state_prefix: fleet$i#" "$CONFIG" >"$WORK_DIR/hub$i.yaml"
    grep -q "partition: $i/2" "$WORK_DIR/hub$i.yaml" || fail "could not write hub $i's config"
}
start_fleet_hub() {
    local i=$1 last="subscribed to hub/$1/shellies/+/relay/+/+" before  # its last subscription
    before=$(grep -c "$last" "$WORK_DIR/hub$i.log" 2>/dev/null || true)
    "$ENERGYHUB_BIN" hub --config "$WORK_DIR/hub$i.yaml" >>"$WORK_DIR/hub$i.log" 2>&1 &
    PID[$i]=$!
    BACKGROUND_PIDS+=("${PID[$i]}")
    wait_for 30 "hub $i subscribed" '(($(grep -c "$last" "$WORK_DIR/hub'"$i"'.log") > ${before:-0}))'
}
for i in 0 1; do hub_config "$i"; start_fleet_hub "$i"; done
grep -q "connected to $(node 1) as" "$WORK_DIR/hub0.log" || fail "hub 0 is not on node 1: $(grep -a connected "$WORK_DIR/hub0.log")"
grep -q "handling the devices of partition 1/2 as mapped by the NATS cluster" "$WORK_DIR/hub1.log" ||
    fail "hub 1 does not say which partition it handles"

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

# Every format the hubs read is mapped: Tasmota, Shelly Gen2 (topic prefix shelly/<id>) and Gen1
# devices publishing into node 3 reach the hub of their partition.
eh user add "fm_$$" --email "fm_$$@example.com" >/dev/null
for k in 1 2 3 4; do for kind in tas gen2 gen1; do eh device add "${kind}${k}_$$" --user "fm_$$" >/dev/null; done; done
nats_pub() { mosquitto_pub -h 127.0.0.1 -p "$((NATS_BASE_PORT + 13))" -q 1 -t "$1" -m "$2"; }
for k in 1 2 3 4; do
    nats_pub "tele/tas${k}_$$/SENSOR" '{"ENERGY":{"Total":514.153,"Power":56,"Voltage":234,"Current":0.392}}'
    nats_pub "shelly/gen2${k}_$$/status/switch:0" '{"id":0,"output":true,"apower":153.2,"voltage":237.1,"current":0.672,"aenergy":{"total":61917.211}}'
    nats_pub "shellies/gen1${k}_$$/relay/0/power" "56.82"
done
formats() { q "SELECT count(DISTINCT device_id) FROM readings WHERE device_id ~ '^(tas|gen1|gen2)[1-4]_$$(:0)?$'"; }
wait_for 20 "a reading of each of the 12 Tasmota and Shelly devices" '(($(formats) == 12))' 'echo "$(formats) devices"'
log "Tasmota, Shelly Gen2 and Gen1 readings arrived through the mappings"

# The partitioned rules, as on one hub: 10 steady devices fire once each, 10 flapping never.
eh user add "pt_$$" --email "pt_$$@example.com" >/dev/null
RULED=()
for k in $(seq 1 10); do RULED+=("steady${k}_$$" "flappy${k}_$$"); done
for d in "${RULED[@]}"; do eh device add "$d" --user "pt_$$" --type heater >/dev/null; done
t0=$(($(now_ms) - 60000))
for d in "${RULED[@]}"; do
    for i in $(seq 0 11); do
        w=1500
        [[ $d == flappy* ]] && ((i % 2)) && w=500
        echo "{\"ts\":$((t0 + i * 1000)),\"power_w\":$w}"
    done | mosquitto_pub -h 127.0.0.1 -p "$((NATS_BASE_PORT + 13))" -q 1 -t "energy/$d/reading" -l
done
ruled() { q "SELECT count(*) FROM readings WHERE device_id ~ '^(steady|flappy)[0-9]+_$$$'"; }
wait_for 20 "the 240 readings of the ruled devices" '(($(ruled) == 240))' 'echo "$(ruled) stored"'
sleep 1  # an alert raised late would show now
firing=$(q "SELECT string_agg(device_id, ' ' ORDER BY device_id) FROM alerts WHERE user_id = 'pt_$$' AND state = 'firing'")
[[ $(q "SELECT count(*) FROM alerts WHERE device_id LIKE 'flappy%'") == 0 ]] || fail "a flapping device fired: $firing"
[[ $(q "SELECT count(*) FROM alerts WHERE device_id LIKE 'steady%' AND state = 'firing'") == 10 &&
    $(q "SELECT count(DISTINCT device_id) FROM alerts WHERE device_id LIKE 'steady%'") == 10 ]] ||
    fail "expected one firing alert per steady device, got: $firing"
log "partitioned rules: each steady device fired once, no flapping device fired"

# A device id NATS would split into two subject tokens is refused at registration.
if out=$(eh device add "dotted.$$" --user "pt_$$" 2>&1); then fail "a dotted device id was registered in fleet mode"; fi
[[ $out == *"cannot publish through NATS"* ]] || fail "unclear refusal of a dotted id: $out"
log "ok"
