# Helpers for the insight tests, sourced after lib.sh: the fake Ollama server, usage seeded
# straight into the hourly rollup, and JSON checks in Python (standard library only).

PYTHON=${ENERGYHUB_PYTHON:-/usr/bin/python3}
[[ -x "$PYTHON" ]] || PYTHON=python3
INSIGHTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)

# start_fake_ollama [SLOW_SECONDS]: sets OLLAMA_URL; requests are logged to $WORK_DIR/ollama.log.
start_fake_ollama() {
    "$PYTHON" "$INSIGHTS_DIR/fake_ollama.py" --port-file "$WORK_DIR/ollama.port" --log "$WORK_DIR/ollama.log" \
        --slow-seconds "${1:-30}" >"$WORK_DIR/ollama.out" 2>&1 &
    BACKGROUND_PIDS+=($!)
    wait_for 10 "the fake Ollama server" '[[ -s "$WORK_DIR/ollama.port" ]]'
    OLLAMA_URL="http://127.0.0.1:$(cat "$WORK_DIR/ollama.port")"
}

# A closed local port: connecting fails at once.
unused_port() { "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# seed_device USER DEVICE BASE_WH SPREAD_WH EVENING_WH TREND [power]: 16 days of hourly rollup
# rows up to the last full UTC hour. Each hour uses BASE + a deterministic pseudo-random part of
# up to SPREAD, plus EVENING between 16:00 and 20:00 UTC; the last 7 days are scaled by TREND.
# With "power" the device reports only watts (no energy counter): energy_wh stays 0 and the
# rollup holds 4 power samples per hour.
seed_device() {
    local user=$1 device=$2 base=$3 spread=$4 evening=$5 trend=$6 kind=${7:-meter}
    local energy="w" samples=60 psamples=60 psum="60 * w"
    if [[ "$kind" == power ]]; then energy="0"; samples=4; psamples=4; psum="4 * w"; fi
    q "INSERT INTO readings_hourly_folded (device_id, hour, user_id, samples, power_samples, power_sum, power_max, power_min, energy_wh)
       SELECT '$device', h, '$user', $samples, $psamples, $psum, w * 1.5, w * 0.5, $energy
       FROM generate_series(date_trunc('hour', now()) - interval '16 days', date_trunc('hour', now()) - interval '1 hour',
                            interval '1 hour') h,
       LATERAL (SELECT (($base + $spread * (abs(hashtext('$device' || h::text)) % 1000) / 1000.0
                         + CASE WHEN extract(hour FROM h) BETWEEN 16 AND 19 THEN $evening ELSE 0 END)
                        * CASE WHEN h >= now() - interval '7 days' THEN $trend ELSE 1 END)::double precision AS w) x" >/dev/null
}

# insight_json USER: the newest stored insight of USER as one JSON document (the same shape as
# the retained message, from the table).
insight_json() {
    q "SELECT json_build_object('id', id, 'source', source, 'format', format, 'summary', summary,
                                'recommendations', recommendations, 'facts', facts, 'trigger', trigger,
                                'device_id', device_id)
       FROM insights WHERE user_id = '$1' ORDER BY id DESC LIMIT 1"
}

# json_get JSON PYTHON_EXPRESSION: evaluates the expression on the parsed document `d`.
json_get() { "$PYTHON" -c 'import json, sys; d = json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"; }
