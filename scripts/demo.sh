#!/usr/bin/env bash
# The whole product on one machine, in one command: install what is missing, build, start private
# PostgreSQL, Redis, a mail catcher and Mosquitto with the energyhub broker plugin on loopback,
# migrate, give each daemon its MQTT account and each simulated device its own secret, publish
# six days of history and then live readings, show the broker refusing a spoof and a malformed
# payload, and print what was stored, the home's import and export, the alert and its email, the
# insights and the counters.
#
# Usage: scripts/demo.sh [--seconds N] [--devices N] [--tls] [--keep]
#        scripts/demo.sh --stop
#   --tls   devices and daemons reach the broker over TLS (the stack's private CA)
#   --keep  leave everything running afterwards (servers, hub, notifier, insights and a slow
#           simulator) and print where to look; --stop stops it all
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_TO_RUN=20
DEVICES=20
KEEP=0
STOP=0
TLS=0
while (($#)); do
    case $1 in
        --seconds) SECONDS_TO_RUN=$2; shift 2 ;;
        --devices) DEVICES=$2; shift 2 ;;
        --keep) KEEP=1; shift ;;
        --tls) TLS=1; shift ;;
        --stop) STOP=1; shift ;;
        -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "demo: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
[[ "$DEVICES" =~ ^[1-9][0-9]*$ && "$DEVICES" -le 1000 ]] || { echo "demo: --devices must be 1 to 1000" >&2; exit 2; }
[[ "$SECONDS_TO_RUN" =~ ^[1-9][0-9]*$ ]] || { echo "demo: --seconds must be a positive number" >&2; exit 2; }

RUN_DIR=${ENERGYHUB_RUN_DIR:-$PWD/.run}
DEMO_DIR=$RUN_DIR/demo

