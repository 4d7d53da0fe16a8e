#!/usr/bin/env bash
# The spool's disk fills up while PostgreSQL is down: the hub stops acknowledging (backpressure)
# instead of dropping readings, logs it, and recovers when the database and the space return.
PRIVATE_STACK_PORT=19130
source "$(dirname "$0")/../integration/lib.sh"
source "$(dirname "$0")/stream.sh"
write_config "  spool_max: 64MB
  spool_segment: 64KB"
create_database
mkdir -p "$WORK_DIR/state/spool"
mount -t tmpfs -o size=1m tmpfs "$WORK_DIR/state/spool" || fail "cannot mount a small tmpfs (needs root)"
EXTRA_CLEANUP+=("umount '$WORK_DIR/state/spool'")
register_stream full 20
start_hub
stop_server postgres
start_stream full 20 500 50    # ~10,000 readings of ~190 bytes: more than 1 MB
wait_for 60 "the spool's disk full" 'grep -q "spool write failed" "$WORK_DIR/hub.log"'
sleep 2
stalled=$(hub_metric energyhub_spool_bytes)
sleep 3
((stalled == $(hub_metric energyhub_spool_bytes))) || fail "the spool kept growing with a full disk"
(( $(hub_metric energyhub_spool_waits_total) >= 1 )) || fail "no spool wait counted"
log "disk full: the hub holds its acknowledgements with $stalled bytes spooled; the broker keeps the rest"
start_server postgres
finish_stream full
stop_hub
log "ok"
