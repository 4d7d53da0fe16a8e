#!/usr/bin/env bash
# At least 200 malformed or hostile messages per payload format (tests/corpus/hostile.py) sent
# over MQTT, interleaved with good readings: every bad one is refused with a reason (counted and
# dead-lettered), every good one is stored, and the hub neither crashes nor stalls.
source "$(dirname "$0")/lib.sh"

MQTT_EXTRA="  deadletter_rate: 1000000
  topics:
    discovery_prefix: ''
    devices:
      - {format: tasmota, filter: 'tele/+/SENSOR'}
      - {format: shelly, filter: '+/status/+'}
      - {format: shelly_gen1, filter: 'shellies/+/relay/+/+'}"
write_config
create_database
dev="hostile-$$"
eh user add "u_$$" --email u@example.com >/dev/null
eh device add "$dev" --user "u_$$" >/dev/null
/usr/bin/python3 "$REPO_DIR/tests/corpus/hostile.py" "$dev" "$WORK_DIR/corpus.jsonl"
subscribe "$WORK_DIR/deadletter.txt" energyhub/deadletter
start_hub
port=$(http_port hub)
rejected() { curl -s "http://127.0.0.1:$port/metrics" | awk '$1 ~ /^energyhub_readings_rejected_total/ { n += $2 } END { printf "%d\n", n }'; }
before=$(rejected)

# Raw bytes through files (payloads hold NULs and invalid UTF-8); a good native reading after
# every tenth bad message.
/usr/bin/python3 - "$WORK_DIR/corpus.jsonl" "$WORK_DIR/msg" "$dev" "$MQTT_PORT" <<'PY'
import json, socket, struct, sys, time
corpus, scratch, dev, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

# One MQTT 3.1.1 connection for all messages (one mosquitto_pub per message took minutes).
def varint(n):
    out = bytearray()
    while True:
        n, b = divmod(n, 128)
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)
def utf8(s):
    return struct.pack("!H", len(s)) + s
sock = socket.create_connection(("127.0.0.1", port))
body = utf8(b"MQTT") + bytes([4, 2]) + struct.pack("!H", 60) + utf8(b"hostile-%d" % time.time_ns())
sock.sendall(bytes([0x10]) + varint(len(body)) + body)
assert sock.recv(4)[:2] == b"\x20\x02", "no CONNACK"
def publish(topic, payload):
    body = utf8(topic.encode("utf-8")) + payload  # QoS 0: the broker upgrades it for the hub
    sock.sendall(bytes([0x30]) + varint(len(body)) + body)
t0 = int(time.time() * 1000) - 600_000
good = 0
for i, line in enumerate(open(corpus, encoding="utf-8")):
    m = json.loads(line)
    publish(m["topic"], m["payload"].encode("latin-1"))
    if i % 10 == 9:
        good += 1
        publish(f"energy/{dev}/reading", json.dumps({"ts": t0 + good, "power_w": good}).encode())
sock.sendall(b"\xc0\x00")  # PINGREQ: its answer means the broker has read everything before it
assert sock.recv(2) == b"\xd0\x00", "no PINGRESP"
sock.sendall(b"\xe0\x00")
sock.close()
open(scratch + ".good", "w").write(str(good))
PY
total=$(wc -l <"$WORK_DIR/corpus.jsonl")
good=$(cat "$WORK_DIR/msg.good")
wait_for 60 "all good readings stored" '[[ $(q "SELECT count(*) FROM readings WHERE device_id = '"'$dev'"'") == $good ]]' \
    'echo "$(q "SELECT count(*) FROM readings WHERE device_id = '"'$dev'"'") of $good good readings stored"'
wait_for 30 "every bad message refused" '(( $(rejected) - before >= total ))' 'echo "$(( $(rejected) - before )) of $total refused"'
refused=$(( $(rejected) - before ))
((refused == total)) || fail "$refused refusals for $total hostile messages"
wait_for 20 "a dead letter for each" '(( $(grep -c "^energyhub/deadletter " "$WORK_DIR/deadletter.txt") >= total ))'
reasons=$(grep -o '"reason":"[a-z_]*"' "$WORK_DIR/deadletter.txt" | sort | uniq -c | sort -rn | tr '\n' ' ')
[[ "$(grep -c '"reason"' "$WORK_DIR/deadletter.txt")" -ge "$total" ]] || fail "dead letters without a reason"
kill -0 "$HUB_PID" || fail "the hub died"
[[ -z $(q "SELECT device_id FROM readings WHERE device_id <> '$dev' LIMIT 1") ]] || fail "a hostile id was stored"
log "$total hostile messages refused with reasons ($reasons); $good good readings in between all stored"
stop_hub
log "ok"
