#!/usr/bin/env bash
# The whole stack on one machine, in one command: install what is missing, build, start private
# Mosquitto, PostgreSQL, Redis and a mail catcher on loopback, migrate, seed demo users and
# devices and a whole-home meter with solar, publish six days of their history and then live
# readings, and print what was stored, the home's import and export, alerts, emails and insights.
#
# Usage: scripts/demo.sh [--seconds N] [--devices N] [--keep]
#   --keep  leave the servers and the hub running afterwards (stop with: scripts/stack.sh stop)
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_TO_RUN=20
DEVICES=20
KEEP=0
while (($#)); do
    case $1 in
        --seconds) SECONDS_TO_RUN=$2; shift 2 ;;
        --devices) DEVICES=$2; shift 2 ;;
        --keep) KEEP=1; shift ;;
        -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
        *) echo "demo: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done

BUILD_DIR=${ENERGYHUB_BUILD_DIR:-build}
scripts/install-deps.sh
cmake -S . -B "$BUILD_DIR" >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)" --target energyhub firmware-sim
ENERGYHUB=$BUILD_DIR/hub/energyhub
SIM=$BUILD_DIR/firmware-sim/firmware-sim

scripts/stack.sh start
eval "$(scripts/stack.sh env)"
export ENERGYHUB_STATE_DIR=$ENERGYHUB_RUN_DIR/demo-state
export ENERGYHUB_CONFIG=$ENERGYHUB_RUN_DIR/demo.yaml
# The sample config (it reads the servers' addresses from the environment), plus a threshold for
# the demo kettle.
sed 's|^  devices: {} .*|  devices: {alice-kettle: {power_above: {watts: 2000}}}|' config/energyhub.yaml >"$ENERGYHUB_CONFIG"
grep -q 'alice-kettle' "$ENERGYHUB_CONFIG" || { echo "demo: cannot set the demo threshold" >&2; exit 1; }
HUB_PID=""
NOTIFIER_PID=""
finish() {
    for pid in $HUB_PID $NOTIFIER_PID; do kill -TERM "$pid" 2>/dev/null && wait "$pid" || true; done
    ((KEEP)) || scripts/stack.sh stop >/dev/null
}
trap finish EXIT

echo "== migrate"
"$ENERGYHUB" migrate
echo "== seed demo users and devices"
"$ENERGYHUB" user list | grep -q '^alice ' || "$ENERGYHUB" user add alice --email alice@example.com --name Alice --tz Europe/Berlin
"$ENERGYHUB" device list | grep -q '^alice-kettle ' || "$ENERGYHUB" device add alice-kettle --user alice --type kettle --name Kettle
"$SIM" --register-only --config "$ENERGYHUB_CONFIG" --devices "$DEVICES" --device-prefix demo --users 4
"$SIM" --register-only --config "$ENERGYHUB_CONFIG" --devices 1 --device-prefix home --users 1 --profile house

echo "== hub and notifier (logs: $ENERGYHUB_RUN_DIR/demo-hub.log, demo-notifier.log)"
"$ENERGYHUB" hub >>"$ENERGYHUB_RUN_DIR/demo-hub.log" 2>&1 &
HUB_PID=$!
"$ENERGYHUB" notifier >>"$ENERGYHUB_RUN_DIR/demo-notifier.log" 2>&1 &
NOTIFIER_PID=$!
for log in demo-hub demo-notifier; do
    for _ in $(seq 1 100); do grep -q "subscribed to" "$ENERGYHUB_RUN_DIR/$log.log" && break; sleep 0.2; done
done

echo "== simulator: six days of history, then $DEVICES devices at one reading a second for ${SECONDS_TO_RUN}s,"
echo "   and a whole home (a Shelly Pro 3EM with rooftop solar, sunniest now) beside them"
"$SIM" --uri "$ENERGYHUB_MQTT_URI" --devices 1 --device-prefix home --users 1 --profile house --format shelly \
    --history 6d --history-step 15m --pv-noon "$(date -u +%H)" --rate 0.5 --duration "$SECONDS_TO_RUN" --qos 1 &
HOUSE_SIM=$!
"$SIM" --uri "$ENERGYHUB_MQTT_URI" --devices "$DEVICES" --device-prefix demo --users 4 --rate 1 \
    --history 6d --history-step 15m --duration "$SECONDS_TO_RUN" --qos 1
wait "$HOUSE_SIM" || true
mosquitto_pub -p "$ENERGYHUB_MQTT_PORT" -q 1 -t energy/alice-kettle/reading -m '{"power_w":2150.0,"energy_wh":1042.5}'
mosquitto_pub -p "$ENERGYHUB_MQTT_PORT" -q 1 -t energy/alice-kettle/reading -m '{"power_w": oops'
sleep 3
kill -TERM "$HUB_PID" "$NOTIFIER_PID" && wait "$HUB_PID" "$NOTIFIER_PID" || true
HUB_PID=""
NOTIFIER_PID=""

echo "== what was stored"
psql "$ENERGYHUB_PG_DSN" -c "SELECT user_id, count(DISTINCT device_id) AS devices, count(*) AS readings,
        round(avg(power_w)::numeric, 1) AS avg_w, max(ts) AS latest
    FROM readings GROUP BY user_id ORDER BY user_id"
echo "== hourly usage of demo-00001"
"$ENERGYHUB" usage --device demo-00001 --since 24h
echo "== the whole home, home-00000, per day: taken from the grid and returned to it"
psql "$ENERGYHUB_PG_DSN" -c "SELECT date_trunc('day', hour)::date AS day, round(sum(energy_wh)::numeric / 1000, 2) AS import_kwh,
        round(sum(export_wh)::numeric / 1000, 2) AS export_kwh, round(min(power_min)::numeric) AS lowest_w
    FROM readings_hourly WHERE device_id = 'home-00000' GROUP BY 1 ORDER BY 1"
echo "== alerts, and the emails the notifier sent (mail catcher: $ENERGYHUB_MAIL_DIR)"
psql "$ENERGYHUB_PG_DSN" -c "SELECT device_id, rule, state, value, threshold, notified_at IS NOT NULL AS emailed FROM alerts ORDER BY ts"
grep -h '"subject"' "$ENERGYHUB_MAIL_DIR"/*.json 2>/dev/null | tail -3 || true
echo "== insights (no Ollama here: the built-in rules answer)"
"$ENERGYHUB" insights --once >/dev/null 2>&1 || true
psql "$ENERGYHUB_PG_DSN" -c "SELECT user_id, source, left(summary, 200) AS summary FROM insights ORDER BY created_at DESC LIMIT 5"
echo "== retained state of alice-kettle"
mosquitto_sub -p "$ENERGYHUB_MQTT_PORT" -t energy/alice/alice-kettle/state -C 1 -W 3 || true
echo "== hub's summary"
grep "hub stopped" "$ENERGYHUB_RUN_DIR/demo-hub.log" | tail -1
((KEEP)) && echo "servers left running; config $ENERGYHUB_CONFIG; stop with: scripts/stack.sh stop"
exit 0