# Stops the demo's daemons and simulators (pid files in the demo folder).
stop_processes() {
    local f pid
    # The simulators first: nothing is published for a hub that is already gone.
    for f in "$DEMO_DIR"/sim.pid "$DEMO_DIR"/house-sim.pid "$DEMO_DIR"/*.pid; do
        [[ -e "$f" ]] || continue
        pid=$(cat "$f")
        if kill -TERM "$pid" 2>/dev/null; then
            for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        fi
        rm -f "$f"
    done
}
if ((STOP)); then
    stop_processes
    scripts/stack.sh stop
    exit 0
fi

BUILD_DIR=${ENERGYHUB_BUILD_DIR:-build}
scripts/install-deps.sh
cmake -S . -B "$BUILD_DIR" >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)" --target energyhub firmware-sim energyhub_broker_plugin
ENERGYHUB=$BUILD_DIR/hub/energyhub
SIM=$BUILD_DIR/firmware-sim/firmware-sim
PLUGIN=$(cd "$BUILD_DIR/plugins" && pwd -P)/energyhub_broker.so

mkdir -p "$DEMO_DIR"
chmod 700 "$DEMO_DIR"  # it holds the secrets
stop_processes  # of an earlier --keep
scripts/stack.sh start
eval "$(scripts/stack.sh env)"
# A database of its own, new for every run: simulated counters of two runs do not mix.
psql "$ENERGYHUB_PG_DSN" -qc "DROP DATABASE IF EXISTS energyhub_demo WITH (FORCE)" -c "CREATE DATABASE energyhub_demo"
export ENERGYHUB_PG_DSN=${ENERGYHUB_PG_DSN%/*}/energyhub_demo
rm -rf "$DEMO_DIR/state" "$DEMO_DIR/device-secrets"
export ENERGYHUB_STATE_DIR=$DEMO_DIR/state
export ENERGYHUB_CONFIG=$DEMO_DIR/energyhub.yaml
HTTP_PORT=${ENERGYHUB_DEMO_HTTP_PORT:-18080}
SECRETS=$DEMO_DIR/device-secrets
# How clients reach the broker: plain on loopback, or (--tls) its TLS listener with the stack's CA.
if ((TLS)); then
    export ENERGYHUB_MQTT_URI=$ENERGYHUB_MQTTS_URI
    SIM_TLS=(--ca-file "$ENERGYHUB_TLS_DIR/ca.crt")
    CLIENT=(-h localhost -p "${ENERGYHUB_MQTTS_URI##*:}" --cafile "$ENERGYHUB_TLS_DIR/ca.crt")
else
    SIM_TLS=()
    CLIENT=(-h 127.0.0.1 -p "$ENERGYHUB_MQTT_PORT")
fi

# The sample config (it reads the servers' addresses from the environment) with a threshold for
# the demo kettle, each daemon's account from its environment, and the HTTP listeners.
sed -e 's|^  devices: {} .*|  devices: {alice-kettle: {power_above: {watts: 2000}}}|' \
    -e 's|^  # username: hub$|  username: ${ENERGYHUB_MQTT_USERNAME:-}|' \
    -e 's|^  # password: \.\.\.$|  password: ${ENERGYHUB_MQTT_PASSWORD:-}|' \
    -e 's|^  url: ${ENERGYHUB_OLLAMA_URL:-http://127.0.0.1:11434}|  url: ${ENERGYHUB_OLLAMA_URL:-}|' \
    config/energyhub.yaml >"$ENERGYHUB_CONFIG"
if ((TLS)); then
    sed -i "s|^  tasmota_timezone: .*|&\n  tls: {ca_file: $ENERGYHUB_TLS_DIR/ca.crt}|" "$ENERGYHUB_CONFIG"
fi
cat >>"$ENERGYHUB_CONFIG" <<YAML

http:
  listen: 127.0.0.1:$HTTP_PORT
  notifier_listen: 127.0.0.1:$((HTTP_PORT + 1))
  insights_listen: 127.0.0.1:$((HTTP_PORT + 2))
YAML
for want in alice-kettle ENERGYHUB_MQTT_USERNAME ENERGYHUB_MQTT_PASSWORD 'ENERGYHUB_OLLAMA_URL:-}'; do
    grep -q "$want" "$ENERGYHUB_CONFIG" || { echo "demo: cannot adapt config/energyhub.yaml ($want)" >&2; exit 1; }
done

echo "== migrate"
"$ENERGYHUB" migrate

echo "== accounts and secrets (kept in $DEMO_DIR, mode 0600)"
# A fresh password for each daemon's service account, as an installer would create them.
declare -A PASSWORD
for daemon in hub notifier insights; do
    "$ENERGYHUB" account remove "$daemon" >/dev/null 2>&1 || true
    PASSWORD[$daemon]=$("$ENERGYHUB" account add "$daemon" --role service --daemon "$daemon" |
        sed -n 's/^mqtt password: \([^ ]*\).*/\1/p')
    [[ -n "${PASSWORD[$daemon]}" ]] || { echo "demo: no password for the $daemon account" >&2; exit 1; }
    echo "service account $daemon"
done
"$ENERGYHUB" user list | grep -q '^alice ' || "$ENERGYHUB" user add alice --email alice@example.com --name Alice --tz Europe/Berlin
"$ENERGYHUB" device list | grep -q '^alice-kettle ' ||
    "$ENERGYHUB" device add alice-kettle --user alice --type kettle --name Kettle >/dev/null
KETTLE_SECRET=$("$ENERGYHUB" device secret alice-kettle | sed -n 's/^mqtt password: \([^ ]*\).*/\1/p')
# The simulated devices are registered by firmware-sim, which keeps their secrets in a file.
"$SIM" --register-only --config "$ENERGYHUB_CONFIG" --secrets "$SECRETS" --devices "$DEVICES" --device-prefix demo --users 4
"$SIM" --register-only --config "$ENERGYHUB_CONFIG" --secrets "$SECRETS" --devices 1 --device-prefix home --users 1 --profile house
secret_of() { awk -F'\t' -v id="$1" '$1 == id { print $2 }' "$SECRETS"; }

echo "== broker: Mosquitto with the energyhub plugin on port $ENERGYHUB_MQTT_PORT (log: $ENERGYHUB_RUN_DIR/mosquitto.log)"
# With a fresh broker database too: sessions kept from an earlier run would replay its messages.
scripts/stack.sh stop-one mosquitto >/dev/null
rm -f "$ENERGYHUB_RUN_DIR/mosquitto/mosquitto.db"
BROKER_LOG=$ENERGYHUB_RUN_DIR/mosquitto.log
log_from=$(($(stat -c %s "$BROKER_LOG" 2>/dev/null || echo 0) + 1))  # this start's lines only
ENERGYHUB_BROKER_PLUGIN=$PLUGIN ENERGYHUB_BROKER_PLUGIN_DSN=$ENERGYHUB_PG_DSN scripts/stack.sh start-one mosquitto >/dev/null
broker_says() { tail -c "+$log_from" "$BROKER_LOG" | grep "$1"; }
for _ in $(seq 1 100); do broker_says "energyhub: broker plugin ready" >/dev/null && break; sleep 0.2; done
broker_says "energyhub: broker plugin ready" ||
    { echo "demo: the broker plugin did not start (see $BROKER_LOG)" >&2; exit 1; }

# start NAME ARGS...: one background process of the demo, with a pid file and a log.
start() {
    local name=$1
    shift
    setsid "$@" </dev/null >>"$DEMO_DIR/$name.log" 2>&1 &
    echo $! >"$DEMO_DIR/$name.pid"
}
daemon() {  # hub, notifier or insights, logged in with its account
    start "$1" env ENERGYHUB_MQTT_USERNAME="$1" ENERGYHUB_MQTT_PASSWORD="${PASSWORD[$1]}" "$ENERGYHUB" "$1"
}
wait_log() {
    for _ in $(seq 1 100); do grep -q "$2" "$DEMO_DIR/$1.log" 2>/dev/null && return; sleep 0.2; done
    echo "demo: $1 did not start (see $DEMO_DIR/$1.log)" >&2
    exit 1
}
finish() {
    ((KEEP)) && return
    stop_processes
    scripts/stack.sh stop >/dev/null
}
trap finish EXIT
: >"$DEMO_DIR/hub.log"
: >"$DEMO_DIR/notifier.log"

echo "== hub and notifier, each logged in with its account (logs: $DEMO_DIR/hub.log, notifier.log)"
daemon hub
daemon notifier
wait_log hub "subscribed to"
wait_log notifier "subscribed to"

echo "== simulator: six days of history, then $DEVICES devices at one reading a second for ${SECONDS_TO_RUN}s,"
echo "   and a whole home (a Shelly Pro 3EM with rooftop solar, sunniest now); every device logs in as itself"
"$SIM" --uri "$ENERGYHUB_MQTT_URI" "${SIM_TLS[@]}" --secrets "$SECRETS" --devices 1 --device-prefix home --users 1 --profile house \
    --format shelly --history 6d --history-step 15m --pv-noon "$(date -u +%H)" --rate 0.5 --duration "$SECONDS_TO_RUN" \
    --qos 1 --log-level warn &
HOUSE_SIM=$!
"$SIM" --uri "$ENERGYHUB_MQTT_URI" "${SIM_TLS[@]}" --secrets "$SECRETS" --devices "$DEVICES" --device-prefix demo --users 4 --rate 1 \
    --history 6d --history-step 15m --duration "$SECONDS_TO_RUN" --qos 1 --log-level warn
wait "$HOUSE_SIM" || true

echo "== what the broker refuses"
as_device() { mosquitto_pub "${CLIENT[@]}" -V mqttv5 -q 1 -i "$1" -u "$1" -P "$2" "${@:3}"; }
SPOOF_TS=$(date -u -d '-1 min' +%Y-%m-%dT%H:%M:%SZ)
echo "demo-00001 publishes a reading as demo-00002:"
as_device demo-00001 "$(secret_of demo-00001)" -t energy/demo-00002/reading \
    -m "{\"ts\":\"$SPOOF_TS\",\"power_w\":9999}" 2>&1 | sed 's/^/  /' || true
echo "demo-00003 publishes a truncated payload on its own topic:"
as_device demo-00003 "$(secret_of demo-00003)" -t energy/demo-00003/reading -m '{"power_w": oops' 2>&1 | sed 's/^/  /' || true
echo "the kettle, with its own secret, goes over its 2000 W threshold"
as_device alice-kettle "$KETTLE_SECRET" -t energy/alice-kettle/reading -m '{"power_w":2150.0,"energy_wh":1042.5}'
sleep 3
kill -HUP "$(cat "$ENERGYHUB_RUN_DIR/mosquitto.pid")"  # the plugin logs its counters
sleep 0.5

echo "== what was stored"
psql "$ENERGYHUB_PG_DSN" -c "SELECT user_id, count(DISTINCT device_id) AS devices, count(*) AS readings,
        round(avg(power_w)::numeric, 1) AS avg_w, max(ts) AS latest
    FROM readings GROUP BY user_id ORDER BY user_id"
echo "the spoofed reading (9999 W for demo-00002): $(psql "$ENERGYHUB_PG_DSN" -Atc \
    "SELECT count(*) FROM readings WHERE device_id = 'demo-00002' AND power_w = 9999") stored"
echo "== the broker's counters"
broker_says "energyhub: logins" | tail -1 | sed 's/.*energyhub: /  /'
echo "== hourly usage of demo-00001, last 24 hours"
"$ENERGYHUB" usage --device demo-00001 --since 24h | tail -n 6
echo "== the whole home, home-00000, per day: taken from the grid and returned to it"
psql "$ENERGYHUB_PG_DSN" -c "SELECT date_trunc('day', hour)::date AS day, round(sum(energy_wh)::numeric / 1000, 2) AS import_kwh,
        round(sum(export_wh)::numeric / 1000, 2) AS export_kwh, round(min(power_min)::numeric) AS lowest_w
    FROM readings_hourly WHERE device_id = 'home-00000' GROUP BY 1 ORDER BY 1"
echo "== alerts, and the emails the notifier sent (inbox: $ENERGYHUB_MAIL_URL)"
psql "$ENERGYHUB_PG_DSN" -c "SELECT rule, state, count(*) AS alerts, count(notified_at) AS emailed,
        string_agg(DISTINCT device_id, ' ') AS devices FROM alerts GROUP BY 1, 2 ORDER BY 1, 2"
psql "$ENERGYHUB_PG_DSN" -c "SELECT device_id, rule, state, value, threshold, notified_at IS NOT NULL AS emailed
    FROM alerts WHERE device_id = 'alice-kettle' ORDER BY ts"
curl -s "${ENERGYHUB_MAIL_URL}messages.json" | python3 -c '
import json, sys
for m in json.load(sys.stdin)[:3]:
    print("  %s  to %s: %s" % (m["received"], ", ".join(m["rcpt_tos"]), m["subject"]))' || true
echo "== insights about the week (${ENERGYHUB_OLLAMA_URL:-no ENERGYHUB_OLLAMA_URL: the built-in rules answer})"
ENERGYHUB_MQTT_USERNAME=insights ENERGYHUB_MQTT_PASSWORD="${PASSWORD[insights]}" \
    "$ENERGYHUB" insights --once >"$DEMO_DIR/insights-once.log" 2>&1 || true
psql "$ENERGYHUB_PG_DSN" -c "SELECT user_id, source, recommendations->0->>'device_id' AS device,
        recommendations->0->>'title' AS first_tip FROM insights ORDER BY user_id"
psql "$ENERGYHUB_PG_DSN" -Atc "SELECT 'demo-user-1: ' || summary, '  tip: ' || (r->>'action')
    FROM insights, jsonb_array_elements(recommendations) WITH ORDINALITY AS t(r, n)
    WHERE user_id = 'demo-user-1' AND n = 1" | tr '|' '\n' | fold -s -w 110
echo "== retained state of alice-kettle, as her dashboard account would read it"
"$ENERGYHUB" account remove alice-dash >/dev/null 2>&1 || true
DASH_PASSWORD=$("$ENERGYHUB" account add alice-dash --role dashboard --user alice | sed -n 's/^mqtt password: \([^ ]*\).*/\1/p')
sleep 1.5  # the plugin picks up new accounts within a second
mosquitto_sub "${CLIENT[@]}" -u alice-dash -P "$DASH_PASSWORD" \
    -t energy/alice/alice-kettle/state -C 1 -W 3 || true

if ((KEEP)); then
    daemon insights
    start sim "$SIM" --uri "$ENERGYHUB_MQTT_URI" "${SIM_TLS[@]}" --secrets "$SECRETS" --devices "$DEVICES" --device-prefix demo \
        --users 4 --rate 0.1 --duration 604800 --qos 1 --log-level warn
    start house-sim "$SIM" --uri "$ENERGYHUB_MQTT_URI" "${SIM_TLS[@]}" --secrets "$SECRETS" --devices 1 --device-prefix home --users 1 \
        --profile house --format shelly --pv-noon "$(date -u +%H)" --rate 0.2 --duration 604800 --qos 1 --log-level warn
    cat <<EOF
== everything is still running
dashboard   http://127.0.0.1:$HTTP_PORT/        (health /health, metrics /metrics)
mail        $ENERGYHUB_MAIL_URL
logs        $DEMO_DIR/{hub,notifier,insights,sim}.log, broker: $ENERGYHUB_RUN_DIR/mosquitto.log
config      $ENERGYHUB_CONFIG   (energyhub status --config $ENERGYHUB_CONFIG)
MQTT        $ENERGYHUB_MQTT_URI, e.g. as alice's dashboard:
            mosquitto_sub ${CLIENT[*]} -u alice-dash -P '$DASH_PASSWORD' -t 'energy/alice/#' -v
stop        scripts/demo.sh --stop
EOF
else
    stop_processes
    echo "== hub's summary"
    grep "hub stopped" "$DEMO_DIR/hub.log" | tail -1
fi
exit 0
