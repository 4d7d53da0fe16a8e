#!/usr/bin/env bash
# PostgreSQL stopped for 30 s in the middle of a stream: the hub keeps acknowledging (the spool
# grows, with a metric and a log line), then drains in order; PostgreSQL killed with SIGKILL
# during a stream of batches: nothing lost, nothing doubled.
PRIVATE_STACK_PORT=19110
source "$(dirname "$0")/../integration/lib.sh"
source "$(dirname "$0")/stream.sh"
write_config
create_database
start_hub
start_stream outage 50 100 2   # 50 readings/s for 50 s
sleep 5
stop_server postgres
log "PostgreSQL stopped with $(acked_so_far outage) readings acknowledged"
sleep 5
during=$(hub_metric energyhub_spool_bytes)
sleep 20
after=$(hub_metric energyhub_spool_bytes)
((after > during && during > 0)) || fail "the hub's spool did not take the stream while PostgreSQL was down ($during → $after bytes)"
[[ $(http_get hub /health) == 503 ]] || fail "health is not 503 while PostgreSQL is down"
sleep 5
start_server postgres
log "PostgreSQL back after 30 s; the spool held $during, then $after bytes"
finish_stream outage
grep -q "storing .* readings failed (unavailable), will retry" "$WORK_DIR/hub.log" || fail "no log line about the failed writes"

start_stream crash 50 200 0
sleep 0.7
postmaster=$(head -1 "$ENERGYHUB_RUN_DIR/postgres/data/postmaster.pid")
kill -9 "$postmaster"
log "PostgreSQL postmaster $postmaster killed with SIGKILL mid-stream"
sleep 2
start_server postgres
finish_stream crash
stop_hub
log "ok"
