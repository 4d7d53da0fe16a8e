# Helpers for the fault suite: a numbered stream of QoS-1 readings from firmware-sim, and the
# per-case verdict line "sent stored duplicated lost" against the simulator's acknowledged log.
# Sourced after ../integration/lib.sh.

# register_stream NAME DEVICES: adds the stream's devices to the registry (once).
register_stream() {
    [[ -f "$WORK_DIR/$1.registered" ]] && return
    "$FIRMWARE_SIM_BIN" --register-only --config "$CONFIG" --devices "$2" --device-prefix "$1" --users 5 >/dev/null
    touch "$WORK_DIR/$1.registered"
}

# start_stream NAME DEVICES PER_DEVICE RATE: registers the devices and starts publishing (with the
# simulator's flags in SIM_EXTRA, if set).
start_stream() {
    local name=$1 devices=$2 per=$3 rate=$4
    register_stream "$name" "$devices"
    "$FIRMWARE_SIM_BIN" --uri "$ENERGYHUB_MQTT_URI" --devices "$devices" --device-prefix "$name" --users 5 \
        --count "$per" --rate "$rate" --qos 1 --acked-log "$WORK_DIR/$name.acked" ${SIM_EXTRA:-} >"$WORK_DIR/$name.sim.log" 2>&1 &
    STREAM_PID=$!
    BACKGROUND_PIDS+=("$STREAM_PID")
}

# kill_hub_rounds ROUNDS MIN_S SPREAD_MS: ROUNDS times, after MIN_S plus a random part of
# SPREAD_MS milliseconds, the hub SIGKILLed and started again half a second later.
kill_hub_rounds() {
    local round
    for ((round = 1; round <= $1; round++)); do
        sleep "$(awk -v r="$RANDOM" -v min="$2" -v spread="$3" 'BEGIN { printf "%.2f", min + (r % spread) / 1000 }')"
        kill9_hub
        log "round $round: SIGKILL after $(q "SELECT count(*) FROM readings") stored"
        sleep 0.5
        start_hub
    done
}

acked_so_far() { wc -l <"$WORK_DIR/$1.acked" 2>/dev/null || echo 0; }

# One value from the hub's /metrics (the broker acknowledges publishers by itself, so what the hub
# has taken shows in its spool, not in the simulator's acknowledgements).
hub_metric() { curl -s "http://127.0.0.1:$(http_port hub)/metrics" | awk -v m="$1" '$1 == m { printf "%d\n", $2 }'; }

# finish_stream NAME: waits for the simulator, then for the hub to store what was acknowledged,
# prints the verdict and fails the test on any loss or duplicate.
finish_stream() {
    local name=$1
    wait "$STREAM_PID" || true
    local acked sent
    acked=$(acked_so_far "$name")
    sent=$(sed -n 's/.*sent=\([0-9]*\).*/\1/p' "$WORK_DIR/$name.sim.log")
    ((acked > 0)) || fail "$name: nothing was acknowledged: $(tail -3 "$WORK_DIR/$name.sim.log")"
    wait_for 120 "$name: every acknowledged reading stored" \
        '(( $(q "SELECT count(*) FROM readings WHERE device_id LIKE '"'$name-%'"'") >= acked ))' \
        'read -r _ s d l < <(count_against_acked "$WORK_DIR/$name.acked"); echo "acked $acked, stored $s, duplicated $d, lost $l"'
    sleep 1  # a late duplicate would show now
    read -r _ stored duplicated lost < <(count_against_acked "$WORK_DIR/$name.acked")
    printf '[%s] case=%s sent=%s acked=%s stored=%s duplicated=%s lost=%s\n' "$TEST_NAME" "$name" "${sent:-?}" "$acked" \
        "$stored" "$duplicated" "$lost"
    ((lost == 0)) || fail "$name: $lost acknowledged readings lost"
    ((duplicated == 0)) || fail "$name: $duplicated readings stored twice"
}
