#!/usr/bin/env bash
# What TLS costs: the same load (firmware-sim, QoS 1, unpaced) into the hub as installed, once
# over the stack broker's plain listener and once over its TLS listener (devices and hub both on
# TLS, PostgreSQL at sslmode=verify-full), in the same run. Prints per case the readings/s from
# the first publish until the last reading is stored, the hub's and the broker's CPU ms per 1,000
# readings, and the ratios TLS / plain.
#
# Usage: bench/tls.sh [READINGS] [DEVICES]     (defaults 50000 and 1000)
# Needs the build (build/hub/energyhub, build/firmware-sim/firmware-sim); starts the private
# servers of scripts/stack.sh if they are not running.
set -euo pipefail
cd "$(dirname "$0")/.."
READINGS=${1:-50000}
DEVICES=${2:-1000}
BUILD=${ENERGYHUB_BUILD_DIR:-build}
EH=$BUILD/hub/energyhub
SIM=$BUILD/firmware-sim/firmware-sim
scripts/stack.sh start >/dev/null
eval "$(scripts/stack.sh env)"
WORK=$(mktemp -d /tmp/energyhub-bench-tls.XXXXXX)
DB="bench_tls_$$"
HUB_PID=""
cleanup() {
    [[ -n "$HUB_PID" ]] && kill -9 "$HUB_PID" 2>/dev/null
    wait 2>/dev/null || true
    psql "$ENERGYHUB_PG_DSN" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

TICKS=$(getconf CLK_TCK)
cpu_ms() { awk -v t="$TICKS" '{ printf "%.0f", ($14 + $15) * 1000 / t }' "/proc/$1/stat"; }
BROKER_PID=$(cat "$ENERGYHUB_RUN_DIR/mosquitto.pid")
PG_PORT=${ENERGYHUB_PG_DSN##*:}
PG_PORT=${PG_PORT%%/*}
CA=$ENERGYHUB_TLS_DIR/ca.crt
psql "$ENERGYHUB_PG_DSN" -qc "CREATE DATABASE $DB" >/dev/null
PLAIN_DSN="${ENERGYHUB_PG_DSN%/*}/$DB"
TLS_DSN="postgresql://energyhub@localhost:$PG_PORT/$DB?sslmode=verify-full&sslrootcert=$CA"

config() {  # config NAME URI DSN [tls line]
    cat >"$WORK/$1.yaml" <<YAML
mqtt:
  uri: $2
  client_id: bench-tls-$1-$$
  topics: {reading: "bt$$/+/reading", state_prefix: "bt$$-state", status_prefix: "bt$$-status", discovery_prefix: ""}
${4:-}
postgres: {dsn: "$3"}
hub: {state_dir: $WORK/state-$1}
http: {listen: "", notifier_listen: "", insights_listen: ""}
log: {level: warn}
YAML
}
config plain "$ENERGYHUB_MQTT_URI" "$PLAIN_DSN"
config tls "$ENERGYHUB_MQTTS_URI" "$TLS_DSN" "  tls: {ca_file: $CA}"
"$EH" migrate --config "$WORK/plain.yaml" >/dev/null
"$SIM" --register-only --config "$WORK/plain.yaml" --devices "$DEVICES" --device-prefix bt >/dev/null

per_device=$(((READINGS + DEVICES - 1) / DEVICES))
total=$((per_device * DEVICES))
run() {  # run NAME URI [sim tls flags]
    local name=$1 uri=$2
    shift 2
    psql "$PLAIN_DSN" -qc "TRUNCATE readings, readings_hourly_folded" >/dev/null
    "$EH" hub --config "$WORK/$name.yaml" >"$WORK/$name.log" 2>&1 &
    HUB_PID=$!
    for _ in $(seq 1 100); do grep -q "subscribed to" "$WORK/$name.log" 2>/dev/null && break; sleep 0.1; done
    local hub0 broker0 start end stored
    hub0=$(cpu_ms "$HUB_PID")
    broker0=$(cpu_ms "$BROKER_PID")
    start=$(date +%s%N)
    "$SIM" --uri "$uri" "$@" --devices "$DEVICES" --device-prefix bt --topic-prefix "bt$$" --count "$per_device" \
        --rate 0 --qos 1 --log-level warn >"$WORK/$name.sim" 2>&1 || { cat "$WORK/$name.sim" >&2; exit 1; }
    for _ in $(seq 1 600); do
        stored=$(psql "$PLAIN_DSN" -Atc "SELECT count(*) FROM readings")
        ((stored >= total)) && break
        sleep 0.1
    done
    end=$(date +%s%N)
    local hub1 broker1
    hub1=$(cpu_ms "$HUB_PID")
    broker1=$(cpu_ms "$BROKER_PID")
    kill -TERM "$HUB_PID" && wait "$HUB_PID" || true
    HUB_PID=""
    ((stored >= total)) || { echo "bench: $name stored $stored of $total" >&2; exit 1; }
    RATE[$name]=$(awk -v n="$total" -v ns=$((end - start)) 'BEGIN { printf "%.0f", n / (ns / 1e9) }')
    HUB_CPU[$name]=$(awk -v c=$((hub1 - hub0)) -v n="$total" 'BEGIN { printf "%.1f", c * 1000 / n }')
    BROKER_CPU[$name]=$(awk -v c=$((broker1 - broker0)) -v n="$total" 'BEGIN { printf "%.1f", c * 1000 / n }')
}
declare -A RATE HUB_CPU BROKER_CPU
run plain "$ENERGYHUB_MQTT_URI"
run tls "$ENERGYHUB_MQTTS_URI" --ca-file "$CA"

printf '%s readings from %s devices, QoS 1, hub as installed (QoS 2 subscription)\n' "$total" "$DEVICES"
printf '%-7s %12s %22s %25s\n' case readings/s "hub CPU ms / 1,000" "broker CPU ms / 1,000"
for name in plain tls; do
    printf '%-7s %12s %22s %25s\n' "$name" "${RATE[$name]}" "${HUB_CPU[$name]}" "${BROKER_CPU[$name]}"
done
awk -v r1="${RATE[plain]}" -v r2="${RATE[tls]}" -v h1="${HUB_CPU[plain]}" -v h2="${HUB_CPU[tls]}" \
    -v b1="${BROKER_CPU[plain]}" -v b2="${BROKER_CPU[tls]}" \
    'BEGIN { printf "tls/plain: readings/s %.2f, hub CPU %.2f, broker CPU %.2f\n", r2 / r1, h2 / h1, b2 / b1 }'
