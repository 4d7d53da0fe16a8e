#!/usr/bin/env bash
# The broker plugin while PostgreSQL is unreachable: devices it already knows keep logging in and
# publishing; once PostgreSQL answers again, a device added then logs in within 10 seconds, and one
# added during the outage too. The plugin reaches PostgreSQL through a TCP proxy this test kills
# and restarts, so the shared PostgreSQL keeps serving every other test.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/broker_lib.sh"

write_config
create_database
eh user add "carol_$$" --email carol@example.com >/dev/null
PA=$(eh device add "meterA_$$" --user "carol_$$" | secret_of)
HUB=$(eh account add "hub_$$" --role service --daemon hub | secret_of)

PROXY_PORT=$(free_port 18950)
PROXY_PID=""
start_proxy() {
    python3 "$(dirname "$0")/tcp_proxy.py" "$PROXY_PORT" 127.0.0.1 "$ENERGYHUB_PG_PORT" >>"$WORK_DIR/proxy.log" 2>&1 &
    PROXY_PID=$!
    BACKGROUND_PIDS+=("$PROXY_PID")
    wait_for 10 "the proxy to listen" 'port_listening $PROXY_PORT'
}
start_proxy
PLUGIN_DSN="postgresql://energyhub@127.0.0.1:$PROXY_PORT/$DB_NAME"
start_broker "plugin_opt_db_timeout 2s"

mqtt_sub "$WORK_DIR/hub.txt" "hub_$$" "$HUB" 'energy/+/reading'
mqtt_pub "meterA_$$" "$PA" "energy/meterA_$$/reading" '{"power_w":0}'
readings() { grep -c "^energy/meterA_$$/reading " "$WORK_DIR/hub.txt"; }
wait_for 10 "the first reading" '[[ $(readings) == 1 ]]'

# PostgreSQL disappears for the plugin.
kill "$PROXY_PID"
wait "$PROXY_PID" 2>/dev/null || true
wait_for 10 "the plugin to notice" 'grep -q "energyhub: registry refresh failed" "$BROKER_LOG"'
PB=$(eh device add "meterB_$$" --user "carol_$$" | secret_of)  # the plugin cannot see it yet
for i in 1 2 3 4 5; do
    connects "meterA_$$" "$PA" || fail "a known device could not log in while PostgreSQL was unreachable"
    mqtt_pub "meterA_$$" "$PA" "energy/meterA_$$/reading" "{\"power_w\":$i}" || fail "a known device could not publish"
    sleep 1
done
connects "hub_$$" "$HUB" || fail "a known account could not log in while PostgreSQL was unreachable"
wait_for 10 "every reading sent during the outage" '[[ $(readings) == 6 ]]'
! connects "meterB_$$" "$PB" || fail "a device the plugin cannot know yet logged in"
kill -0 "$BROKER_PID" || fail "the broker died"
log "known devices kept logging in and publishing for 5s without PostgreSQL"

# PostgreSQL is back.
start_proxy
PC=$(eh device add "meterC_$$" --user "carol_$$" | secret_of)
start=$SECONDS
wait_for 10 "a device added after PostgreSQL returned to log in" 'connects "meterC_$$" "$PC"'
took=$((SECONDS - start))
connects "meterB_$$" "$PB" || fail "the device added during the outage cannot log in"
mqtt_pub "meterC_$$" "$PC" "energy/meterC_$$/reading" '{"power_w":9}'
wait_for 10 "the new device's reading" 'grep -qx "energy/meterC_$$/reading {\"power_w\":9}" "$WORK_DIR/hub.txt"'
grep -q "energyhub: PostgreSQL answers again" "$BROKER_LOG" || fail "no log line for the recovery"
log "after PostgreSQL returned, a new device logged in after ${took}s"

stop_broker
check_asan
log "ok"
