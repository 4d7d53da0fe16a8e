#!/usr/bin/env bash
# The insights daemon: a scheduled run missed while it was off is made up once at start (not once
# per missed slot); a firing power_above or spike alert on alerts/<user>/<device> yields one
# on-demand insight about that device, and a second alert the same local day does not, also after
# a restart; resolved, other-rule, stale and malformed alerts make none; a restart publishes each
# user's newest insight again; SIGTERM ends it cleanly, even while a slow model holds a request.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/insights_lib.sh"

write_config
start_fake_ollama 60
base_config=$(cat "$CONFIG")
daemon_config() {  # daemon_config MODEL
    cat >"$CONFIG" <<YAML
$base_config
ollama: {url: $OLLAMA_URL, model: $1, connect_timeout: 1s, timeout: 5m}
insights:
  schedule: "0 7 * * *"
  timezone: Europe/Berlin
  client_id: insights-$TEST_ID
  on_demand_per_device_per_day: 1
  on_demand_max_age: 1h
YAML
}
daemon_config good
create_database
alice="alice_$$"
bob="bob_$$"
eh user add "$alice" --email a@example.com --tz Europe/Berlin >/dev/null
eh user add "$bob" --email b@example.com --tz Asia/Tokyo >/dev/null
for d in kettle oven; do eh device add "${d}_$$" --user "$alice" >/dev/null; done
eh device add "tv_$$" --user "$bob" >/dev/null
seed_device "$alice" "kettle_$$" 10 200 600 1.1
seed_device "$alice" "oven_$$" 5 100 900 1.0
seed_device "$bob" "tv_$$" 40 60 80 1.0

# The schedule last ran three days ago: three 07:00 slots were missed.
q "INSERT INTO insight_schedule (name, last_slot) VALUES ('insights', now() - interval '3 days')" >/dev/null

DAEMON_PID=""
start_daemon() {
    "$ENERGYHUB_BIN" insights --config "$CONFIG" >>"$WORK_DIR/hub.log" 2>&1 &
    DAEMON_PID=$!
    BACKGROUND_PIDS+=("$DAEMON_PID")
    wait_for 20 "the daemon subscribed to alerts" '(( $(grep -c "subscribed to alerts/#" "$WORK_DIR/hub.log") >= '"$1"' ))'
}
stop_daemon() {
    local started=$SECONDS rc=0
    kill -TERM "$DAEMON_PID"
    wait "$DAEMON_PID" || rc=$?
    [[ $rc == 0 ]] || fail "the daemon exited with status $rc on SIGTERM"
    (( SECONDS - started <= 5 )) || fail "the daemon took $((SECONDS - started)) s to stop"
}
scheduled() { q "SELECT count(*) FROM insights WHERE trigger = 'schedule' AND user_id IN ('$alice', '$bob')"; }
on_demand() { q "SELECT count(*) FROM insights WHERE trigger = 'alert' AND device_id = '$1'"; }
alert() {  # alert USER DEVICE RULE STATE [AGE_SECONDS]
    local ts
    ts=$(date -u -d "@$(( $(date +%s) - ${5:-0} ))" +%Y-%m-%dT%H:%M:%S.000Z)
    pub "alerts/$1/$2" "{\"id\":\"$(cat /proc/sys/kernel/random/uuid)\",\"user_id\":\"$1\",\"device_id\":\"$2\",\"rule\":\"$3\",\"state\":\"$4\",\"value\":3150,\"threshold\":2500,\"since\":\"$ts\",\"ts\":\"$ts\",\"message\":\"$2 above 2500 W\"}"
}

subscribe "$WORK_DIR/insights.txt" "insights/#"
start_daemon 1
wait_for 20 "the missed run" 'grep -q "insight run done" "$WORK_DIR/hub.log"'
sleep 1
[[ $(scheduled) == 2 ]] || fail "the missed run should make one insight per user, found $(scheduled)"
grep -q "runs were missed since" "$WORK_DIR/hub.log" || fail "the catch-up was not logged"
(( $(grep -c "insight run done" "$WORK_DIR/hub.log") == 1 )) || fail "more than one run for the missed slots"
[[ $(q "SELECT last_slot > now() - interval '1 day' FROM insight_schedule") == t ]] || fail "the last slot was not moved forward"
log "three missed slots made up by one run: $(scheduled) insights"
# Liveness (and the systemd watchdog) follow the scheduler's own heartbeat.
[[ $(http_get hub /health/liveness) == 200 ]] || fail "liveness is not 200 while the scheduler turns"

# A firing power alert: one on-demand insight about the device, published retained.
alert "$alice" "kettle_$$" power_above firing
wait_for 15 "the on-demand insight" '[[ $(on_demand kettle_$$) == 1 ]]'
wait_for 10 "the on-demand insight published" 'grep -q "^insights/$alice .*\"trigger\":\"alert\"" "$WORK_DIR/insights.txt"'
message=$(mosquitto_sub -p "$MQTT_PORT" -h 127.0.0.1 -t "insights/$alice" -C 1 -W 5)
[[ $(json_get "$message" 'd["trigger"], d["device_id"], d["facts"]["focus"]["rule"], d["recommendations"][0]["device_id"]') == \
   "('alert', 'kettle_$$', 'power_above', 'kettle_$$')" ]] || fail "the retained insight is not about the alert: $message"
