#!/usr/bin/env bash
# mosquitto_pub → hub → PostgreSQL: a registered device's reading lands in readings with its user,
# in the partition of its day, in the hourly rollup and in the retained state topic; an unknown
# device and malformed JSON go to the dead-letter topic and nothing else stops; a reading
# published twice is stored and counted in the rollup once, in the same batch or a later one.
source "$(dirname "$0")/lib.sh"

write_config
create_database
eh user add "alice_$$" --email alice@example.com --name Alice >/dev/null
eh device add "plug_$$" --user "alice_$$" --type plug --name Desk >/dev/null
# An expired partition (older than retention_days) is dropped when the hub starts; the next days
# are created ahead.
q "CREATE TABLE readings_p20200101 PARTITION OF readings FOR VALUES FROM ('2020-01-01 00:00+00') TO ('2020-01-02 00:00+00')"
subscribe "$WORK_DIR/deadletter.txt" energyhub/deadletter
start_hub
# The shipped default, QoS 1, kept only after watching this Paho acknowledge after the callback.
grep -q "acknowledges a QoS-1 message after the callback returned: subscribing with QoS 1" "$WORK_DIR/hub.log" ||
    fail "the hub did not check Paho's acknowledgement before subscribing with QoS 1"
grep -q "hub starting: subscribing .* with QoS 1" "$WORK_DIR/hub.log" || fail "the default subscription is not QoS 1"
curl -s "http://127.0.0.1:$(http_port hub)/metrics" | grep -q "^energyhub_mqtt_subscription_qos 1$" ||
    fail "/metrics does not show the subscription QoS"
wait_for 10 "the expired partition dropped" '[[ -z $(q "SELECT 1 FROM pg_class WHERE relname = '"'readings_p20200101'"'") ]]'
ahead=$(date -u -d "+3 days" +%Y%m%d)
[[ -n $(q "SELECT 1 FROM pg_class WHERE relname = 'readings_p$ahead'") ]] || fail "no partition for three days ahead"
log "expired partition dropped, readings_p$ahead created ahead"

ts=$(( $(now_ms) - 60000 ))
day=$(date -u -d "@$((ts / 1000))" +%Y%m%d)
pub "energy/plug_$$/reading" "{\"ts\":$ts,\"power_w\":153.2,\"energy_wh\":12345.6,\"voltage_v\":230.1,\"current_a\":0.67}"
stored() { q "SELECT count(*) FROM readings WHERE device_id = 'plug_$$'"; }
wait_for 10 "the reading is stored" '[[ $(stored) == 1 ]]'

row=$(q "SELECT user_id, power_w, energy_wh, voltage_v, current_a, tableoid::regclass FROM readings WHERE device_id = 'plug_$$'")
[[ "$row" == "alice_$$"$'\t'153.2$'\t'12345.6$'\t'230.1$'\t'0.67$'\t'readings_p$day ]] || fail "stored row is wrong: $row"
log "stored with its user in partition readings_p$day"

state=$(mosquitto_sub -p "$MQTT_PORT" -h 127.0.0.1 -t "energy/alice_$$/plug_$$/state" -C 1 -W 5)
[[ "$state" == *"\"power_w\":153.2"* && "$state" == *"\"user_id\":\"alice_$$\""* ]] || fail "retained state is wrong: $state"
log "retained state: $state"

# Bad input: nothing stored for it, a dead letter with a reason each, and the pipeline goes on.
pub "energy/ghost_$$/reading" '{"power_w":5}'
pub "energy/plug_$$/reading" '{"power_w":'
pub "energy/plug_$$/reading" '{"power_w":"lots"}'
pub "energy/plug_$$/reading" "{\"ts\":$((ts + 1000)),\"power_w\":160.0,\"energy_wh\":12346.0}"
wait_for 10 "the good reading after the bad ones" '[[ $(stored) == 2 ]]'
wait_for 5 "three dead letters" '(( $(grep -c "^energyhub/deadletter " "$WORK_DIR/deadletter.txt") >= 3 ))'
grep -q "\"reason\":\"unknown_device\".*ghost_$$\|ghost_$$.*\"reason\":\"unknown_device\"" "$WORK_DIR/deadletter.txt" || fail "no unknown_device dead letter"
grep -q '"reason":"malformed_json"' "$WORK_DIR/deadletter.txt" || fail "no malformed_json dead letter"
grep -q '"reason":"wrong_type"' "$WORK_DIR/deadletter.txt" || fail "no wrong_type dead letter"
[[ "$(q "SELECT count(*) FROM readings WHERE device_id = 'ghost_$$'")" == 0 ]] || fail "unknown device was stored"
log "unknown device, malformed JSON and a wrong type were dead-lettered; the next good reading was stored"

