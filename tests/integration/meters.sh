#!/usr/bin/env bash
# Whole-home meters end to end, with the vendor payloads of tests/fixtures/meters.tsv published as
# the devices publish them: a Shelly Pro 3EM (em:0 + emdata:0) is stored as its totals (the device
# id) and phases (":0".. ":2") with import and export counters; Home Assistant, subscribed to
# discovery, finds the import and export energy sensors its Energy dashboard needs and per-phase
# power, and sees the meter unavailable once it falls silent; a Tasmota net register that runs
# backwards while exporting adds export, not a usage spike, in the readings and the hourly rollup,
# and a true reset after it is still a reset; Shelly Gen1 EM totals are Wh; usage, the JSON API and
# the retained state carry import and export.
source "$(dirname "$0")/lib.sh"

FIXTURES="$(dirname "$0")/../fixtures/meters.tsv"
MQTT_EXTRA="  topics:
    discovery_prefix: homeassistant
    devices:
      - {format: tasmota, filter: 'tele/+/+'}
      - {format: shelly, filter: '+/status/+'}
      - {format: shelly, filter: '+/events/rpc'}
      - {format: shelly_gen1, filter: 'shellies/+/emeter/+/+'}"
write_config "" "thresholds:
  defaults:
    device_offline: {after: 4s}"
create_database
user="home_$$" pro3em="shellypro3em-m$$" tasmota="tasmota_net_$$" gen1="shellyem3-m$$"
eh user add "$user" --email home@example.com >/dev/null
eh device add "$pro3em" --user "$user" --type grid --name House >/dev/null
eh device add "$tasmota" --user "$user" --type grid >/dev/null
eh device add "$gen1" --user "$user" --type grid >/dev/null
subscribe "$WORK_DIR/ha.txt" "homeassistant/#" "energy/$user/+/availability"
start_hub
wait_for 20 "the meter topics subscribed" 'grep -q "subscribed to shellies/+/emeter/+/+" "$WORK_DIR/hub.log"'

# fixture NAME DEVICE: publishes a fixture with its device id replaced by DEVICE.
fixture() {
    local line topic payload
    line=$(awk -F'\t' -v n="$1" '$1 == n' "$FIXTURES")
    [[ -n "$line" ]] || fail "no fixture $1"
    topic=$(cut -f2 <<<"$line")
    payload=$(cut -f3- <<<"$line")
    case "$topic" in
        shellies/*) topic="shellies/$2/${topic#shellies/*/}" ;;
        tele/*) topic="tele/$2/${topic#tele/*/}" ;;
        *) topic="$2/${topic#*/}" ;;
    esac
    pub "$topic" "$payload"
}
row() { q "SELECT $2 FROM readings WHERE device_id = '$1' ORDER BY ts DESC LIMIT 1"; }
count() { q "SELECT count(*) FROM readings WHERE device_id = '$1'"; }
retained() { mosquitto_sub -p "$MQTT_PORT" -h 127.0.0.1 -t "$1" -C 1 -W 5; }

# Shelly Pro 3EM: the live values, then the counters (which carry the last power).
fixture pro3em_em "$pro3em"
wait_for 10 "the Pro 3EM totals and phases" '[[ $(count "$pro3em") == 1 && $(count "$pro3em:2") == 1 ]]'
fixture pro3em_emdata "$pro3em"
wait_for 10 "the Pro 3EM counters" '[[ $(count "$pro3em") == 2 ]]'
got=$(row "$pro3em" "power_w, energy_wh, energy_export_wh, current_a")
[[ "$got" == 594.006$'\t'345628.03$'\t'1247.42$'\t'4.159 ]] || fail "Pro 3EM total row is wrong: $got"
got=$(row "$pro3em:2" "power_w, voltage_v, energy_wh, energy_export_wh")
[[ "$got" == 358.3$'\t'231.4$'\t'110844.76$'\t'1247.42 ]] || fail "Pro 3EM phase c row is wrong: $got"
# The counters' state follows the first one within hub.state_interval.
counters_state() {
    state=$(retained "energy/$user/$pro3em/state")
    [[ "$state" == *'"energy_wh":345628.03'* && "$state" == *'"energy_export_wh":1247.42'* ]]
}
wait_for 10 "the Pro 3EM state with its counters" counters_state
log "Pro 3EM stored: total $got; state $state"

