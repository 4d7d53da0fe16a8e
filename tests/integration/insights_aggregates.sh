#!/usr/bin/env bash
# energyhub insights --once over two users in different time zones with two weeks of hourly
# rollup: each gets exactly one stored insight and one retained insights/<user> message, whose
# aggregates (kWh per device for yesterday, the last 7 days and the 7 before, the change, the peak
# hour, the night-time base load, the top consumers, costs under a time-of-use tariff, the alerts
# of the period) match the same numbers computed here by separate SQL.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/insights_lib.sh"

write_config
start_fake_ollama
cat >>"$CONFIG" <<YAML
ollama:
  url: $OLLAMA_URL
  model: good
  connect_timeout: 1s
  timeout: 20s
insights:
  timezone: Europe/Berlin
  client_id: insights-$TEST_ID
  tariff:
    per_kwh: 0.30
    currency: EUR
    bands: [{from: "17:00", to: "21:00", per_kwh: 0.45}]
YAML
create_database

berlin="ber_$$"
york="nyc_$$"
eh user add "$berlin" --email b@example.com --tz Europe/Berlin >/dev/null
eh user add "$york" --email n@example.com --tz America/New_York >/dev/null
for d in heat fridge; do eh device add "${d}_$$" --user "$berlin" >/dev/null; done
for d in kettle tv; do eh device add "${d}_$$" --user "$york" >/dev/null; done
eh device add "idle_$$" --user "$york" >/dev/null  # registered, never reported
seed_device "$berlin" "heat_$$" 400 600 900 1.3
seed_device "$berlin" "fridge_$$" 60 40 0 1.0
seed_device "$york" "kettle_$$" 20 300 500 0.8
seed_device "$york" "tv_$$" 30 90 120 1.1 power
# An alert of the period (as the hub stores them), which the facts must carry.
q "INSERT INTO alerts (id, user_id, device_id, rule, state, value, threshold, since, ts, message)
   VALUES ('7b0c52d2-5b4c-4c55-9d59-3f1f0d8e0001', '$berlin', 'heat_$$', 'power_above', 'firing', 3200, 3000,
           now() - interval '2 days', now() - interval '2 days', 'heat above 3000 W')" >/dev/null

# Local midnight in either zone during the test would move "yesterday" between the two queries.
for tz in Europe/Berlin America/New_York; do
    until [[ $(TZ=$tz date +%H%M) != 2359 ]]; do sleep 5; done
done

subscribe "$WORK_DIR/insights.txt" "insights/$berlin" "insights/$york"
started=$SECONDS
eh insights --once >"$WORK_DIR/once.log" 2>&1 || fail "insights --once failed: $(cat "$WORK_DIR/once.log")"
log "insights --once took $((SECONDS - started)) s"
wait_for 10 "two retained insights" '(( $(grep -c "^insights/" "$WORK_DIR/insights.txt") >= 2 ))'

