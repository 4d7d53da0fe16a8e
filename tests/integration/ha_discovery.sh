#!/usr/bin/env bash
# Home Assistant MQTT discovery: the first reading of a registered device (and of each channel of a
# Shelly 2PM) makes the hub publish retained discovery configs under homeassistant/ that are valid
# JSON with what Home Assistant requires (unique_id, state_topic, device_class,
# unit_of_measurement, state_class, device identifiers, availability), pointing at the hub's
# retained state and availability topics; removing the device clears them (empty retained).
source "$(dirname "$0")/lib.sh"

MQTT_EXTRA="  topics:
    discovery_prefix: homeassistant
    devices:
      - {format: shelly, filter: '+/status/+'}"
write_config
create_database
user="alice_$$" plug="plug_$$" meter="shellyplus2pm-ha$$"
eh user add "$user" --email alice@example.com >/dev/null
eh device add "$plug" --user "$user" --type plug --name "Desk lamp" >/dev/null
eh device add "$meter" --user "$user" --type meter --name Kitchen >/dev/null
subscribe "$WORK_DIR/ha.txt" "homeassistant/#"
start_hub
wait_for 20 "the Shelly topic subscribed" 'grep -q "subscribed to +/status/+" "$WORK_DIR/hub.log"'

pub "energy/$plug/reading" "{\"ts\":$(( $(now_ms) - 1000 )),\"power_w\":153.2,\"energy_wh\":12345.6,\"voltage_v\":230.1,\"current_a\":0.67}"
pub "$meter/status/switch:0" '{"id":0,"apower":12.5,"voltage":237.0,"current":0.06,"aenergy":{"total":62758.285,"minute_ts":1709223337}}'
pub "$meter/status/switch:1" '{"id":1,"apower":0.0,"voltage":237.1,"current":0.0,"aenergy":{"total":61917.211,"minute_ts":1709223337}}'

object_of() { local id=${1//_/__}; id=${id//./_d}; echo "${id//:/_c}"; }
plug_object=$(object_of "$plug")
configs_of() { grep -c "^homeassistant/sensor/energyhub/$1_[a-z]*/config {" "$WORK_DIR/ha.txt" || true; }
wait_for 10 "4 configs for the plug" '[[ $(configs_of "$plug_object") == 4 ]]'
wait_for 10 "4 configs per channel" '[[ $(configs_of "${meter}_c0") == 4 && $(configs_of "${meter}_c1") == 4 ]]'

# Every config: valid JSON with the fields Home Assistant requires, pointing at retained topics.
/usr/bin/python3 - "$WORK_DIR/ha.txt" "$plug_object" "$meter" "$user" "hub-$TEST_ID" <<'PY' || fail "discovery configs are not what Home Assistant needs"
import json, sys
path, plug, meter, user, client_id = sys.argv[1:]
configs = {}
for line in open(path):
    topic, _, payload = line.rstrip("\n").partition(" ")
    if payload and payload != "(null)":
        configs[topic] = json.loads(payload)  # every config must parse
required = ["unique_id", "name", "state_topic", "device_class", "unit_of_measurement", "state_class",
            "value_template", "availability", "device"]
want = {"power": ("power", "W", "measurement"), "energy": ("energy", "kWh", "total_increasing"),
        "voltage": ("voltage", "V", "measurement"), "current": ("current", "A", "measurement")}
seen_ids = set()
mine = {t: c for t, c in configs.items() if f"/{plug}_" in t or f"/{meter}_c" in t}
assert len(mine) == 12, sorted(mine)
for topic, c in mine.items():
    for key in required:
        assert key in c, (topic, key)
    sensor = topic.split("_")[-1].split("/")[0]
    assert (c["device_class"], c["unit_of_measurement"], c["state_class"]) == want[sensor], (topic, c)
    assert c["unique_id"] not in seen_ids, c["unique_id"]
    seen_ids.add(c["unique_id"])
    assert isinstance(c["device"]["identifiers"], list) and c["device"]["identifiers"], topic
    assert c["state_topic"].startswith(f"energy/{user}/") and c["state_topic"].endswith("/state"), c["state_topic"]
    topics = [a["topic"] for a in c["availability"]]
    # This hub's own status topic (its client id is not the default), so another hub's last will
    # does not make these entities unavailable.
    assert topics[0] == f"energyhub/status/hub/{client_id}" and topics[1].endswith("/availability"), topics
    assert c["availability_mode"] == "all"
plug_energy = mine[f"homeassistant/sensor/energyhub/{plug}_energy/config"]
assert "/ 1000" in plug_energy["value_template"], plug_energy["value_template"]
assert plug_energy["device"]["name"] == "Desk lamp"
channel = mine[f"homeassistant/sensor/energyhub/{meter}_c1_power/config"]
assert channel["name"] == "Channel 1 power" and channel["state_topic"] == f"energy/{user}/{meter}:1/state", channel
assert channel["device"]["identifiers"] == [f"energyhub_{meter}"], channel["device"]
print(f"{len(mine)} discovery configs checked")
PY
log "12 discovery configs are valid: power, energy, voltage and current of $plug and of each channel of $meter"

retained() { mosquitto_sub -p "$MQTT_PORT" -h 127.0.0.1 -t "$1" -C 1 -W 5; }
state=$(retained "energy/$user/$plug/state")
[[ "$state" == *'"power_w":153.2'* && "$state" == *'"energy_wh":12345.6'* ]] || fail "state topic is wrong: $state"
[[ "$(retained "energy/$user/$plug/availability")" == online ]] || fail "device availability is not online"
[[ "$(retained "energyhub/status/hub/hub-$TEST_ID")" == online ]] || fail "hub status is not online"
log "the configs' state and availability topics are retained: $state"

# The first sight only: another reading publishes no new config.
before=$(grep -c "^homeassistant/" "$WORK_DIR/ha.txt")
pub "energy/$plug/reading" "{\"power_w\":150.0,\"energy_wh\":12346.0,\"voltage_v\":230.0,\"current_a\":0.65}"
wait_for 10 "the second reading" '[[ $(q "SELECT count(*) FROM readings WHERE device_id = '"'$plug'"'") == 2 ]]'
sleep 0.5
[[ $(grep -c "^homeassistant/" "$WORK_DIR/ha.txt") == "$before" ]] || fail "configs were published again"

# Removing a device clears its configs: empty retained payloads, nothing retained afterwards.
eh device remove "$plug" >/dev/null
eh device remove "$meter" >/dev/null
# mosquitto_sub -v prints an empty payload as "(null)".
cleared() { grep -cE "^homeassistant/sensor/energyhub/$1_[a-z]*/config( \(null\))? *$" "$WORK_DIR/ha.txt" || true; }
wait_for 10 "the plug's configs cleared" '(( $(cleared "$plug_object") >= 4 ))'
wait_for 10 "the channels' configs cleared" '(( $(cleared "${meter}_c1") >= 4 ))'
# What a client subscribing now gets: the retained configs of these devices, none once cleared.
left() {
    timeout 5 mosquitto_sub -p "$MQTT_PORT" -h 127.0.0.1 -t "homeassistant/sensor/energyhub/#" -v -W 1 2>/dev/null |
        grep -c -e "/${plug_object}_" -e "/${meter}_c" || true
}
wait_for 15 "no retained config left for the removed devices" '[[ $(left) == 0 ]]'
log "removing the devices cleared their discovery configs"

stop_hub
log "ok"
