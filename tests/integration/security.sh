#!/usr/bin/env bash
# What an authenticated device, a crafted name or a foreign web page could still do, closed:
# readings replayed from the broker's retained store are not stored again at every hub start (a
# retained LWT still sets availability); a tokenless loopback listener answers only requests
# addressed to a loopback name (DNS rebinding), and slow or idle clients cannot keep /health and
# /metrics from answering; secrets in the SMTP and Ollama URLs never reach a
# log line, and check-config refuses credentials in the MQTT URI; names that carry markup, a
# would-be MIME boundary and hundreds of non-ASCII characters still make an alert email that
# arrives intact, with two parts and the exact subject, every line within the limits.
source "$(dirname "$0")/lib.sh"

MQTT_EXTRA="  topics:
    discovery_prefix: ''
    devices:
      - {format: tasmota, filter: 'tele/+/+'}"
write_config "" "thresholds:
  defaults:
    power_above: {watts: 1000}
ollama:
  url: http://bot:0llamapw@127.0.0.1:9
  connect_timeout: 1s
  timeout: 2s
  retries: 0"
create_database
ADDR="eve_$$@example.com"
user="eve_$$" plug="plug_$$" tasmota="tasmota_$$" long="long_$$"
eh user add "$user" --email "$ADDR" --name "Eve <script>" >/dev/null
eh device add "$plug" --user "$user" >/dev/null
eh device add "$tasmota" --user "$user" >/dev/null
# --- Retained readings are old news ---------------------------------------------------------
clear_retained() { mosquitto_pub -p "$MQTT_PORT" -h 127.0.0.1 -r -n -t "energy/$plug/reading"; mosquitto_pub -p "$MQTT_PORT" -h 127.0.0.1 -r -n -t "tele/$tasmota/LWT"; }
EXTRA_CLEANUP+=(clear_retained)
mosquitto_pub -p "$MQTT_PORT" -h 127.0.0.1 -q 1 -r -t "energy/$plug/reading" -m '{"power_w":50}'
mosquitto_pub -p "$MQTT_PORT" -h 127.0.0.1 -q 1 -r -t "tele/$tasmota/LWT" -m 'Offline'
subscribe "$WORK_DIR/availability.txt" "energy/$user/+/availability"
start_hub
wait_for 10 "the retained LWT as availability" 'grep -q "^energy/$user/$tasmota/availability offline" "$WORK_DIR/availability.txt"'
pub "energy/$plug/reading" '{"power_w":60}'
wait_for 10 "the live reading" '[[ $(q "SELECT count(*) FROM readings WHERE device_id = '"'$plug'"'") -ge 1 ]]'
stop_hub
start_hub
sleep 1
got=$(q "SELECT string_agg(power_w::text, ',') FROM readings WHERE device_id = '$plug'")
[[ "$got" == 60 ]] || fail "stored readings are $got: a retained reading was stored as new"
port=$(http_port hub)
metric=$(curl -s "http://127.0.0.1:$port/metrics" | sed -n 's/^energyhub_readings_retained_total \([0-9.e+]*\)$/\1/p')
[[ "$metric" == 1 ]] || fail "energyhub_readings_retained_total is '$metric', want 1 (this run's replay)"
log "a retained reading was replayed at both starts and stored at neither; the retained LWT set availability"

