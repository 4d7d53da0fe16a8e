# Helpers for the broker plugin tests, sourced after lib.sh: a Mosquitto of the test's own on a free
# port, with the plugin loaded against the test's database, and MQTT clients that log in. The
# stack's shared broker stays without the plugin (other tests publish anonymously).
#
# BROKER_PLUGIN_ASAN=1 runs the AddressSanitizer build of the plugin inside the (uninstrumented)
# system mosquitto; check_asan then fails the test on any sanitizer report.

: "${ENERGYHUB_BROKER_PLUGIN:?set by ctest}"
if [[ "${BROKER_PLUGIN_ASAN:-0}" == 1 ]]; then
    : "${ENERGYHUB_BROKER_PLUGIN_ASAN:?set by ctest}" "${ENERGYHUB_ASAN_PRELOAD:?set by ctest}"
    PLUGIN_SO=$ENERGYHUB_BROKER_PLUGIN_ASAN
    PLUGIN_PRELOAD=$ENERGYHUB_ASAN_PRELOAD
else
    PLUGIN_SO=$ENERGYHUB_BROKER_PLUGIN
    PLUGIN_PRELOAD=${ENERGYHUB_PLUGIN_PRELOAD:-}
fi

BROKER_LOG="$WORK_DIR/broker.log"
BROKER_PID=""
PLUGIN_DSN=$DB_DSN  # a test may point the plugin elsewhere before start_broker
LAST_SUB_PID=""

# The failure report also shows the end of the broker's log.
eval "lib_fail() $(declare -f fail | tail -n +2)"
fail() {
    if [[ -f "$BROKER_LOG" ]]; then
        echo "--- last lines of broker.log ---" >&2
        grep -v -E "PINGREQ|PINGRESP" "$BROKER_LOG" | tail -n 40 >&2
    fi
    lib_fail "$@"
}

# free_port BASE: a port in BASE..BASE+49 nobody listens on, starting at one derived from our pid.
free_port() {
    local base=$1 i p
    for ((i = 0; i < 50; i++)); do
        p=$((base + ($$ + i) % 50))
        if [[ -z "$(ss -Hltn "sport = :$p" 2>/dev/null)" ]]; then
            echo "$p"
            return
        fi
    done
    fail "no free TCP port in $base..$((base + 49))"
}
BROKER_PORT=$(free_port 18900)

port_listening() { [[ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]]; }

# start_broker [mosquitto.conf line]...: start the broker with the plugin and wait until it serves.
start_broker() {
    {
        echo "listener $BROKER_PORT 127.0.0.1"
        echo "allow_anonymous false"
        echo "user $(id -un)"
        echo "persistence false"
        echo "log_dest file $BROKER_LOG"
        echo "log_type all"
        echo "plugin $PLUGIN_SO"
        echo "plugin_opt_postgres_dsn $PLUGIN_DSN"
        printf '%s\n' "$@"
    } >"$WORK_DIR/broker.conf"
    local env=()
    if [[ -n "$PLUGIN_PRELOAD" ]]; then
        # Reports go to asan.<pid> files; leak checking stays on (mosquitto exits cleanly on SIGTERM).
        env+=("LD_PRELOAD=$PLUGIN_PRELOAD" "ASAN_OPTIONS=log_path=$WORK_DIR/asan:detect_leaks=1")
    fi
    env "${env[@]}" mosquitto -c "$WORK_DIR/broker.conf" >>"$WORK_DIR/broker.out" 2>&1 &
    BROKER_PID=$!
    BACKGROUND_PIDS+=("$BROKER_PID")
    local deadline=$((SECONDS + 20))
    until grep -q "energyhub: broker plugin ready" "$BROKER_LOG" 2>/dev/null && port_listening "$BROKER_PORT"; do
        if ! kill -0 "$BROKER_PID" 2>/dev/null; then
            cat "$WORK_DIR/broker.out" >&2
            fail "mosquitto with the plugin exited at start"
        fi
        ((SECONDS < deadline)) || fail "mosquitto with the plugin did not start within 20s"
        sleep 0.2
    done
    if [[ -n "$PLUGIN_PRELOAD" ]]; then  # prove the sanitizer run is one
        grep -q "libasan" "/proc/$BROKER_PID/maps" && grep -q "$(basename "$PLUGIN_SO")" "/proc/$BROKER_PID/maps" ||
            fail "mosquitto runs without the sanitizer runtime or without $(basename "$PLUGIN_SO")"
    fi
}

# stop_broker: SIGTERM, and the broker must exit cleanly.
stop_broker() {
    [[ -n "$BROKER_PID" ]] || return 0
    kill -TERM "$BROKER_PID"
    local rc=0
    wait "$BROKER_PID" || rc=$?
    BROKER_PID=""
    ((rc == 0)) || fail "mosquitto exited with status $rc on SIGTERM"
}

# check_asan: after stop_broker, any sanitizer report fails the test.
check_asan() {
    local reports=("$WORK_DIR"/asan.*)
    if [[ -e "${reports[0]}" ]]; then
        cat "${reports[@]}" >&2
        fail "AddressSanitizer reported errors (above)"
    fi
    if grep -q "Sanitizer" "$WORK_DIR/broker.out" 2>/dev/null; then
        cat "$WORK_DIR/broker.out" >&2
        fail "sanitizer output from mosquitto (above)"
    fi
}

# client_args USER PASS: connection arguments; an empty USER is an anonymous client.
client_args() {
    CLIENT_ARGS=(-h 127.0.0.1 -p "$BROKER_PORT")
    [[ -z "$1" ]] || CLIENT_ARGS+=(-u "$1" -P "$2")
}

# connects USER PASS: true if the broker accepts the login.
connects() {
    client_args "$1" "$2"
    mosquitto_pub "${CLIENT_ARGS[@]}" -q 0 -t energyhub/test/probe -m x >/dev/null 2>&1
}

# mqtt_pub USER PASS TOPIC PAYLOAD [mosquitto_pub options]: publish with QoS 1 (the broker has
# handled it when this returns).
mqtt_pub() {
    client_args "$1" "$2"
    local topic=$3 payload=$4
    shift 4
    mosquitto_pub "${CLIENT_ARGS[@]}" -q 1 -t "$topic" -m "$payload" "$@" 2>>"$WORK_DIR/clients.err"
}

# mqtt_sub FILE USER PASS FILTER...: record "topic payload" lines in the background; returns once
# the broker has answered the subscription. Its pid is in LAST_SUB_PID.
mqtt_sub() {
    local file=$1 user=$2 pass=$3
    shift 3
    local id="sub-$RANDOM-$$" args=() f
    for f in "$@"; do args+=(-t "$f"); done
    client_args "$user" "$pass"
    mosquitto_sub "${CLIENT_ARGS[@]}" -i "$id" -v -q 1 "${args[@]}" >"$file" 2>"$file.err" &
    LAST_SUB_PID=$!
    BACKGROUND_PIDS+=("$LAST_SUB_PID")
    wait_for 10 "the subscription of $user" 'grep -q "Sending SUBACK to $id" "$BROKER_LOG"'
}

# The MQTT password that `energyhub device add` / `account add` printed (stdin).
secret_of() { sed -n 's/^mqtt password: \([^ ]*\).*/\1/p'; }
