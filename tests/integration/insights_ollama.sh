#!/usr/bin/env bash
# The Ollama client's real code over real HTTP, against tests/integration/fake_ollama.py: the
# request it sends, inline reasoning removed, a code fence tolerated, text kept when the model
# ignores the format, and every failure (timeout, 500, malformed body, oversized answer, refused
# connection, unknown model) ending in a "rules" insight with a warning, within the configured
# timeout plus a small margin, never a crash.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/insights_lib.sh"

write_config
start_fake_ollama 20
base_config=$(cat "$CONFIG")
create_database
user="u_$$"
eh user add "$user" --email u@example.com --tz Europe/Berlin >/dev/null
eh device add "heat_$$" --user "$user" >/dev/null
eh device add "fridge_$$" --user "$user" >/dev/null
seed_device "$user" "heat_$$" 300 500 800 1.2
seed_device "$user" "fridge_$$" 50 30 0 1.0

# run_model NAME [URL] [TIMEOUT]: one --once run for the user with that model; sets OUT (its log),
# RC, ELAPSED_MS (the whole process), RUN_MS (the run) and INSIGHT (the stored insight as JSON).
run_model() {
    local model=$1 url=${2:-$OLLAMA_URL} timeout=${3:-10s}
    local config="$WORK_DIR/$model.yaml"
    cat >"$config" <<YAML
$base_config
ollama:
  url: $url
  model: $model
  connect_timeout: 1s
  timeout: $timeout
  retries: 2
  retry_backoff: 200ms
  temperature: 0.1
  num_predict: 512
  keep_alive: 10m
  max_answer_bytes: 256KB
insights:
  timezone: Europe/Berlin
  client_id: insights-$TEST_ID
YAML
    local start
    start=$(now_ms)
    set +e
    "$ENERGYHUB_BIN" insights --once --user "$user" --config "$config" >"$WORK_DIR/$model.log" 2>&1
    RC=$?
    set -e
    ELAPSED_MS=$(($(now_ms) - start))
    OUT=$(cat "$WORK_DIR/$model.log")
    # The run itself, as the daemon measured it (the process also starts, connects and stops).
    RUN_MS=$(sed -n 's/.*insight run done: .* in \([0-9]*\) ms$/\1/p' "$WORK_DIR/$model.log")
    INSIGHT=$(insight_json "$user")
    [[ $RC == 0 ]] || fail "$model: exit status $RC: $OUT"
}
field() { json_get "$INSIGHT" "$1"; }
requests_for() { grep -c "\"model\": \"$1\"" "$WORK_DIR/ollama.log" || true; }

# The request as Ollama documents it, and structured advice about the user's own devices.
run_model good
[[ $(field 'd["source"], d["format"], len(d["recommendations"])') == "('ollama:good', 'json', 3)" ]] || fail "good: $INSIGHT"
[[ $(field 'sorted({r["device_id"] for r in d["recommendations"]})') == "['fridge_$$', 'heat_$$']" ]] || fail "good: advice is not about the user's devices: $INSIGHT"
request=$(grep '"model": "good"' "$WORK_DIR/ollama.log" | tail -n 1)
[[ $(json_get "$request" '(lambda b: (b["model"], b["stream"], b["think"], b["options"]["temperature"], b["options"]["num_predict"], b["keep_alive"], b["format"]["type"], [m["role"] for m in b["messages"]], b["messages"][1]["content"].startswith("Facts: {")))(d["body"])') == \
   "('good', False, False, 0.1, 512, 600, 'object', ['system', 'user'], True)" ]] || fail "good: unexpected request $request"
log "good: structured advice; request had stream=false, think=false, options, keep_alive and a JSON schema format"

# Inline reasoning, with and without the opening tag, and a code fence around the JSON.
for model in think think-unopened fenced; do
    run_model "$model"
    [[ $(field 'd["source"], d["format"], len(d["recommendations"])') == "('ollama:$model', 'json', 3)" ]] || fail "$model: $INSIGHT"
    [[ $(field 'd["summary"]') == "You used "*" kWh in the last 7 days." ]] || fail "$model: reasoning left in the summary: $INSIGHT"
    [[ $(field 'any(s in json.dumps(d) for s in ("think>", "not this", "Let me look", "```"))') == False ]] ||
        fail "$model: reasoning or fence stored: $INSIGHT"
done
log "think, think-unopened, fenced: reasoning and fences removed, JSON advice kept"

# A model that ignores the format: its text is kept, marked as text; cut-off JSON likewise.
run_model text
[[ $(field 'd["source"], d["format"], d["recommendations"]') == "('ollama:text', 'text', [])" ]] || fail "text: $INSIGHT"
[[ $(field 'd["summary"]') == "Switch off the kettle"* ]] || fail "text: summary is not the model's text: $INSIGHT"
[[ "$OUT" == *"did not answer in the requested JSON"* ]] || fail "text: no warning"
run_model badcontent
[[ $(field 'd["source"], d["format"]') == "('ollama:badcontent', 'text')" ]] || fail "badcontent: $INSIGHT"
log "text, badcontent: kept as text with a warning"

