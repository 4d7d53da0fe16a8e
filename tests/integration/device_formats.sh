#!/usr/bin/env bash
# Tasmota and Shelly devices as they are: mosquitto_pub of a Tasmota SENSOR, of Shelly Gen2 switch
# statuses and of a Shelly Gen1 power/energy pair ends as rows in readings (channels as
# "<device>:<n>" sub-devices of the registered device, units normalised to W and Wh, Tasmota's
# local Time converted with the configured zone) and as retained state; a Tasmota Total reset is
# usage since the reset, not negative usage; LWT sets the device's availability; garbage in each
# format is dead-lettered with its reason and nothing else stops.
source "$(dirname "$0")/lib.sh"

MQTT_EXTRA="  tasmota_timezone: Europe/Berlin
  topics:
    discovery_prefix: ''
    devices:
      - {format: tasmota, filter: 'tele/+/+'}
      - {format: shelly, filter: '+/status/+'}
      - {format: shelly, filter: '+/events/rpc'}
      - {format: shelly, filter: '+/online'}
      - {format: shelly_gen1, filter: 'shellies/+/relay/+/+'}
      - {format: shelly_gen1, filter: 'shellies/+/online'}"
write_config
create_database
user="alice_$$" tasmota="tasmota_$$" gen2="shellyplus2pm-$$" gen1="shellyplug-s-$$"
eh user add "$user" --email alice@example.com >/dev/null
eh device add "$tasmota" --user "$user" --type plug --name Desk >/dev/null
eh device add "$gen2" --user "$user" --type meter --name Kitchen >/dev/null
eh device add "$gen1" --user "$user" --type plug >/dev/null
subscribe "$WORK_DIR/deadletter.txt" energyhub/deadletter
start_hub
wait_for 20 "every device topic subscribed" 'grep -q "subscribed to shellies/+/online" "$WORK_DIR/hub.log"'

row() { q "SELECT $2 FROM readings WHERE device_id = '$1' ORDER BY ts DESC LIMIT 1"; }
count() { q "SELECT count(*) FROM readings WHERE device_id = '$1'"; }
retained() { mosquitto_sub -p "$MQTT_PORT" -h 127.0.0.1 -t "$1" -C 1 -W 5; }

# Tasmota: the fixture's SENSOR with the device's local time (Europe/Berlin) a minute ago.
secs=$(( $(date +%s) - 60 ))
local_time=$(TZ=Europe/Berlin date -d "@$secs" +%Y-%m-%dT%H:%M:%S)
pub "tele/$tasmota/SENSOR" "{\"Time\":\"$local_time\",\"ENERGY\":{\"TotalStartTime\":\"2022-03-20T15:20:48\",\"Total\":514.153,\"Yesterday\":1.495,\"Today\":0.537,\"Period\":0,\"Power\":56,\"ApparentPower\":92,\"ReactivePower\":73,\"Factor\":0.61,\"Voltage\":234,\"Current\":0.392}}"
wait_for 10 "the Tasmota reading is stored" '[[ $(count "$tasmota") == 1 ]]'
got=$(row "$tasmota" "user_id, power_w, energy_wh, voltage_v, current_a, extract(epoch FROM ts)::bigint")
[[ "$got" == "$user"$'\t'56$'\t'514153$'\t'234$'\t'0.392$'\t'$secs ]] || fail "Tasmota row is wrong: $got (want ts $secs)"
log "Tasmota SENSOR stored: kWh -> Wh, local time $local_time (Europe/Berlin) -> epoch $secs"
state=$(retained "energy/$user/$tasmota/state")
[[ "$state" == *'"power_w":56'* && "$state" == *'"energy_wh":514153'* ]] || fail "Tasmota retained state is wrong: $state"

# The counter is reset (EnergyReset3): the usage after it is the new value, never negative.
local_time=$(TZ=Europe/Berlin date -d "@$((secs + 10))" +%Y-%m-%dT%H:%M:%S)
pub "tele/$tasmota/SENSOR" "{\"Time\":\"$local_time\",\"ENERGY\":{\"Total\":0.002,\"Power\":40,\"Voltage\":233,\"Current\":0.2}}"
wait_for 10 "the reading after the reset" '[[ $(count "$tasmota") == 2 ]]'
[[ "$(row "$tasmota" energy_delta_wh)" == 2 ]] || fail "delta after a reset is $(row "$tasmota" energy_delta_wh), want 2"
[[ "$(q "SELECT sum(energy_wh) FROM readings_hourly WHERE device_id = '$tasmota'")" == 2 ]] || fail "rollup after a reset is wrong"
log "a Total reset counts 2 Wh of usage, not -514151"

# LWT: plain text; the hub publishes the device's availability.
pub "tele/$tasmota/LWT" "Offline"
wait_for 10 "availability offline" '[[ $(retained "energy/$user/$tasmota/availability") == offline ]]'
pub "tele/$tasmota/LWT" "Online"
wait_for 10 "availability online" '[[ $(retained "energy/$user/$tasmota/availability") == online ]]'
log "LWT Offline/Online -> energy/$user/$tasmota/availability"

