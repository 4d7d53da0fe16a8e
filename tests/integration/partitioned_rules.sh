#!/usr/bin/env bash
# Scale-out with whole devices: two hubs, hub.partition 0/2 and 1/2, each subscribed to the whole
# stream with its own session. Every device is handled by exactly one of them, so a rule that
# needs a device's consecutive readings works as on one hub: devices that stay above 1000 W for
# 11 s fire once; devices that flap between 1500 and 500 W never hold for 3 s and fire nothing.
# (A share group splitting per message would hand one hub a flapping device's 1500 W readings and
# the other its 500 W ones: false alerts.) Every reading is stored once, by its device's hub.
source "$(dirname "$0")/lib.sh"

write_config "  partition: 0/2" "thresholds:
  defaults:
    power_above: {watts: 1000, for: 3s}"
CONFIG_B="$WORK_DIR/energyhub-b.yaml"
sed -e "s/client_id: hub-$TEST_ID/client_id: hub-b-$TEST_ID/" -e "s#state_dir: $WORK_DIR/state#state_dir: $WORK_DIR/state-b#" \
    -e "s#^  partition: 0/2#  partition: 1/2#" "$CONFIG" >"$CONFIG_B"
grep -q "partition: 1/2" "$CONFIG_B" || fail "could not write the second hub's config"
create_database
eh user add "pt_$$" --email "pt_$$@example.com" >/dev/null
DEVICES=()
for i in $(seq 1 10); do DEVICES+=("steady${i}_$$" "flappy${i}_$$"); done
for d in "${DEVICES[@]}"; do eh device add "$d" --user "pt_$$" --type plug >/dev/null; done

EXTRA_CLEANUP+=("timeout 5 mosquitto_sub -p $MQTT_PORT -h 127.0.0.1 -i hub-b-$TEST_ID -t energyhub/none -E >/dev/null 2>&1")
start_hub
"$ENERGYHUB_BIN" hub --config "$CONFIG_B" >>"$WORK_DIR/hub-b.log" 2>&1 &
BACKGROUND_PIDS+=("$!")
wait_for 20 "second hub subscribed" 'grep -q "subscribed to energy/+/reading" "$WORK_DIR/hub-b.log"'
grep -q "handling the devices of partition 1/2" "$WORK_DIR/hub-b.log" || fail "hub B does not say which partition it handles"

READINGS=12
t0=$(( $(now_ms) - 60000 ))
for d in "${DEVICES[@]}"; do
    for i in $(seq 0 $((READINGS - 1))); do
        w=1500
        [[ $d == flappy* ]] && ((i % 2)) && w=500
        echo "{\"ts\":$((t0 + i * 1000)),\"power_w\":$w}"
    done | mosquitto_pub -p "$MQTT_PORT" -h 127.0.0.1 -q 1 -t "energy/$d/reading" -l
done
total=$((${#DEVICES[@]} * READINGS))
wait_for 20 "all $total readings stored" '(( $(q "SELECT count(*) FROM readings") >= total ))'
sleep 1  # a reading stored twice or an alert raised late would show now

a_stored=$(metric_of hub energyhub_readings_stored_total) b_stored=$(metric_of hub-b energyhub_readings_stored_total)
a_other=$(metric_of hub energyhub_messages_other_partition_total) b_other=$(metric_of hub-b energyhub_messages_other_partition_total)
dups=$(( $(metric_of hub energyhub_readings_duplicate_total) + $(metric_of hub-b energyhub_readings_duplicate_total) ))
stored=$(q "SELECT count(*) FROM readings")
log "stored $stored of $total: hub A $a_stored (passed on $a_other), hub B $b_stored (passed on $b_other), duplicates $dups"
((stored == total && a_stored + b_stored == total && dups == 0)) || fail "each reading must be stored once by one hub"
((a_stored > 0 && b_stored > 0)) || fail "one hub handled every device: the fleet was not split"
((a_other == b_stored && b_other == a_stored)) || fail "a hub handled readings of the other's devices"

firing=$(q "SELECT string_agg(device_id, ' ' ORDER BY device_id) FROM alerts WHERE state = 'firing'")
n_firing=$(q "SELECT count(*) FROM alerts WHERE state = 'firing'")
log "firing: $n_firing alerts"
[[ $(q "SELECT count(*) FROM alerts WHERE device_id LIKE 'flappy%'") == 0 ]] || fail "a flapping device fired: $firing"
[[ $(q "SELECT count(DISTINCT device_id) FROM alerts WHERE state = 'firing' AND device_id LIKE 'steady%'") == 10 &&
    $n_firing == 10 ]] || fail "expected one firing alert per steady device, got: $firing"
log "ok"