# --- DNS rebinding: the tokenless loopback API answers loopback names only --------------------
[[ "$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: evil.example' "http://127.0.0.1:$port/api/devices")" == 403 ]] ||
    fail "the API answered a request addressed to evil.example"
[[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Host: localhost:$port" "http://127.0.0.1:$port/api/devices")" == 200 ]] ||
    fail "the API refused localhost"
[[ "$(http_get hub /api/devices)" == 200 ]] || fail "the API refused 127.0.0.1"
log "Host evil.example gets 403, loopback names 200"

# --- Slow clients cannot take the probes away -----------------------------------------------
# 200 connections that dribble a request head (50 from each of four addresses), and 80 idle ones
# from a fifth: while they are open, /health and /metrics answer at once, and one address keeps at
# most 64 connections.
/usr/bin/python3 - "$port" <<'PY' || fail "probes did not answer beside slow clients"
import select, socket, sys, time, urllib.request
port = int(sys.argv[1])
slow = []
for source in range(2, 6):
    for _ in range(50):
        s = socket.create_connection(("127.0.0.1", port), source_address=(f"127.0.0.{source}", 0))
        s.sendall(b"GET /api/devices HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and never the end of the head
        slow.append(s)
idle = []
for _ in range(80):
    idle.append(socket.create_connection(("127.0.0.1", port), source_address=("127.0.0.9", 0)))
time.sleep(0.5)
worst = 0.0
for _ in range(10):
    for path in ("/health", "/metrics"):
        t = time.monotonic()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            assert r.status in (200, 503), r.status
        worst = max(worst, time.monotonic() - t)
    for s in slow:
        s.sendall(b"X")  # keep dribbling
# A connection the server closed is readable (end of file); an open idle one is not.
readable, _, _ = select.select(idle, [], [], 0.5)
open_idle = len(idle) - len(readable)
assert worst < 1.0, f"a probe took {worst:.2f} s"
assert open_idle <= 64, f"{open_idle} idle connections from one address were kept"
print(f"20 probes beside 200 slow clients, slowest {worst * 1000:.0f} ms; {open_idle} of 80 idle connections kept")
PY
log "200 slow clients do not delay /health and /metrics; one address keeps at most 64 connections"

# --- Names that try to break the email ------------------------------------------------------
hostile='--energyhub-alt-1 <b>Küche</b> "€" & Content-Type: text/html'
eh device add "heater_$$" --user "$user" --name "$hostile" >/dev/null
eh device add "$long" --user "$user" >/dev/null
# A name stored before names were bounded: 720 characters (over 1,000 bytes), 4-byte ones among them.
q "UPDATE devices SET name = repeat('Überlänge 🔥 ', 60) WHERE device_id = '$long'" >/dev/null
sleep 1.5  # the hub's change log poll
start_notifier
pub "energy/heater_$$/reading" '{"power_w":2500}'
pub "energy/$long/reading" '{"power_w":2600}'
wait_for 20 "both alert emails" '(( $(mails_to "$ADDR" | wc -l) >= 2 ))'
/usr/bin/python3 - "$ENERGYHUB_MAIL_DIR" "$ADDR" "$hostile" "$(q "SELECT name FROM devices WHERE device_id = '$long'")" <<'PY' || fail "an alert email did not arrive intact"
import email, email.policy, json, pathlib, sys
mail_dir, addr, hostile, long_name = sys.argv[1:]
seen = set()
for meta_path in sorted(pathlib.Path(mail_dir).glob("*.json")):
    meta = json.loads(meta_path.read_text())
    if addr not in meta["rcpt_tos"]:
        continue
    raw = (pathlib.Path(mail_dir) / meta["eml"]).read_bytes()
    for line in raw.split(b"\r\n"):
        assert len(line) <= 998, f"a line of {len(line)} bytes"
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    parts = [p.get_content_type() for p in msg.walk() if not p.is_multipart()]
    assert parts == ["text/plain", "text/html"], parts
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    for name in (hostile, long_name):
        if msg["Subject"] == f"[energyhub] {name}: high power (firing)":
            assert name in text, "the name is not in the text part"
            assert "&lt;b&gt;" in html or "<b>" not in name, "markup of the name reached the HTML unescaped"
            seen.add(name)
assert seen == {hostile, long_name}, f"subjects seen for {len(seen)} of 2 names"
print("both emails: two parts, exact subjects, lines within 998 bytes")
PY
log "a hostile name and a 720-character name each made an intact two-part email with the exact subject"

# --- Secrets in URLs stay out of the logs --------------------------------------------------
stop_notifier() { kill -TERM "$NOTIFIER_PID"; wait "$NOTIFIER_PID" || true; }
stop_notifier
sed -i "s|  url: $ENERGYHUB_SMTP_URL|  url: ${ENERGYHUB_SMTP_URL/smtp:\/\//smtp://mailer:s3cretpw@}|" "$CONFIG"
grep -q "mailer:s3cretpw@" "$CONFIG" || fail "the SMTP URL with credentials is not in the config"
"$ENERGYHUB_BIN" notifier --config "$CONFIG" >"$WORK_DIR/notifier-secret.log" 2>&1 &
NOTIFIER_PID=$!
wait_for 20 "the notifier with a password in its URL" 'grep -q "subscribed to" "$WORK_DIR/notifier-secret.log"'
stop_notifier
"$ENERGYHUB_BIN" insights --once --config "$CONFIG" >"$WORK_DIR/insights.log" 2>&1 || true
grep -q "mailer:\*\*\*@" "$WORK_DIR/notifier-secret.log" || fail "the notifier does not say where it sends mail: $(head -5 "$WORK_DIR/notifier-secret.log")"
grep -q "bot:\*\*\*@127.0.0.1:9" "$WORK_DIR/insights.log" || fail "insights do not say which Ollama they tried: $(cat "$WORK_DIR/insights.log")"
if grep -l "s3cretpw\|0llamapw" "$WORK_DIR"/*.log; then fail "a password reached a log"; fi
sed -i "s|  uri: $ENERGYHUB_MQTT_URI|  uri: ${ENERGYHUB_MQTT_URI/tcp:\/\//tcp://hub:mqttpw@}|" "$CONFIG"
out=$("$ENERGYHUB_BIN" check-config "$CONFIG" 2>&1) && fail "check-config accepted credentials in mqtt.uri"
[[ "$out" == *"mqtt.uri: must not carry a user name or password"* && "$out" != *mqttpw* ]] || fail "check-config said: $out"
log "SMTP and Ollama passwords are masked in the logs; check-config refuses credentials in mqtt.uri"

stop_hub
log "ok"
