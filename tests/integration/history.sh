#!/usr/bin/env bash
# firmware-sim --history: two days of the past, through the broker and the hub like any reading,
# dated in the past: every reading the broker acknowledged is stored at its own time, the hourly
# rollup has every hour of both days with energy, and a whole-home meter's history (a Shelly Pro
# 3EM's NotifyStatus, dated by the device) arrives with import and export.
source "$(dirname "$0")/lib.sh"

MQTT_EXTRA="  topics:
    discovery_prefix: ''
    devices:
      - {format: shelly, filter: '+/events/rpc'}"
write_config
create_database
start_hub
sim() { "$FIRMWARE_SIM_BIN" --uri "$ENERGYHUB_MQTT_URI" --config "$CONFIG" --register "$@"; }
sim --devices 3 --device-prefix "hist$$" --history 2d --history-step 30m --acked-log "$WORK_DIR/acked.tsv" \
    >"$WORK_DIR/sim.log" 2>&1 || fail "firmware-sim --history failed: $(tail -3 "$WORK_DIR/sim.log")"
acked=$(wc -l <"$WORK_DIR/acked.tsv")
(( acked >= 3 * 95 )) || fail "only $acked readings acknowledged for two days of three devices"
wait_stored "$acked"
read -r sent stored duplicated lost <<<"$(count_against_acked "$WORK_DIR/acked.tsv")"
[[ "$lost" == 0 && "$duplicated" == 0 && "$stored" == "$acked" ]] ||
    fail "history: acked $acked, stored $stored, duplicated $duplicated, lost $lost"
span=$(q "SELECT round(extract(epoch FROM max(ts) - min(ts)) / 3600) FROM readings WHERE device_id LIKE 'hist$$-%'")
(( span >= 47 )) || fail "the history spans $span hours, not two days"
hours=$(q "SELECT count(*) FROM readings_hourly WHERE device_id = 'hist$$-00000' AND energy_wh > 0")
(( hours >= 46 )) || fail "the rollup has energy in $hours hours of two days"
log "two days of history: $acked readings acknowledged and stored at their own times, $span h, $hours hours with energy"

sim --devices 1 --device-prefix "home$$" --profile house --format shelly --history 1d --history-step 1h \
    >"$WORK_DIR/house.log" 2>&1 || fail "firmware-sim --profile house --history failed: $(tail -3 "$WORK_DIR/house.log")"
wait_for 20 "a day of the house meter" '(( $(q "SELECT count(*) FROM readings WHERE device_id = '"'home$$-00000'"'") >= 24 ))'
got=$(q "SELECT round(extract(epoch FROM max(ts) - min(ts)) / 3600), count(energy_export_wh), count(*) FILTER (WHERE power_w < 0)
         FROM readings WHERE device_id = 'home$$-00000'")
read -r house_span with_export exporting <<<"$got"
(( house_span >= 22 && with_export >= 24 && exporting >= 1 )) ||
    fail "house history (span h, readings with export, exporting): $got"
log "a day of a whole-home meter: $house_span h, export counters in every reading, $exporting hours exporting"

stop_hub
log "ok"
