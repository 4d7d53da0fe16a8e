#!/usr/bin/env bash
# The broker plugin's access rules, enforced by a NATS cluster in fleet mode: `energyhub nats-auth`
# renders every device and account of the registry as a NATS user (bcrypt password, publish and
# subscribe permissions) and the nodes load it. As against the plugin: devices and accounts log in
# with their secret and nothing else does; a device publishes only its own readings, and only into
# its own partition; a dashboard reads its user's state, not another user's nor a device's raw
# readings, and publishes nothing; a removed device is refused and a new one admitted within
# seconds, as `nats-auth --watch` writes the users again and reloads the nodes.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/acl_checks.sh"
export NATS_BASE_PORT=19340 NATS_DIR="$WORK_DIR/nats" NATS_MAPPINGS="$WORK_DIR/mappings.conf" NATS_AUTH="$WORK_DIR/auth.conf"
NATS="$REPO_DIR/scripts/nats-cluster.sh"
EXTRA_CLEANUP+=("'$NATS' stop")
PORT=$((NATS_BASE_PORT + 11))

MQTT_EXTRA="  broker: nats
  topics:
    discovery_prefix: ''
    devices:
      - {format: tasmota, filter: tele/+/SENSOR}"
write_config "  partition: 0/2"
create_database
A="alice_$$" B="bob_$$"
eh user add "$A" --email alice@example.com >/dev/null
eh user add "$B" --email bob@example.com >/dev/null
secret_of() { sed -n 's/^mqtt password: \([^ ]*\).*/\1/p'; }
PA=$(eh device add "plugA_$$" --user "$A" | secret_of)
PB=$(eh device add "plugB_$$" --user "$B" | secret_of)
PX=$(eh device add "$A" --user "$B" | secret_of)  # bob's device whose id is alice's user id
HUB=$(eh account add "hub_$$" --role service --daemon hub | secret_of)
DASH=$(eh account add "dash_$$" --role dashboard --user "$A" | secret_of)
[[ $(q "SELECT count(*) FROM devices WHERE nats_hash LIKE '\$2b\$%'") == 3 ]] || fail "devices got no bcrypt hash in fleet mode"
render() { "$ENERGYHUB_BIN" nats-auth --config "$CONFIG" --output "$NATS_AUTH" 2>>"$WORK_DIR/nats-auth.err"; }
render || fail "nats-auth: $(cat "$WORK_DIR/nats-auth.err")"
"$ENERGYHUB_BIN" nats-mappings --config "$CONFIG" >"$NATS_MAPPINGS"
"$NATS" start >/dev/null
log "5 users rendered from the registry; 3 nodes up with them"

args() { ARGS=(-h 127.0.0.1 -p "$PORT"); [[ -z $1 ]] || ARGS+=(-u "$1" -P "$2"); }
connects() { args "$1" "$2"; mosquitto_pub "${ARGS[@]}" -q 0 -t energyhub/probe -m x >/dev/null 2>&1; }
pub() { args "$1" "$2"; mosquitto_pub "${ARGS[@]}" -q 1 -t "$3" -m "$4" "${@:5}"; }
# sub FILE USER PASS FILTER...: records "topic payload" lines in the background. NATS answers a
# refused subscription with SUBACK 0x80, and mosquitto_sub then exits: what `granted` checks.
sub() {
    local file=$1
    args "$2" "$3"
    shift 3
    local filters=() f
    for f in "$@"; do filters+=(-t "$f"); done
    mosquitto_sub "${ARGS[@]}" -i "sub-$RANDOM-$$" -v -q 1 "${filters[@]}" >"$file" 2>&1 &
    BACKGROUND_PIDS+=("$!")
    SUB_PID=$!
    sleep 1.5  # the subscription's JetStream consumer is made on every node
}
granted() { kill -0 "$SUB_PID" 2>/dev/null; }

# --- Authentication ------------------------------------------------------------------------
check_logins
log "right secrets connect; a wrong password, an unknown device and anonymous are refused"

# --- Devices publish only their own readings, into their own partition ---------------------
sub "$WORK_DIR/hub.txt" "hub_$$" "$HUB" 'hub/+/energy/+/reading' 'hub/+/tele/+/SENSOR'
granted || fail "the hub's subscription to the partitions was refused: $(cat "$WORK_DIR/hub.txt")"
pub "plugA_$$" "$PA" "energy/plugB_$$/reading" '{"power_w":666}'
pub "plugA_$$" "$PA" "tele/plugB_$$/SENSOR" '{"ENERGY":{"Power":667}}'
pub "plugA_$$" "$PA" "hub/0/energy/plugA_$$/reading" '{"power_w":668}'
pub "plugA_$$" "$PA" "hub/1/energy/plugA_$$/reading" '{"power_w":669}'
pub "plugA_$$" "$PA" "energyhub/status/hub" 'offline'
pub "plugA_$$" "$PA" "energy/plugA_$$/reading" '{"power_w":1}'
pub "plugA_$$" "$PA" "tele/plugA_$$/SENSOR" '{"ENERGY":{"Power":2}}'
wait_for 10 "A's Tasmota reading at the hub" 'grep -q "/tele/plugA_$$/SENSOR {\"ENERGY\":{\"Power\":2}}" "$WORK_DIR/hub.txt"'
grep -q "/energy/plugA_$$/reading {\"power_w\":1}" "$WORK_DIR/hub.txt" || fail "A's own reading did not arrive: $(cat "$WORK_DIR/hub.txt")"
! grep -q "plugB_$$\|666\|667" "$WORK_DIR/hub.txt" || fail "A's publish on B's topics reached the hub: $(cat "$WORK_DIR/hub.txt")"
# Straight into a partition: only into its own (where the mapping puts it anyway), never another.
[[ $(grep -c "66[89]" "$WORK_DIR/hub.txt") -le 1 ]] || fail "A published into a partition not its own: $(cat "$WORK_DIR/hub.txt")"
mine=$(grep -o "hub/[01]/energy/plugA_$$/reading {\"power_w\":1}" "$WORK_DIR/hub.txt" | cut -d/ -f2)
! grep -q "hub/$((1 - mine))/energy/plugA_$$/reading" "$WORK_DIR/hub.txt" || fail "A's reading reached partition $((1 - mine))"
grep -q "Publish Violation - User \"plugA_$$\", Subject \"hub\.[01]\.energy\.plugB_$$\.reading\"" "$NATS_DIR/n1.log" ||
    fail "no violation logged for A's publish on B's topic"
