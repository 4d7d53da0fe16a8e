#!/usr/bin/env bash
# PostgreSQL failover under the hub (scripts/patroni-cluster.sh): two Patroni nodes with
# synchronous replication, the hub given both in one DSN with target_session_attrs=read-write.
# During a stream of QoS-1 readings the primary's node dies (Patroni, postmaster and backends
# SIGKILLed at once); Patroni promotes the standby, the hub's writes fail until then and go to the
# new primary from its spool. Every acknowledged reading is stored exactly once; the notifier,
# connected to the old primary too, emails an alert raised after the failover; the dead node is
# started again and rejoins as the synchronous standby.
source "$(dirname "$0")/../integration/lib.sh"
source "$(dirname "$0")/stream.sh"
export PATRONI_BASE_PORT=19400 PATRONI_DIR
PATRONI_DIR=$(mktemp -d /tmp/energyhub-patroni.XXXXXX)
PATRONI="$REPO_DIR/scripts/patroni-cluster.sh"
EXTRA_CLEANUP+=("'$PATRONI' stop; cp '$PATRONI_DIR'/*.log '$WORK_DIR'/ 2>/dev/null; rm -rf '$PATRONI_DIR'")
"$PATRONI" start >/dev/null
nodes="127.0.0.1:$((PATRONI_BASE_PORT + 1)),127.0.0.1:$((PATRONI_BASE_PORT + 2))"
psql "postgresql://postgres@$nodes/postgres?target_session_attrs=read-write" -qAtc "CREATE DATABASE $DB_NAME"
# libpq tries the next host on a refused connection, not on a refused login: wait until the
# standby has replayed the new database too.
for port in $((PATRONI_BASE_PORT + 1)) $((PATRONI_BASE_PORT + 2)); do
    wait_for 20 "the database on :$port" 'psql "postgresql://postgres@127.0.0.1:$port/$DB_NAME" -qAtc "SELECT 1"'
done
DB_DSN="postgresql://postgres@$nodes/$DB_NAME?target_session_attrs=read-write"
write_config "" "thresholds:
  types:
    heater:
      power_above: {watts: 1000, for: 3s}"
"$ENERGYHUB_BIN" migrate --config "$CONFIG" >/dev/null
eh user add "pf_$$" --email "pf_$$@example.com" >/dev/null
eh device add "heater_$$" --user "pf_$$" --type heater >/dev/null
start_hub
start_notifier

start_stream failover 100 150 10  # 100 devices, 10 readings/s each for 15 s
sleep 4
old=$("$PATRONI" kill-leader)
log "primary pg$old SIGKILLed with $(acked_so_far failover) readings acknowledged"
wait_for 60 "a new primary" 'new=$("$PATRONI" leader) && ((new != old))'
log "pg$new promoted"
finish_stream failover
grep -q "storing .* readings failed (unavailable), will retry" "$WORK_DIR/hub.log" ||
    fail "the hub never noticed the primary was gone: the test did not test a failover"

t0=$(now_ms)
for i in $(seq 0 5); do echo "{\"ts\":$((t0 + i * 1000)),\"power_w\":1500}"; done |
    mosquitto_pub -p "$MQTT_PORT" -h 127.0.0.1 -q 1 -t "energy/heater_$$/reading" -l
wait_for 30 "the notifier's email of an alert raised after the failover" '[[ -n $(mails_to "pf_$$@example.com") ]]'
grep -q "cannot read alerts (unavailable), will retry" "$WORK_DIR/notifier.log" ||
    fail "the notifier never noticed the primary was gone"
log "the notifier emailed an alert from the new primary: $(mails_to "pf_$$@example.com" | cut -f1)"

"$PATRONI" start-node "$old"
log "pg$old rejoined as the synchronous standby"
stop_hub
log "ok"