for user in "$berlin" "$york"; do
    [[ $(q "SELECT count(*) FROM insights WHERE user_id = '$user'") == 1 ]] || fail "$user has not exactly one insight"
    stored=$(insight_json "$user")
    retained=$(mosquitto_sub -p "$MQTT_PORT" -h 127.0.0.1 -t "insights/$user" -C 1 -W 5) || fail "no retained insight for $user"

    # The expected numbers, from readings_hourly by other means: local dates of each hour instead
    # of local midnights, FILTER clauses instead of buckets.
    expected=$(q "
      WITH u AS (SELECT user_id, tz, (now() AT TIME ZONE tz)::date AS today FROM users WHERE user_id = '$user'),
      e AS (SELECT h.device_id, (h.hour AT TIME ZONE u.tz) AS local, u.today,
                   (CASE WHEN h.energy_wh > 0 THEN h.energy_wh ELSE h.power_sum / nullif(h.power_samples, 0) END) / 1000.0 AS kwh
            FROM readings_hourly h JOIN u ON u.user_id = h.user_id),
      wk AS (SELECT * FROM e WHERE local::date BETWEEN today - 7 AND today - 1),
      dev AS (SELECT device_id,
                     coalesce(sum(kwh) FILTER (WHERE local::date = today - 1), 0) AS y,
                     coalesce(sum(kwh) FILTER (WHERE local::date BETWEEN today - 7 AND today - 1), 0) AS w,
                     coalesce(sum(kwh) FILTER (WHERE local::date BETWEEN today - 14 AND today - 8), 0) AS p
              FROM e GROUP BY device_id),
      price AS (SELECT kwh * CASE WHEN extract(hour FROM local) >= 17 AND extract(hour FROM local) < 21 THEN 0.45 ELSE 0.30 END AS c,
                       local, today FROM e),
      hours AS (SELECT extract(hour FROM local)::int AS hr, sum(kwh) AS k FROM wk GROUP BY 1),
      night AS (SELECT date_trunc('hour', local) AS at, sum(kwh) * 1000 AS watts FROM wk
                WHERE extract(hour FROM local) < 5 GROUP BY 1)
      SELECT json_build_object(
        'yesterday', (SELECT to_char(today - 1, 'YYYY-MM-DD') FROM u),
        'devices', (SELECT json_object_agg(device_id, json_build_array(y, w, p)) FROM dev),
        'y', (SELECT sum(y) FROM dev), 'w', (SELECT sum(w) FROM dev), 'p', (SELECT sum(p) FROM dev),
        'cost_y', (SELECT sum(c) FROM price WHERE local::date = today - 1),
        'cost_w', (SELECT sum(c) FROM price WHERE local::date BETWEEN today - 7 AND today - 1),
        'peak_hour', (SELECT hr FROM hours ORDER BY k DESC, hr LIMIT 1),
        'base_w', (SELECT min(watts) FROM night),
        'top', (SELECT json_agg(device_id ORDER BY w DESC) FROM (SELECT * FROM dev ORDER BY w DESC LIMIT 3) t),
        'alerts', (SELECT count(*) FROM alerts WHERE user_id = '$user'))")

    "$PYTHON" - "$expected" "$stored" "$retained" "$user" <<'PY' || fail "aggregates of $user do not match (see above)"
import json, sys
expected, stored, retained, user = json.loads(sys.argv[1]), json.loads(sys.argv[2]), json.loads(sys.argv[3]), sys.argv[4]
problems = []
def near(what, got, want, tolerance):
    if got is None or want is None or abs(got - want) > tolerance:
        problems.append("%s: got %s, expected %s" % (what, got, want))
assert retained["id"] == stored["id"], "the retained message is not the stored insight"
for doc, name in ((stored["facts"], "table"), (retained["facts"], "message")):
    if doc["yesterday"]["date"] != expected["yesterday"]:
        problems.append("%s yesterday is %s, expected %s" % (name, doc["yesterday"]["date"], expected["yesterday"]))
    near(name + " kWh yesterday", doc["yesterday"]["kwh"], expected["y"], 0.002)
    near(name + " kWh 7 days", doc["last_7_days"]["kwh"], expected["w"], 0.002)
    near(name + " kWh 7 days before", doc["last_7_days"]["previous_7_days_kwh"], expected["p"], 0.002)
    near(name + " change", doc["last_7_days"]["change_pct"], (expected["w"] - expected["p"]) / expected["p"] * 100, 0.06)
    near(name + " cost yesterday", doc["yesterday"]["cost"], expected["cost_y"], 0.006)
    near(name + " cost 7 days", doc["last_7_days"]["cost"], expected["cost_w"], 0.006)
    if doc["peak_hour"]["hour"] != expected["peak_hour"]:
        problems.append("%s peak hour %s, expected %s" % (name, doc["peak_hour"]["hour"], expected["peak_hour"]))
    near(name + " base load", doc["base_load"]["watts"], expected["base_w"], 0.06)
    if doc["top_consumers"] != expected["top"]:
        problems.append("%s top consumers %s, expected %s" % (name, doc["top_consumers"], expected["top"]))
    devices = {d["device_id"]: d for d in doc["devices"]}
    for device, (y, w, p) in expected["devices"].items():
        d = devices.get(device)
        if d is None:
            problems.append("%s lacks device %s" % (name, device))
            continue
        near("%s %s yesterday" % (name, device), d["kwh_yesterday"], y, 0.002)
        near("%s %s 7 days" % (name, device), d["kwh_7d"], w, 0.002)
        near("%s %s 7 days before" % (name, device), d["kwh_previous_7d"], p, 0.002)
    if len(doc["alerts"]) != expected["alerts"]:
        problems.append("%s has %d alerts, expected %d" % (name, len(doc["alerts"]), expected["alerts"]))
if stored["source"] != "ollama:good" or stored["format"] != "json" or len(stored["recommendations"]) != 3:
    problems.append("advice: source %s format %s with %d recommendations" % (stored["source"], stored["format"], len(stored["recommendations"])))
for r in stored["recommendations"]:
    if r["device_id"] not in expected["devices"] or "estimated_saving_cost_per_month" not in r:
        problems.append("recommendation %s" % r)
for p in problems:
    print("  " + p, file=sys.stderr)
sys.exit(1 if problems else 0)
PY
    log "$user: $(json_get "$stored" '"yesterday %s: %.3f kWh, 7 days %.3f kWh (%+.1f%%), peak %02d:00, base %.1f W, %.2f EUR" % (d["facts"]["yesterday"]["date"], d["facts"]["yesterday"]["kwh"], d["facts"]["last_7_days"]["kwh"], d["facts"]["last_7_days"]["change_pct"], d["facts"]["peak_hour"]["hour"], d["facts"]["base_load"]["watts"], d["facts"]["last_7_days"]["cost"])')"
done

# The idle device is listed with zero use; "--user" limits a run to one user.
[[ $(json_get "$(insight_json "$york")" '[x["kwh_7d"] for x in d["facts"]["devices"] if x["device_id"] == "idle_'$$'"]') == "[0.0]" ]] ||
    fail "the registered device without readings is missing from the facts"
eh insights --once --user "$york" >>"$WORK_DIR/once.log" 2>&1 || fail "insights --once --user failed"
[[ $(q "SELECT count(*) FROM insights WHERE user_id = '$york'") == 2 && $(q "SELECT count(*) FROM insights WHERE user_id = '$berlin'") == 1 ]] ||
    fail "--user did not limit the run to one user"
set +e
eh insights --once --user "nobody_$$" >>"$WORK_DIR/once.log" 2>&1
rc=$?
set -e
[[ $rc == 2 ]] || fail "an unknown user should exit 2, got $rc"
log "ok"