grep -q "Publish Violation - User \"plugA_$$\", Subject \"energyhub\.status\.hub\"" "$NATS_DIR/n1.log" ||
    fail "no violation logged for A's publish on the hub's status"
log "device A publishing on B's topics, into another partition or on the daemons' status is denied (A is in partition $mine)"

# --- Dashboards read their user's topics only, and publish nothing -------------------------
sub "$WORK_DIR/dash.txt" "dash_$$" "$DASH" "energy/$A/#" "alerts/$A/#"
granted || fail "a dashboard's subscription to its own user's topics was refused: $(cat "$WORK_DIR/dash.txt")"
sub "$WORK_DIR/spy.txt" "dash_$$" "$DASH" "energy/$B/#"
! granted || fail "a dashboard subscribed to another user's topics"
sub "$WORK_DIR/spy2.txt" "plugA_$$" "$PA" "hub/+/energy/+/reading"
! granted || fail "a device subscribed to the hubs' readings"
pub "$A" "$PX" "energy/$A/reading" '{"power_w":7}'  # bob's device "alice_..." under alice's tree
pub "dash_$$" "$DASH" "energy/$A/plugA_$$/state" '{"power_w":999}'
pub "hub_$$" "$HUB" "alerts/$A/plugA_$$" '{"state":"firing"}'
pub "hub_$$" "$HUB" "energy/$A/plugA_$$/state" '{"power_w":2}' -r
wait_for 10 "alice's state on her dashboard" 'grep -qx "energy/$A/plugA_$$/state {\"power_w\":2}" "$WORK_DIR/dash.txt"'
grep -qx "alerts/$A/plugA_$$ {\"state\":\"firing\"}" "$WORK_DIR/dash.txt" || fail "alice's alert did not reach her dashboard"
! grep -q "energy/$A/reading\|999" "$WORK_DIR/dash.txt" || fail "the dashboard got what it must not: $(cat "$WORK_DIR/dash.txt")"
wait_for 10 "the reading of device $A at the hub" 'grep -q "/energy/$A/reading {\"power_w\":7}" "$WORK_DIR/hub.txt"'
log "a dashboard reads its own user's state and alerts, not another user's nor a device's raw readings, and publishes nothing"

# --- Registry changes reach the nodes: nats-auth --watch writes the users again and reloads ---
"$ENERGYHUB_BIN" nats-auth --config "$CONFIG" --output "$NATS_AUTH" --watch --reload-pid-file "$NATS_DIR/n1.pid" \
    --reload-pid-file "$NATS_DIR/n2.pid" --reload-pid-file "$NATS_DIR/n3.pid" 2>"$WORK_DIR/watch.log" &
BACKGROUND_PIDS+=("$!")
wait_for 10 "the watcher's first write" 'grep -q "and reloaded the servers" "$WORK_DIR/watch.log"'
eh device remove "plugA_$$" >/dev/null
PC=$(eh device add "plugC_$$" --user "$A" | secret_of)
wait_for 15 "the removed device refused" '! connects "plugA_$$" "$PA"'
wait_for 15 "the new device admitted" 'connects "plugC_$$" "$PC"'
PC_OLD=$PC
PC=$(eh device secret "plugC_$$" | secret_of)
wait_for 15 "the new secret admitted" 'connects "plugC_$$" "$PC"'
! connects "plugC_$$" "$PC_OLD" || fail "the old secret still logs in after device secret"
log "nats-auth --watch: a removed device is refused, a new one and a new secret log in, the old secret not, within seconds"

# Devices registered before fleet mode have no NATS password: nats-auth says so and exits 1.
psql "$DB_DSN" -qc "UPDATE devices SET nats_hash = NULL WHERE device_id = 'plugB_$$'"
if render; then fail "nats-auth exited 0 with a device lacking a NATS password"; fi
grep -q "1 devices and accounts have no NATS password" "$WORK_DIR/nats-auth.err" || fail "nats-auth: $(cat "$WORK_DIR/nats-auth.err")"
log "ok"
