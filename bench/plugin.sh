#!/usr/bin/env bash
# What the broker plugin costs the broker: the same load against a plain Mosquitto and against one
# with the energyhub plugin (authentication, client ids, ACLs, payload guard on every publish),
# each a private instance on loopback, in the same run. Prints readings/s, logins/s and the ratio
# plugin / plain for each, and the plugin's own line of counters.
#
# Usage: bench/plugin.sh [READINGS] [LOGINS]     (defaults 50000 and 300)
# Needs the build (build/plugins/energyhub_broker.so, build/hub/energyhub) and the private stack's
# PostgreSQL (scripts/stack.sh start).
set -euo pipefail
cd "$(dirname "$0")/.."
READINGS=${1:-50000}
LOGINS=${2:-300}
BUILD=${ENERGYHUB_BUILD_DIR:-build}
eval "$(scripts/stack.sh env)"
WORK=$(mktemp -d /tmp/energyhub-bench-plugin.XXXXXX)
DB="bench_plugin_$$"
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    psql "$ENERGYHUB_PG_DSN" -qc "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

psql "$ENERGYHUB_PG_DSN" -qc "CREATE DATABASE $DB" >/dev/null
DSN="${ENERGYHUB_PG_DSN%/*}/$DB"
printf 'postgres:\n  dsn: %s\n' "$DSN" >"$WORK/energyhub.yaml"
eh() { "$BUILD/hub/energyhub" "$@" --config "$WORK/energyhub.yaml"; }
eh migrate >/dev/null
eh user add bench --email bench@example.com >/dev/null
SECRET=$(eh device add meter-1 --user bench | sed -n 's/^mqtt password: \([^ ]*\).*/\1/p')
HUB=$(eh account add hub --role service --daemon hub | sed -n 's/^mqtt password: \([^ ]*\).*/\1/p')

start() {  # start NAME PORT [plugin]: a Mosquitto on loopback
    local conf="$WORK/$1.conf"
    {
        echo "listener $2 127.0.0.1"
        echo "user $(id -un)"
        echo "persistence false"
        echo "log_dest file $WORK/$1.log"
        echo "max_inflight_messages 1000"
        if [[ -n "${3:-}" ]]; then
            echo "allow_anonymous false"
            echo "plugin $BUILD/plugins/energyhub_broker.so"
            echo "plugin_opt_postgres_dsn $DSN"
        else
            echo "allow_anonymous true"
        fi
    } >"$conf"
    mosquitto -c "$conf" >"$WORK/$1.out" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 1 100); do
        [[ -n "$(ss -Hltn "sport = :$2")" ]] && return 0
        sleep 0.1
    done
    echo "bench/plugin.sh: mosquitto ($1) did not start" >&2
    exit 1
}
start plain 28931
start plugin 28932 with-plugin

seq 1 "$READINGS" | sed 's/.*/{"power_w":&.5,"energy_wh":&}/' >"$WORK/readings.txt"

# rate PORT USER PASS: readings/s of one QoS-1 publisher, until the hub's account has them all.
rate() {
    local port=$1 auth=() sub_auth=() out="$WORK/sub-$1.txt"
    [[ -n "$2" ]] && auth=(-u "$2" -P "$3") && sub_auth=(-u hub -P "$HUB")
    mosquitto_sub -h 127.0.0.1 -p "$port" "${sub_auth[@]}" -q 1 -t 'energy/+/reading' >"$out" &
    local sub=$!
    # The subscription is in place once a warm-up reading arrives.
    until [[ -s "$out" ]]; do
        mosquitto_pub -h 127.0.0.1 -p "$port" "${auth[@]}" -i meter-1 -q 1 -t energy/meter-1/reading -m '{"power_w":0}'
        sleep 0.3
    done
    local want=$(( $(wc -l <"$out") + READINGS )) t0 t1
    t0=$(date +%s%N)
    mosquitto_pub -h 127.0.0.1 -p "$port" "${auth[@]}" -i meter-1 -q 1 -t energy/meter-1/reading -l <"$WORK/readings.txt"
    until (( $(wc -l <"$out") >= want )); do sleep 0.01; done
    t1=$(date +%s%N)
    kill "$sub"
    echo $(( READINGS * 1000000000 / (t1 - t0) ))
}
# logins PORT USER PASS: connect, publish one reading, disconnect, LOGINS times; logins/s.
logins() {
    local port=$1 auth=()
    [[ -n "$2" ]] && auth=(-u "$2" -P "$3")
    local t0 t1
    t0=$(date +%s%N)
    for _ in $(seq 1 "$LOGINS"); do
        mosquitto_pub -h 127.0.0.1 -p "$port" "${auth[@]}" -i meter-1 -q 1 -t energy/meter-1/reading -m '{"power_w":1}'
    done
    t1=$(date +%s%N)
    echo $(( LOGINS * 1000000000 / (t1 - t0) ))
}

plain_rate=$(rate 28931 "" "")
plugin_rate=$(rate 28932 meter-1 "$SECRET")
plain_logins=$(logins 28931 "" "")
plugin_logins=$(logins 28932 meter-1 "$SECRET")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
printf '%-34s %10s %10s %8s\n' "" plain plugin ratio
printf '%-34s %10s %10s %8s\n' "QoS-1 readings/s (one publisher)" "$plain_rate" "$plugin_rate" "$(ratio "$plugin_rate" "$plain_rate")"
printf '%-34s %10s %10s %8s\n' "logins/s (connect, publish, quit)" "$plain_logins" "$plugin_logins" "$(ratio "$plugin_logins" "$plain_logins")"
kill -TERM "${PIDS[1]}" && wait "${PIDS[1]}" 2>/dev/null || true
grep "energyhub: logins ok" "$WORK/plugin.log" | tail -1 | sed 's/^[0-9]*: //'