# The same reading twice (a redelivery): stored once, counted once in the rollup.
for _ in 1 2; do pub "energy/plug_$$/reading" "{\"ts\":$((ts + 2000)),\"power_w\":170.0,\"energy_wh\":12346.5}"; done
pub "energy/plug_$$/reading" "{\"ts\":$((ts + 3000)),\"power_w\":100.0,\"energy_wh\":12347.0}"
wait_for 10 "the reading after the duplicate" '[[ $(stored) == 4 ]]'
[[ "$(q "SELECT count(*) FROM readings WHERE device_id = 'plug_$$' AND ts = to_timestamp($((ts + 2000)) / 1000.0)")" == 1 ]] ||
    fail "duplicate reading stored twice"
rollup=$(q "SELECT sum(samples), round(sum(energy_wh)::numeric, 3), max(power_max) FROM readings_hourly WHERE device_id = 'plug_$$'")
[[ "$rollup" == 4$'\t'1.400$'\t'170 ]] || fail "hourly rollup is wrong (samples, Wh, peak): $rollup"
log "a duplicate was stored once; rollup: $rollup"

# A redelivery after the first copy was committed (a later batch): still stored and counted once.
duplicates() { metric_of hub energyhub_readings_duplicate_total; }
before=$(duplicates)
pub "energy/plug_$$/reading" "{\"ts\":$((ts + 2000)),\"power_w\":170.0,\"energy_wh\":12346.5}"
wait_for 10 "the late duplicate seen by the hub" '(( $(duplicates) > before ))'
again=$(q "SELECT sum(samples), round(sum(energy_wh)::numeric, 3), max(power_max) FROM readings_hourly WHERE device_id = 'plug_$$'")
[[ "$again" == "$rollup" && $(stored) == 4 ]] || fail "a duplicate in a later batch changed the rollup: $rollup -> $again ($(stored) rows)"
log "a duplicate in a later batch changed neither readings nor the rollup"

eh usage --device "plug_$$" --since 24h >"$WORK_DIR/usage.txt"
grep -q "^total .*0.001 .*170.0" "$WORK_DIR/usage.txt" || fail "usage table is wrong: $(cat "$WORK_DIR/usage.txt")"

stop_hub
grep -q "hub stopped: received=9 stored=4 duplicates=2 rejected=3" "$WORK_DIR/hub.log" || fail "final counters are wrong: $(grep 'hub stopped' "$WORK_DIR/hub.log")"

# 300 devices of 100 users the hub has never seen, their readings waiting in its session: looked up
# together (the devices of the spooled messages behind a miss go with it), not one round trip each;
# the owners' local days asked once per time zone (all in UTC here), not once per user.
"$FIRMWARE_SIM_BIN" --register-only --config "$CONFIG" --devices 300 --device-prefix "burst$$" --users 100 >/dev/null
"$FIRMWARE_SIM_BIN" --uri "$ENERGYHUB_MQTT_URI" --devices 300 --device-prefix "burst$$" --users 100 --count 1 \
    --rate 1000 --qos 1 >"$WORK_DIR/burst.log" 2>&1 || fail "publishing the burst failed: $(tail -1 "$WORK_DIR/burst.log")"
start_hub
wait_for 20 "the burst stored" '[[ $(q "SELECT count(*) FROM readings WHERE device_id LIKE '"'burst$$-%'"'") == 300 ]]'
# The plug's record now comes from Redis; its counter still continues from the stored one.
pub "energy/plug_$$/reading" "{\"ts\":$((ts + 4000)),\"power_w\":100.0,\"energy_wh\":12347.5}"
wait_for 10 "the plug's reading after the restart" '[[ $(stored) == 5 ]]'
delta=$(q "SELECT coalesce(energy_delta_wh::text, 'none') FROM readings WHERE device_id = 'plug_$$' ORDER BY ts DESC LIMIT 1")
(($(metric_of hub energyhub_redis_hits_total) >= 1)) || fail "the plug's record did not come from Redis"
[[ $delta == 0.5 ]] || fail "after a restart the plug's first delta is $delta Wh, not 0.5"
log "after a restart, with the record from Redis, the plug's usage continued from its stored counter"
batches=$(metric_of hub energyhub_lookup_batches_total)
((batches <= 30)) || fail "300 new devices took $batches registry lookups"
days=$(metric_of hub energyhub_local_day_queries_total)
[[ -n $days ]] && ((days <= 3)) || fail "the local days of 100 users in one time zone took ${days:-an unknown number of} queries"
log "300 new devices in $batches registry lookups, their owners' days in $days queries"
stop_hub
log "ok"
