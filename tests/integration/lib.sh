# Shared helpers for the integration tests: each test is a bash script run by ctest against the
# private servers of scripts/stack.sh (which the test command starts). Every test gets its own
# database, MQTT client ids, device ids and work folder, so tests do not see each other.
set -euo pipefail

: "${ENERGYHUB_BIN:?set by ctest}"
: "${FIRMWARE_SIM_BIN:?set by ctest}"
REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
# Fault tests that stop or break servers get a stack of their own (PRIVATE_STACK_PORT=base port),
# so the other tests' servers are never disturbed.
if [[ -n "${PRIVATE_STACK_PORT:-}" ]]; then
    export ENERGYHUB_RUN_DIR="${ENERGYHUB_TEST_WORK:-$REPO_DIR/build/test-work}/stack-$(basename "$0" .sh)"
    export ENERGYHUB_MQTT_PORT=$PRIVATE_STACK_PORT ENERGYHUB_PG_PORT=$((PRIVATE_STACK_PORT + 1))
    export ENERGYHUB_REDIS_PORT=$((PRIVATE_STACK_PORT + 2)) ENERGYHUB_SMTP_PORT=$((PRIVATE_STACK_PORT + 3))
    "$REPO_DIR/scripts/stack.sh" start >/dev/null
fi
eval "$("$REPO_DIR/scripts/stack.sh" env)"

