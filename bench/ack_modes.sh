#!/usr/bin/env bash
# What the acknowledgement path costs: the hub subscribed with QoS 2 (the default: every incoming
# message kept in the session store until it is spooled) against QoS 1 (with Debian's Paho C
# 1.3.12 the PUBACK also follows the spool write; docs/delivery-guarantee.md). Same machine,
# same run, same stream.
#
# Usage: bench/ack_modes.sh [devices] [readings-per-device]   (needs scripts/stack.sh start)
# Prints per mode: seconds until every reading is stored, readings/s, and the hub's CPU
# milliseconds per 1,000 readings (from /proc/<pid>/stat, user + system).
set -euo pipefail
cd "$(dirname "$0")/.."
DEVICES=${1:-100}
PER_DEVICE=${2:-300}
BUILD=${ENERGYHUB_BUILD_DIR:-build}
eval "$(scripts/stack.sh env)"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
TOTAL=$((DEVICES * PER_DEVICE))
TICKS=$(getconf CLK_TCK)

run_mode() {
    local qos=$1 db="bench_ack_q$1_$$"
    local dsn="${ENERGYHUB_PG_DSN%/*}/$db"
    psql "$ENERGYHUB_PG_DSN" -qc "CREATE DATABASE $db"
    cat >"$WORK/q$qos.yaml" <<YAML
mqtt: {uri: $ENERGYHUB_MQTT_URI, client_id: bench-ack-$qos-$$, qos: $qos}
postgres: {dsn: "$dsn"}
http: {listen: "127.0.0.1:0", notifier_listen: "", insights_listen: ""}
hub: {state_dir: $WORK/state$qos, batch_size: 5000, flush_interval: 200ms}
log: {level: warn}
YAML
    "$BUILD/hub/energyhub" migrate -c "$WORK/q$qos.yaml" >/dev/null
    "$BUILD/firmware-sim/firmware-sim" --register-only --config "$WORK/q$qos.yaml" --devices "$DEVICES" \
        --device-prefix "ack$qos" >/dev/null 2>&1
    "$BUILD/hub/energyhub" hub -c "$WORK/q$qos.yaml" >"$WORK/hub$qos.log" 2>&1 &
    local hub=$!
    sleep 1.5
    local start end cpu
    start=$(date +%s%N)
    "$BUILD/firmware-sim/firmware-sim" --uri "$ENERGYHUB_MQTT_URI" --devices "$DEVICES" --device-prefix "ack$qos" \
        --count "$PER_DEVICE" --rate 0 --qos 1 >/dev/null 2>&1
    until [[ $(psql "$dsn" -tAc "SELECT count(*) FROM readings") -ge $TOTAL ]]; do sleep 0.05; done
    end=$(date +%s%N)
    cpu=$(awk -v t="$TICKS" '{ printf "%.0f", ($14 + $15) * 1000 / t }' "/proc/$hub/stat")
    kill -TERM "$hub"
    wait "$hub" || true
    psql "$ENERGYHUB_PG_DSN" -qc "DROP DATABASE $db WITH (FORCE)"
    awk -v q="$qos" -v n="$TOTAL" -v ns="$((end - start))" -v cpu="$cpu" 'BEGIN {
        s = ns / 1e9; printf "qos=%s readings=%d stored_in_s=%.2f readings_per_s=%.0f cpu_ms_per_1000=%.1f\n", q, n, s, n / s, cpu * 1000 / n }'
}

run_mode 1
run_mode 2