# Failures: a rules insight with three recommendations and a warning, every time.
expect_rules() {
    local model=$1 warning=$2
    [[ $(field 'd["source"], d["format"], len(d["recommendations"])') == "('rules', 'rules', 3)" ]] || fail "$model: expected rules: $INSIGHT"
    [[ "$OUT" == *"warning insights: ollama:$model gave no advice"*"$warning"* ]] || fail "$model: no warning with '$warning': $OUT"
}
run_model think-only
expect_rules think-only "empty once its reasoning is removed"
run_model badjson
expect_rules badjson "not JSON"
run_model huge
expect_rules huge "larger than max_answer_bytes"
run_model missing-model
expect_rules missing-model "HTTP 404"
[[ "$OUT" == *"ollama pull missing-model"* ]] || fail "missing-model: the warning does not say how to get the model: $OUT"
(( $(requests_for missing-model) == 1 )) || fail "a 404 must not be retried"
log "think-only, badjson, huge, missing-model: rules with a warning"

run_model error500
expect_rules error500 "HTTP 500"
(( $(requests_for error500) == 3 )) || fail "error500: expected 1 request + 2 retries, got $(requests_for error500)"
[[ "$OUT" == *"retry 2 of 2"* ]] || fail "error500: retries not logged"
(( RUN_MS < 10000 + 500 )) || fail "error500: the run took $RUN_MS ms"
log "error500: 3 attempts with backoff, then rules, in $RUN_MS ms"

run_model flaky
[[ $(field 'd["source"], d["format"]') == "('ollama:flaky', 'json')" ]] || fail "flaky: a retry should have succeeded: $INSIGHT"
log "flaky: a 500 then an answer: the retry succeeded"

# Timeout: the slow model holds the request for 20 s; with timeout 2s the run must end well
# before, with a rules insight.
run_model slow "$OLLAMA_URL" 2s
expect_rules slow "timeout"
(( RUN_MS < 2000 + 500 && ELAPSED_MS < 2000 + 5000 )) || fail "slow: the run took $RUN_MS ms (process $ELAPSED_MS ms) with a 2 s timeout"
(( $(requests_for slow) == 1 )) || fail "slow: a timed-out request must not be retried"
log "slow: timed out, rules insight after $RUN_MS ms (timeout 2000 ms; process $ELAPSED_MS ms)"

# Nothing listening: refused at once, retried, rules.
run_model unreachable "http://127.0.0.1:$(unused_port)" 5s
expect_rules unreachable "Couldn't connect"
(( RUN_MS < 5000 + 500 )) || fail "unreachable: the run took $RUN_MS ms"
log "unreachable: rules after $RUN_MS ms"

[[ $(q "SELECT count(*) FROM insights WHERE user_id = '$user'") == 14 ]] || fail "expected 14 insights, one per run"

# check-config --connect: a model the server has is OK; one it lacks fails and says how to get it.
out=$("$ENERGYHUB_BIN" check-config "$WORK_DIR/good.yaml" --connect 2>&1) || fail "check-config --connect failed with the model there: $out"
grep -q "^ollama: ok (.*, model good)" <<<"$out" || fail "check-config --connect did not check the model: $out"
sed 's/^  model: good$/  model: notpulled/' "$WORK_DIR/good.yaml" >"$WORK_DIR/notpulled.yaml"
out=$("$ENERGYHUB_BIN" check-config "$WORK_DIR/notpulled.yaml" --connect 2>&1) && fail "check-config --connect passed without the model: $out"
grep -q "^ollama: FAILED (.*, model notpulled): the model is not there: run 'ollama pull notpulled'" <<<"$out" ||
    fail "check-config --connect did not say how to get the model: $out"
log "check-config --connect: the model present is ok; a missing one fails with 'ollama pull notpulled'"
for server in postgres mqtt smtp; do
    grep -q "^$server: ok (127.0.0.1:" <<<"$out" || fail "check-config --connect did not probe $server: $out"
done

# A schema one migration behind is not ready for the daemons: said, with the command that fixes it.
latest=$(q "SELECT max(version) FROM schema_migrations")
q "DELETE FROM schema_migrations WHERE version = $latest"
out=$("$ENERGYHUB_BIN" check-config "$WORK_DIR/good.yaml" --connect 2>&1) && fail "check-config --connect passed a schema behind: $out"
grep -q "^postgres: FAILED (127.0.0.1:[0-9]*): 1 of $latest migrations not applied: run 'energyhub migrate'" <<<"$out" ||
    fail "check-config --connect did not name the missing migration: $out"
log "check-config --connect: postgres, mqtt and smtp probed; a schema one migration behind refused"
log "ok"