TEST_NAME=$(basename "$0" .sh)
# Unique per run, not only per process: a reused PID must not find an old run's broker session.
TEST_ID="${TEST_NAME//[^a-z0-9]/_}_$$_$(date +%s%N | tail -c 7)"
WORK_DIR="${ENERGYHUB_TEST_WORK:-$REPO_DIR/build/test-work}/$TEST_ID"
mkdir -p "$WORK_DIR"
DB_NAME="eh_$TEST_ID"
DB_DSN="${ENERGYHUB_PG_DSN%/*}/$DB_NAME"
ADMIN_DSN="$ENERGYHUB_PG_DSN"
MQTT_PORT=${ENERGYHUB_MQTT_URI##*:}
CONFIG="$WORK_DIR/energyhub.yaml"
HUB_PID=""
BACKGROUND_PIDS=()
RESTORE_SERVERS=()  # servers a test stopped on purpose: started again whatever happens
EXTRA_CLEANUP=()     # shell commands run at exit, after the hub is gone

log() { printf '[%s] %s\n' "$TEST_NAME" "$*"; }
fail() {
    printf '[%s] FAIL: %s\n' "$TEST_NAME" "$*" >&2
    for f in hub.log notifier.log; do
        if [[ -f "$WORK_DIR/$f" ]]; then
            echo "--- last lines of $f ---" >&2
            tail -n 30 "$WORK_DIR/$f" >&2
        fi
    done
    exit 1
}

cleanup() {
    local rc=$?
    [[ -n "$HUB_PID" ]] && kill -9 "$HUB_PID" 2>/dev/null || true
    [[ -n "$NOTIFIER_PID" ]] && kill -9 "$NOTIFIER_PID" 2>/dev/null || true
    for pid in "${BACKGROUND_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    for server in "${RESTORE_SERVERS[@]}"; do "$REPO_DIR/scripts/stack.sh" start-one "$server" >/dev/null || true; done
    for step in "${EXTRA_CLEANUP[@]}"; do eval "$step" || true; done
    # The daemons' persistent sessions would make the shared broker queue every later test's
    # readings for them (up to max_queued_messages each): a clean-session connect ends them.
    for id in "hub-$TEST_ID" "notifier-$TEST_ID"; do
        timeout 5 mosquitto_sub -p "$MQTT_PORT" -h 127.0.0.1 -i "$id" -t "energyhub/none" -E >/dev/null 2>&1 || true
    done
    psql "$ADMIN_DSN" -qAtc "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" >/dev/null 2>&1 || true
    [[ -n "${PRIVATE_STACK_PORT:-}" ]] && "$REPO_DIR/scripts/stack.sh" clean >/dev/null 2>&1
    # The work folder is kept when a test fails, for its logs.
    if [[ $rc -eq 0 ]]; then rm -rf "$WORK_DIR"; else echo "[$TEST_NAME] logs kept in $WORK_DIR" >&2; fi
    exit $rc
}
trap cleanup EXIT

# psql against the test's database: sql → tab-separated rows.
q() { psql "$DB_DSN" -qAt -F $'\t' -v ON_ERROR_STOP=1 -c "$1"; }

# wait_for SECONDS DESCRIPTION 'CONDITION': evaluate the shell CONDITION every 0.2 s until it holds.
# wait_for SECONDS WHAT CONDITION [STATUS]: STATUS, shell code, says on a timeout where things
# stood (counts stored, lost, duplicated...), so a failure says what broke.
wait_for() {
    local seconds=$1 what=$2 condition=$3 status=${4:-}
    local deadline=$((SECONDS + seconds))
    until eval "$condition" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || fail "timed out after ${seconds}s waiting for: $what${status:+ ($(eval "$status" 2>&1))}"
        sleep 0.2
    done
}

# A config for this test; extra YAML lines for the hub section can be passed as $1, and whole
# extra sections (thresholds, notifier...) as $2; extra lines for the mqtt section in $MQTT_EXTRA
# (by default Home Assistant discovery is off, so tests leave no retained configs in the broker).
write_config() {
    local hub_extra=${1:-} sections=${2:-}
    cat >"$CONFIG" <<YAML
mqtt:
  uri: $ENERGYHUB_MQTT_URI
  client_id: hub-$TEST_ID
${HUB_QOS:+  qos: $HUB_QOS}
  keepalive: 5s
${MQTT_EXTRA-  topics: {discovery_prefix: ''\}}
postgres:
  dsn: $DB_DSN
redis:
  uri: ${REDIS_URI-$ENERGYHUB_REDIS_URI}
  retry_interval: 500ms
hub:
  state_dir: $WORK_DIR/state
  batch_size: 1000
  flush_interval: 100ms
$hub_extra
http:
  listen: 127.0.0.1:0
  notifier_listen: 127.0.0.1:0
  insights_listen: 127.0.0.1:0
smtp:
  url: $ENERGYHUB_SMTP_URL
  from: energyhub@example.com
  timeout: 5s
notifier:
  client_id: notifier-$TEST_ID
  poll_interval: 1s
  retry_initial: 500ms
  retry_max: 2s
$sections
log:
  level: ${HUB_LOG_LEVEL:-info}
YAML
}

# Emails the catcher stored for one recipient, as "subject<TAB>message-id" lines.
mails_to() {
    /usr/bin/python3 - "$ENERGYHUB_MAIL_DIR" "$1" <<'PY'
import json, pathlib, sys
for f in sorted(pathlib.Path(sys.argv[1]).glob("*.json")):
    meta = json.loads(f.read_text())
    if sys.argv[2] in meta["rcpt_tos"]:
        print(f"{meta['subject']}\t{meta['message_id']}\t{meta['eml']}")
PY
}

# The port a daemon's HTTP listener got (its log says "http listening on 127.0.0.1:PORT").
http_port() { sed -n 's/.*http listening on [^:]*:\([0-9]*\).*/\1/p' "$WORK_DIR/$1.log" | tail -1; }
http_get() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$(http_port "$1")$2"; }
# metric_of DAEMON NAME: one unlabelled series of a daemon's /metrics, as a whole number.
metric_of() { curl -s "http://127.0.0.1:$(http_port "$1")/metrics" | awk -v m="$2" '$1 == m { printf "%.0f", $2 }'; }

NOTIFIER_PID=""
start_notifier() {
    "$ENERGYHUB_BIN" notifier --config "$CONFIG" >>"$WORK_DIR/notifier.log" 2>&1 &
    NOTIFIER_PID=$!
    wait_for 20 "notifier subscribed" 'grep -q "subscribed to" "$WORK_DIR/notifier.log"'
}

create_database() {
    psql "$ADMIN_DSN" -qAtc "CREATE DATABASE $DB_NAME" >/dev/null
    "$ENERGYHUB_BIN" migrate --config "$CONFIG" >/dev/null
}

eh() { "$ENERGYHUB_BIN" "$@" --config "$CONFIG"; }

start_hub() {
    "$ENERGYHUB_BIN" hub --config "$CONFIG" >>"$WORK_DIR/hub.log" 2>&1 &
    HUB_PID=$!
    wait_for 20 "hub subscribed" 'grep -q "subscribed to" "$WORK_DIR/hub.log"'
}

stop_hub() {
    [[ -n "$HUB_PID" ]] || return 0
    kill -TERM "$HUB_PID"
    wait "$HUB_PID" || fail "hub exited with status $? on SIGTERM"
    HUB_PID=""
}

kill9_hub() {
    kill -9 "$HUB_PID"
    wait "$HUB_PID" 2>/dev/null || true
    HUB_PID=""
}

# subscribe FILE TOPIC...: record messages ("topic payload" per line) in the background.
subscribe() {
    local file=$1
    shift
    local args=()
    for t in "$@"; do args+=(-t "$t"); done
    mosquitto_sub -p "$MQTT_PORT" -h 127.0.0.1 -v -q 1 "${args[@]}" >"$file" 2>/dev/null &
    BACKGROUND_PIDS+=($!)
    sleep 0.3  # let the subscription reach the broker before anything is published
}

pub() { mosquitto_pub -p "$MQTT_PORT" -h 127.0.0.1 -q 1 -t "$1" -m "$2"; }

now_ms() { date +%s%3N; }

# wait_stored N: waits until N readings are stored, for at most a minute or 10 s without progress.
wait_stored() {
    local want=$1 last=-1 stalls=0 stored
    for _ in $(seq 1 60); do
        stored=$(q "SELECT count(*) FROM readings")
        ((stored >= want)) && return 0
        if ((stored == last)); then stalls=$((stalls + 1)); ((stalls < 10)) || return 0; else stalls=0; fi
        last=$stored
        sleep 1
    done
}

# count_against_acked ACKED_LOG: prints "sent stored duplicated lost" for readings of the devices
# in the acked log: lost = acknowledged but not stored; duplicated = stored more than once.
count_against_acked() {
    q "SET client_min_messages = warning; DROP TABLE IF EXISTS acked; CREATE TABLE acked (device_id text, ts_ms bigint)" >/dev/null
    psql "$DB_DSN" -qc "\\copy acked FROM '$1'"
    q "SELECT (SELECT count(*) FROM acked),
              (SELECT count(*) FROM readings r WHERE r.device_id IN (SELECT DISTINCT device_id FROM acked)),
              (SELECT count(*) - count(DISTINCT (device_id, ts)) FROM readings),
              (SELECT count(*) FROM acked a WHERE NOT EXISTS (SELECT 1 FROM readings r WHERE r.device_id = a.device_id
                       AND (extract(epoch FROM r.ts) * 1000)::bigint = a.ts_ms))" | tr '\t' ' '
}

# Stop one private server for a fault test; cleanup starts it again even if the test fails.
stop_server() {
    RESTORE_SERVERS+=("$1")
    "$REPO_DIR/scripts/stack.sh" stop-one "$1" >/dev/null
}
start_server() { "$REPO_DIR/scripts/stack.sh" start-one "$1" >/dev/null; }