# Shelly Gen2: the fixtures' two switch statuses of a Plus 2PM, one sub-device per channel.
pub "$gen2/status/switch:0" '{"id":0,"source":"MQTT","output":false,"apower":0.0,"voltage":237.0,"freq":50.0,"current":0.000,"pf":0.00,"aenergy":{"total":62758.285,"by_minute":[0.000,0.000,0.000],"minute_ts":1709223337},"temperature":{"tC":35.5,"tF":96.0}}'
pub "$gen2/status/switch:1" '{"id":1,"source":"MQTT","output":true,"apower":153.2,"voltage":237.1,"freq":50.0,"current":0.672,"pf":0.96,"aenergy":{"total":61917.211,"by_minute":[0.000,0.000,0.000],"minute_ts":1709223337},"temperature":{"tC":35.5,"tF":96.0}}'
wait_for 10 "both Shelly channels are stored" '[[ $(count "$gen2:0") == 1 && $(count "$gen2:1") == 1 ]]'
got=$(row "$gen2:1" "user_id, power_w, energy_wh, voltage_v, current_a")
[[ "$got" == "$user"$'\t'153.2$'\t'61917.211$'\t'237.1$'\t'0.672 ]] || fail "Shelly channel 1 row is wrong: $got"
[[ "$(row "$gen2:0" energy_wh)" == 62758.285 ]] || fail "Shelly channel 0 row is wrong: $(row "$gen2:0" energy_wh)"
state=$(retained "energy/$user/$gen2:1/state")
[[ "$state" == *'"power_w":153.2'* && "$state" == *'"energy_wh":61917.211'* && "$state" == *"\"device_id\":\"$gen2:1\""* ]] ||
    fail "Shelly retained state is wrong: $state"
log "Shelly Gen2 statuses stored as $gen2:0 and $gen2:1 of $user; state: $state"

# A NotifyStatus frame with only the power: merged onto the last status of switch:1.
ts=$(( $(date +%s) - 5 ))
pub "$gen2/events/rpc" "{\"src\":\"$gen2\",\"dst\":\"$gen2/events\",\"method\":\"NotifyStatus\",\"params\":{\"ts\":$ts.50,\"switch:1\":{\"id\":1,\"apower\":99.5}}}"
wait_for 10 "the notification is stored" '[[ $(count "$gen2:1") == 2 ]]'
got=$(q "SELECT power_w, energy_wh, voltage_v, (extract(epoch FROM ts) * 1000)::bigint FROM readings
         WHERE device_id = '$gen2:1' ORDER BY ts LIMIT 1")  # dated by params.ts: before the status
[[ "$got" == 99.5$'\t'61917.211$'\t'237.1$'\t'"${ts}500" ]] || fail "merged NotifyStatus row is wrong: $got"
log "NotifyStatus merged: $got"

# Shelly Gen1: power in W, energy in watt-minutes.
pub "shellies/$gen1/relay/0/power" "56.82"
wait_for 10 "the Gen1 power" '[[ $(count "$gen1:0") -ge 1 ]]'
pub "shellies/$gen1/relay/0/energy" "1380420"
wait_for 10 "the Gen1 energy" '[[ $(q "SELECT count(*) FROM readings WHERE device_id = '"'$gen1:0'"' AND energy_wh IS NOT NULL") == 1 ]]'
[[ "$(q "SELECT energy_wh, power_w FROM readings WHERE device_id = '$gen1:0' AND energy_wh IS NOT NULL")" == 23007$'\t'56.82 ]] ||
    fail "Gen1 energy row is wrong"
log "Shelly Gen1 1380420 watt-minutes stored as 23007 Wh"

# Garbage in each format, an unknown device, and things the hub ignores.
pub "tele/$tasmota/SENSOR" '{"ENERGY":{"Power":"lots"}}'
pub "tele/$tasmota/LWT" 'Maybe'
pub "tele/ghost_$$/SENSOR" '{"ENERGY":{"Power":1}}'
pub "$gen2/status/switch:0" '{"apower":'
pub "$gen2/status/switch:7x" '{"apower":1}'
pub "shellies/$gen1/relay/0/power" 'abc'
pub "$gen2/status/sys" '{"uptime":5}'
pub "tele/$tasmota/INFO1" '{"Module":"Sonoff Basic"}'
pub "shellies/$gen1/relay/0/power" "12.5"
wait_for 10 "the good reading after the garbage" '[[ $(q "SELECT count(*) FROM readings WHERE device_id = '"'$gen1:0'"' AND power_w = 12.5") == 1 ]]'
wait_for 5 "six dead letters" '(( $(grep -c "^energyhub/deadletter " "$WORK_DIR/deadletter.txt") >= 6 ))'
dead_letter() { grep -F "\"topic\":\"$1\"" "$WORK_DIR/deadletter.txt" | grep -qF "\"reason\":\"$2\""; }
for want in "tele/$tasmota/SENSOR wrong_type" "tele/$tasmota/LWT bad_value" "tele/ghost_$$/SENSOR unknown_device" \
            "$gen2/status/switch:0 malformed_json" "$gen2/status/switch:7x bad_channel" "shellies/$gen1/relay/0/power wrong_type"; do
    dead_letter $want || fail "no dead letter for $want: $(cat "$WORK_DIR/deadletter.txt")"
done
if grep -q "status/sys\|INFO1" "$WORK_DIR/deadletter.txt"; then fail "ignored messages were dead-lettered"; fi
log "garbage in each format dead-lettered with its reason; sys status and INFO1 ignored"

stop_hub
grep -q "hub stopped:" "$WORK_DIR/hub.log" || fail "no final counters"
log "ok: $(grep 'hub stopped' "$WORK_DIR/hub.log" | sed 's/.*hub stopped: //')"