log "power_above on kettle: on-demand insight $(json_get "$message" 'd["id"]') with the kettle first"

# The same day: no second one, whatever the alert; other rules, resolved and stale alerts: none.
alert "$alice" "kettle_$$" spike firing
wait_for 10 "the rate limit" 'grep -q "already had its on-demand" "$WORK_DIR/hub.log"'
alert "$alice" "oven_$$" power_above resolved
alert "$alice" "oven_$$" device_offline firing
alert "$alice" "oven_$$" power_above firing 7200
wait_for 10 "the stale alert" 'grep -q "older than on_demand_max_age" "$WORK_DIR/hub.log"'
pub "alerts/$alice/oven_$$" '{"id": "broken'
pub "alerts/$bob/oven_$$" "{\"id\":\"x1\",\"user_id\":\"$alice\",\"device_id\":\"oven_$$\",\"rule\":\"spike\",\"state\":\"firing\",\"value\":1,\"threshold\":1,\"since\":\"2026-01-01T00:00:00Z\",\"ts\":\"2026-01-01T00:00:00Z\"}"
wait_for 10 "the malformed and mismatched alerts" 'grep -q "do not match the topic" "$WORK_DIR/hub.log" && grep -q "malformed alert" "$WORK_DIR/hub.log"'
# A spike on bob's device still gets its own.
alert "$bob" "tv_$$" spike firing
wait_for 15 "bob's on-demand insight" '[[ $(on_demand tv_$$) == 1 ]]'
[[ $(on_demand "kettle_$$") == 1 && $(on_demand "oven_$$") == 0 ]] || fail "unexpected on-demand insights"
log "second alert, resolved, other rule, stale, malformed: no insight; bob's spike: one"

# Across a restart: still no second one for the kettle today, and no new scheduled run. Its
# connection publishes each user's newest insight again, page by page (500 users a page): here
# 1,199 more users with an older and a newer insight each, and 300 without any.
stop_daemon
q "INSERT INTO users (user_id, email) SELECT 'page_' || lpad(n::text, 4, '0') || '_$$', 'p@example.com'
   FROM generate_series(1, 1499) n" >/dev/null
q "INSERT INTO insights (user_id, period_start, period_end, source, format, summary, facts, trigger, created_at)
   SELECT 'page_' || lpad(n::text, 4, '0') || '_$$', now() - interval '8 days', now() - interval '1 day', 'rules',
          'rules', v.summary, '{}', 'schedule', now() - v.age
   FROM generate_series(1, 1199) n, (VALUES ('older', interval '2 days'), ('newer', interval '1 day')) v(summary, age)" >/dev/null
with_insight=$(q "SELECT count(DISTINCT user_id) FROM insights")
start_daemon 2
wait_for 20 "the newest insights published again" \
    'grep -q "published the newest insight of $with_insight user(s) again" "$WORK_DIR/hub.log"'
retained=$(mosquitto_sub -p "$MQTT_PORT" -h 127.0.0.1 -t "insights/#" -v --retained-only -W 3 2>/dev/null |
    grep -c "^insights/[a-z_0-9]*_$$ " || true)  # this test's users only: the broker is shared
(( retained == with_insight )) || fail "$retained insights retained, $with_insight users have one"
for u in 0001 0500 0501 1199; do
    message=$(mosquitto_sub -p "$MQTT_PORT" -h 127.0.0.1 -t "insights/page_${u}_$$" -C 1 -W 5)
    [[ $(json_get "$message" 'd["summary"]') == newer ]] || fail "page_${u}'s retained insight is not its newest: $message"
done
log "after a restart: the newest insight of each of $with_insight users published again"
alert "$alice" "kettle_$$" power_above firing
wait_for 10 "the rate limit after restart" '(( $(grep -c "already had its on-demand" "$WORK_DIR/hub.log") >= 2 ))'
[[ $(on_demand "kettle_$$") == 1 && $(scheduled) == 2 ]] || fail "after a restart: kettle $(on_demand "kettle_$$"), scheduled $(scheduled)"
log "after a restart: the kettle's limit holds, nothing run again"

# SIGTERM while the model holds a request (the slow model answers after 60 s).
stop_daemon
daemon_config slow
start_daemon 3
alert "$alice" "oven_$$" power_above firing
wait_for 10 "the request to the slow model" 'grep -q "\"model\": \"slow\"" "$WORK_DIR/ollama.log"'
stop_daemon
grep -q "insights stopped" "$WORK_DIR/hub.log" || fail "no clean stop"
log "SIGTERM during a slow model request: clean exit"
log "ok"
