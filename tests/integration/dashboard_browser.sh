#!/usr/bin/env bash
# The live dashboard in real headless Chromium (Debian's chromium and chromium-driver): while
# firmware-sim publishes native, Tasmota and Shelly readings, the page served by the hub's HTTP
# listener shows each device's live power changing, today's kWh, the 24-hour chart from the
# hourly rollup, the open alert and the latest insight; a device switched to 7 days shows 7 daily
# bars, with their cost from the tariff. The JSON API is checked with curl first,
# including its bearer token (the page is public; the data is not). Saves a screenshot.
source "$(dirname "$0")/lib.sh"

for tool in chromium chromedriver curl; do
    command -v "$tool" >/dev/null || fail "$tool is missing (scripts/install-deps.sh installs it)"
done

TOKEN="dash-token-$$"
MQTT_EXTRA="  tasmota_timezone: UTC
  topics:
    discovery_prefix: ''
    devices:
      - {format: tasmota, filter: 'tele/+/+'}
      - {format: shelly, filter: '+/status/+'}"
write_config "" "insights:
  tariff: {per_kwh: 0.30, currency: EUR}"
sed -i "s/^  insights_listen: .*/&\n  token: $TOKEN/" "$CONFIG"
create_database
prefix="dash$$"
"$FIRMWARE_SIM_BIN" --register-only --config "$CONFIG" --devices 3 --users 1 --device-prefix "$prefix" >/dev/null
user="$prefix-user-0" first="$prefix-00000"

# History for the charts and the panels: a week of past hours of rollup, an open alert (on a device that
# does not report, so that no reading resolves it), an insight.
q "INSERT INTO readings_hourly_folded (device_id, hour, user_id, samples, power_samples, power_sum, power_max, power_min, energy_wh)
   SELECT '$first', date_trunc('hour', now()) - h * interval '1 hour', '$user', 60, 60, 60 * (80 + 60 * sin(h / 3.0)),
          150, 20, 80 + 60 * sin(h / 3.0)
   FROM generate_series(1, 7 * 24) AS h" >/dev/null
q "INSERT INTO alerts (id, user_id, device_id, rule, state, value, threshold, since, ts, message)
   VALUES (gen_random_uuid(), '$user', '$prefix-heater', 'power_above', 'firing', 3150, 3000, now() - interval '3 minutes',
           now() - interval '2 minutes', 'Power above 3000 W for 60 s (3150 W)')" >/dev/null
q "INSERT INTO insights (user_id, period_start, period_end, source, format, summary, recommendations, facts, trigger)
   VALUES ('$user', now() - interval '7 days', now(), 'rules', 'rules', 'Your fridge used 12% more than last week.',
           '[{\"title\":\"Check the fridge door seal\",\"action\":\"Close the door firmly\",\"estimated_saving_kwh_per_month\":3.5}]',
           '{}', 'schedule')" >/dev/null

start_hub
wait_for 20 "the Shelly topic subscribed" 'grep -q "subscribed to +/status/+" "$WORK_DIR/hub.log"'
port=$(grep -o "http listening on 127.0.0.1:[0-9]*" "$WORK_DIR/hub.log" | head -1 | cut -d: -f2)
[[ -n "$port" ]] || fail "no http port in the hub log"
base="http://127.0.0.1:$port"

"$FIRMWARE_SIM_BIN" --devices 3 --users 1 --device-prefix "$prefix" --format mixed --rate 1 --duration 150 \
    --log-level warn >"$WORK_DIR/sim.log" 2>&1 &
BACKGROUND_PIDS+=($!)
wait_for 20 "readings of every format" \
    '[[ $(q "SELECT count(DISTINCT device_id) FROM readings WHERE device_id LIKE '"'$prefix-%'"'") == 3 ]]'

