#!/usr/bin/env bash
# Operating the hub: /health like Spring Actuator (503 with postgres DOWN while PostgreSQL is
# stopped, 200 again after), /metrics that a Prometheus parser reads and whose counters move,
# SIGTERM during a stream that loses nothing and exits in bounded time, and SIGHUP with a new
# threshold that changes the next alert.
source "$(dirname "$0")/lib.sh"

thresholds() {
    cat <<YAML
thresholds:
  devices:
    ops-00000: {power_above: {watts: $1}}
YAML
}
write_config "" "$(thresholds 100000)"
create_database
"$FIRMWARE_SIM_BIN" --register-only --config "$CONFIG" --devices 20 --device-prefix ops --users 2 >/dev/null
start_hub
port=$(http_port hub)
[[ -n "$port" ]] || fail "the hub did not say where it listens"
# "subscribed" comes before the worker's first PostgreSQL connection: wait for UP, then look at it.
wait_for 20 "hub /health UP" '[[ $(http_get hub /health) == 200 ]]' 'curl -s "http://127.0.0.1:$port/health"'
health=$(curl -s "http://127.0.0.1:$port/health")
/usr/bin/python3 -c '
import json, sys
h = json.loads(sys.argv[1])
assert h["status"] == "UP", h
for c in ("mqtt", "postgres", "redis", "spool"):
    assert h["components"][c]["status"] == "UP", (c, h)
' "$health" || fail "unexpected /health: $health"
[[ $(http_get hub /health/liveness) == 200 && $(http_get hub /health/readiness) == 200 ]] || fail "liveness/readiness not 200"
log "/health: $health"

# Metrics: parsed by the Prometheus client's own text parser; counters move with readings.
metric() {
    curl -s "http://127.0.0.1:$port/metrics" | /usr/bin/python3 -c '
import sys
from prometheus_client.parser import text_string_to_metric_families
want, labels = sys.argv[1], dict(kv.split("=") for kv in sys.argv[2:])
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        if s.name == want and all(s.labels.get(k) == v for k, v in labels.items()):
            print(int(s.value)); sys.exit(0)
sys.exit("no sample " + want)' "$@"
}
before=$(metric energyhub_readings_stored_total) || fail "metrics do not parse or lack stored_total"
"$FIRMWARE_SIM_BIN" --uri "$ENERGYHUB_MQTT_URI" --devices 20 --device-prefix ops --users 2 --count 10 --rate 50 --qos 1 >/dev/null
pub "energy/ops-00001/reading" '{"power_w":"bad"}'
wait_for 10 "stored_total to move by 200" '(( $(metric energyhub_readings_stored_total) == before + 200 ))'
wait_for 5 "rejected_total{reason=wrong_type} to move" '(( $(metric energyhub_readings_rejected_total reason=wrong_type) == 1 ))'
(( $(metric energyhub_batch_size_count) > 0 )) || fail "batch size histogram is empty"
# What used to be counted and never shown: none dropped or refused on a healthy run.
[[ $(metric energyhub_outbox_dropped_total) == 0 && $(metric energyhub_mqtt_publish_failures_total) == 0 ]] ||
    fail "outbox_dropped or publish_failures missing or not 0"
wait_for 5 "the outbox to empty" '[[ $(metric energyhub_outbox_queued) == 0 ]]'
log "metrics parse; stored_total went from $before to $(metric energyhub_readings_stored_total)"

# Every series the Grafana dashboard queries exists on the hub's or the notifier's /metrics.
start_notifier
curl -s "http://127.0.0.1:$port/metrics" "http://127.0.0.1:$(http_port notifier)/metrics" >"$WORK_DIR/all.metrics"
missing=$(/usr/bin/python3 - "$REPO_DIR/docs/grafana-dashboard.json" "$WORK_DIR/all.metrics" <<'PY'
import json, re, sys
dash = json.load(open(sys.argv[1]))
have = set(re.findall(r"^(energyhub_[a-z_]+)", open(sys.argv[2]).read(), re.M))
want = {m for p in dash["panels"] for t in p["targets"] for m in re.findall(r"energyhub_[a-z_]+", t["expr"])}
print(" ".join(sorted(want - have)))
PY
)
[[ -z "$missing" ]] || fail "the dashboard queries series no daemon exports: $missing"
wait_for 20 "notifier /health UP" '[[ $(http_get notifier /health) == 200 ]]' 'curl -s "http://127.0.0.1:$(http_port notifier)/health"'
log "the Grafana dashboard's series all exist; notifier /health is UP"

# PostgreSQL stopped: 503 with postgres DOWN; started again: 200.
stop_server postgres
wait_for 15 "health 503" '[[ $(http_get hub /health) == 503 ]]'
body=$(curl -s "http://127.0.0.1:$port/health")
[[ "$body" == *'"postgres":{"status":"DOWN"'* && "$body" == *'"status":"DOWN"'* ]] || fail "health while PostgreSQL is down: $body"
start_server postgres
wait_for 30 "health 200 again" '[[ $(http_get hub /health) == 200 ]]'
log "PostgreSQL down: 503 ($body); back: 200"

# SIGHUP: a lower threshold applies to the next reading.
t=$(now_ms)
pub "energy/ops-00000/reading" "{\"ts\":$t,\"power_w\":3000}"
sleep 1
[[ $(q "SELECT count(*) FROM alerts") == 0 ]] || fail "alert fired above the old threshold"
write_config "" "$(thresholds 2000)"
kill -HUP "$HUB_PID"
wait_for 5 "reload logged" 'grep -q "thresholds reloaded" "$WORK_DIR/hub.log"'
pub "energy/ops-00000/reading" "{\"ts\":$((t + 1000)),\"power_w\":3000}"
wait_for 10 "alert after SIGHUP" '[[ $(q "SELECT count(*) FROM alerts WHERE rule = '"'power_above'"' AND threshold = 2000") == 1 ]]'
log "SIGHUP: the new 2000 W threshold fired on the next reading"

# SIGTERM in the middle of a stream: exits within the bound, and every acknowledged reading is
# stored once the hub is back.
"$FIRMWARE_SIM_BIN" --uri "$ENERGYHUB_MQTT_URI" --devices 20 --device-prefix ops --users 2 --count 150 --rate 50 \
    --qos 1 --start-index 0 --acked-log "$WORK_DIR/acked.tsv" >"$WORK_DIR/sim.log" 2>&1 &
sim=$!
BACKGROUND_PIDS+=("$sim")
sleep 1.5
started=$(date +%s%N)
stop_hub
elapsed_ms=$(( ($(date +%s%N) - started) / 1000000 ))
((elapsed_ms < 20000)) || fail "SIGTERM took ${elapsed_ms} ms (bound: 20 s)"
grep -q "hub stopped" "$WORK_DIR/hub.log" || fail "no clean stop logged"
start_hub
wait "$sim" || true
acked=$(wc -l <"$WORK_DIR/acked.tsv")
q "CREATE TABLE acked (device_id text, ts_ms bigint)"
psql "$DB_DSN" -qc "\\copy acked FROM '$WORK_DIR/acked.tsv'"
wait_for 30 "all acknowledged readings stored" '[[ $(q "SELECT count(*) FROM acked a WHERE NOT EXISTS (SELECT 1 FROM readings r WHERE r.device_id = a.device_id AND (extract(epoch FROM r.ts) * 1000)::bigint = a.ts_ms)") == 0 ]]'
log "SIGTERM mid-stream: stopped in ${elapsed_ms} ms; all $acked acknowledged readings stored"
stop_hub
log "ok"