# What Home Assistant finds: energy import and export for "Grid consumption" and "Return to grid",
# power per phase, all available while the hub and the meter are.
object=${pro3em//_/__}
wait_for 10 "discovery of the meter's import and export" \
    'grep -q "^homeassistant/sensor/energyhub/${object}_energy_export/config {" "$WORK_DIR/ha.txt"'
wait_for 10 "discovery of phase power" 'grep -q "^homeassistant/sensor/energyhub/${object}_c2_power/config {" "$WORK_DIR/ha.txt"'
/usr/bin/python3 - "$WORK_DIR/ha.txt" "$object" "$user" "$pro3em" "hub-$TEST_ID" <<'PY' || fail "the meter's discovery configs are not what the Energy dashboard needs"
import json, sys
path, obj, user, device, client_id = sys.argv[1:]
configs = {}
for line in open(path):
    topic, _, payload = line.rstrip("\n").partition(" ")
    if topic.startswith("homeassistant/") and payload and payload != "(null)":
        configs[topic] = json.loads(payload)
def config(sensor):
    return configs[f"homeassistant/sensor/energyhub/{obj}_{sensor}/config"]
for sensor, key in (("energy", "energy_wh"), ("energy_export", "energy_export_wh")):
    c = config(sensor)
    assert (c["device_class"], c["unit_of_measurement"], c["state_class"]) == ("energy", "kWh", "total_increasing"), c
    assert c["state_topic"] == f"energy/{user}/{device}/state", c
    assert f"value_json.{key} / 1000" in c["value_template"], c["value_template"]
    topics = [a["topic"] for a in c["availability"]]
    # This hub's own status (its client id), and the meter's availability.
    assert topics == [f"energyhub/status/hub/{client_id}", f"energy/{user}/{device}/availability"], topics
assert config("energy")["unique_id"] != config("energy_export")["unique_id"]
for phase in range(3):
    c = config(f"c{phase}_power")
    assert (c["device_class"], c["unit_of_measurement"]) == ("power", "W"), c
    assert c["state_topic"] == f"energy/{user}/{device}:{phase}/state", c
    c = config(f"c{phase}_energy_export")
    assert c["state_class"] == "total_increasing", c
print("import, export and phase sensors checked")
PY
[[ "$(retained "energyhub/status/hub/hub-$TEST_ID")" == online ]] || fail "this hub's status topic is not online"
log "Home Assistant finds energy import and export (kWh, total_increasing) and power per phase"

# A silent meter becomes unavailable (device_offline after 4 s), and available again on a reading.
wait_for 20 "the silent Pro 3EM unavailable" \
    'grep -q "^energy/$user/$pro3em/availability offline" "$WORK_DIR/ha.txt"'
fixture pro3em_em "$pro3em"
wait_for 10 "the Pro 3EM available again" \
    '[[ $(grep "^energy/$user/$pro3em/availability" "$WORK_DIR/ha.txt" | tail -1) == *" online" ]]'
log "a meter silent for 4 s became unavailable, and available on its next reading"

# Tasmota on a meter whose Total is a net register: 2 kW exported for 5 minutes takes 153 Wh off
# it; then it imports 50 Wh; then the counter is reset (EnergyReset3) and counts 4 Wh.
t0=$(( $(date +%s) - 20 * 60 ))
sensor() {  # sensor OFFSET_S TOTAL_KWH POWER_ARRAY
    local time
    time=$(date -u -d "@$((t0 + $1))" +%Y-%m-%dT%H:%M:%S)
    pub "tele/$tasmota/SENSOR" "{\"Time\":\"$time+00:00\",\"ENERGY\":{\"TotalStartTime\":\"2022-11-22T13:42:58\",\"Total\":$2,\"Yesterday\":-0.00006,\"Today\":0.00634,\"Power\":$3,\"Voltage\":[236.9,231.2,233.0],\"Current\":[5.1,3.0,0.4]}}"
}
sensor 0 514.153 "[-1200,-700,-100]"
sensor 300 514.000 "[-1200,-700,-100]"
sensor 600 514.050 "[300,200,100]"
sensor 900 0.004 "[300,200,100]"
wait_for 10 "four Tasmota totals" '[[ $(count "$tasmota") == 4 ]]'
got=$(q "SELECT coalesce(round(energy_delta_wh)::text, '-'), coalesce(round(export_delta_wh)::text, '-') FROM readings
         WHERE device_id = '$tasmota' ORDER BY ts" | tr '\t\n' ', ')
[[ "$got" == "-,- 0,153 50,- 4,- " ]] || fail "Tasmota net register deltas (import,export per reading) are wrong: $got"
got=$(q "SELECT round(sum(energy_wh)::numeric, 3), round(sum(export_wh)::numeric, 3), sum(samples)
         FROM readings_hourly WHERE device_id = '$tasmota'")
[[ "$got" == 54.000$'\t'153.000$'\t'4 ]] || fail "Tasmota rollup (import, export, samples) is wrong: $got"
[[ "$(row "$tasmota" power_w)" == 600 ]] || fail "the device's net power is not the sum of its phases"
log "a net register running backwards: export 153 Wh, import 54 Wh, no spike; a reset is still a reset"

# Shelly 3EM Gen1: totals in Wh, voltage and current carried to the next reading.
for name in 3em_gen1_total_returned_0 3em_gen1_total_0 3em_gen1_voltage_0 3em_gen1_current_0 3em_gen1_power_0; do
    fixture "$name" "$gen1"
done
wait_for 10 "the Gen1 power reading" '[[ $(q "SELECT count(*) FROM readings WHERE device_id = '"'$gen1:0'"' AND power_w IS NOT NULL") == 1 ]]'
got=$(row "$gen1:0" "power_w, energy_wh, energy_export_wh, voltage_v, current_a")
[[ "$got" == 120.11$'\t'10533.1$'\t'427.7$'\t'231.84$'\t'0.71 ]] || fail "Shelly 3EM Gen1 row is wrong: $got"
log "Shelly 3EM Gen1: $got"

# Usage and the JSON API carry import and export.
usage=$(eh usage --device "$tasmota" --since 24h)
grep -q "^total .* 0.054 .* 0.153 " <<<"$usage" || fail "usage does not show import and export: $usage"
port=$(http_port hub)
api=$(curl -s "http://127.0.0.1:$port/api/devices/$tasmota/usage?since=24h")
/usr/bin/python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert abs(d["total_wh"]-54)<1e-6 and abs(d["total_export_wh"]-153)<1e-6, d' "$api" ||
    fail "the usage API is wrong: $api"
log "usage and API: import 54 Wh, export 153 Wh"

stop_hub
log "ok"