# The API: read-only JSON, behind the token; the page is public.
api() { curl -sf -H "Authorization: Bearer $TOKEN" "$base$1"; }
[[ $(curl -s -o /dev/null -w '%{http_code}' "$base/api/devices") == 401 ]] || fail "the API answers without the token"
[[ $(curl -s -o /dev/null -w '%{http_code}' "$base/") == 200 ]] || fail "the page needs a token"
[[ $(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$base/api/devices/x%20y/usage") == 400 ]] ||
    fail "a bad device id is not refused"
[[ $(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$base/api/devices/nosuch/usage") == 404 ]] ||
    fail "an unknown device is not 404"
api /api/devices >"$WORK_DIR/devices.json" || fail "GET /api/devices failed"
api "/api/devices/$first/usage?since=24h" >"$WORK_DIR/usage.json" || fail "GET usage failed"
api "/api/devices/$first/daily?days=7" >"$WORK_DIR/daily.json" || fail "GET daily failed"
[[ $(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$base/api/devices/$first/daily?days=99") == 400 ]] ||
    fail "days=99 is not refused"
api /api/alerts >"$WORK_DIR/alerts.json" || fail "GET /api/alerts failed"
api "/api/insights/$user" >"$WORK_DIR/insights.json" || fail "GET insights failed"
/usr/bin/python3 - "$WORK_DIR" "$prefix" <<'PY' || fail "the API answers are wrong"
import json, pathlib, sys
work, prefix = pathlib.Path(sys.argv[1]), sys.argv[2]
devices = {d["device_id"]: d for d in json.loads((work / "devices.json").read_text())["devices"]}
assert {f"{prefix}-00000", f"{prefix}-00001", f"{prefix}-00002:0"} <= set(devices), sorted(devices)
shelly = devices[f"{prefix}-00002:0"]
assert shelly["parent_id"] == f"{prefix}-00002" and shelly["channel"] == "0" and shelly["power_w"] is not None, shelly
usage = json.loads((work / "usage.json").read_text())
assert len(usage["hours"]) >= 23 and usage["total_wh"] > 0, usage
daily = json.loads((work / "daily.json").read_text())
assert len(daily["days"]) == 7 and all(d["energy_wh"] > 0 for d in daily["days"][:-1]), daily
assert daily["currency"] == "EUR" and all(abs(d["cost"] - d["energy_wh"] / 1000 * 0.30) < 1e-9 for d in daily["days"]), daily
assert abs(daily["total_wh"] - sum(d["energy_wh"] for d in daily["days"])) < 1e-6, daily
alerts = json.loads((work / "alerts.json").read_text())["alerts"]
assert len(alerts) == 1 and alerts[0]["rule"] == "power_above" and alerts[0]["state"] == "firing", alerts
insights = json.loads((work / "insights.json").read_text())["insights"]
assert len(insights) == 1 and insights[0]["recommendations"][0]["title"] == "Check the fridge door seal", insights
print(f"API: {len(devices)} devices, {len(usage['hours'])} hours of usage, 7 days costing {daily['total_cost']:.2f} EUR, "
      f"{len(alerts)} open alert, 1 insight")
PY
log "JSON API answers (token required, page public)"

# Chromium through chromedriver on a free port, with a fresh profile.
driver_port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
chromedriver --port="$driver_port" >"$WORK_DIR/chromedriver.log" 2>&1 &
BACKGROUND_PIDS+=($!)
wait_for 20 "chromedriver" 'curl -sf "http://127.0.0.1:$driver_port/status" | grep -q "\"ready\": *true"'
shots="${ENERGYHUB_TEST_WORK:-$REPO_DIR/build/test-work}"
/usr/bin/python3 "$REPO_DIR/tests/browser/dashboard_check.py" --driver "http://127.0.0.1:$driver_port" \
    --url "$base/#token=$TOKEN" --profile "$WORK_DIR/chromium-profile" --screenshot "$WORK_DIR/dashboard.png" \
    --alert "Power above 3000 W" --insight "fridge used 12% more" --week "$first" | tee "$WORK_DIR/browser.log" ||
    fail "the dashboard check failed: $(cat "$WORK_DIR/chromedriver.log" | tail -5)"
grep -q "^screenshot: " "$WORK_DIR/browser.log" || fail "no screenshot"
# The work folder goes when the test passes; the picture is kept beside it.
cp "$WORK_DIR/dashboard.png" "$shots/dashboard_browser.png"
log "screenshot: $shots/dashboard_browser.png"
log "ok"
