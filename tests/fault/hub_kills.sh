#!/usr/bin/env bash
# The hub killed with SIGKILL at three random points of one stream, then stopped with SIGTERM in
# another: every acknowledged reading is stored exactly once.
PRIVATE_STACK_PORT=19100
source "$(dirname "$0")/../integration/lib.sh"
source "$(dirname "$0")/stream.sh"
write_config
create_database
start_hub
log "$(grep -o 'subscribing .* with QoS [0-9]' "$WORK_DIR/hub.log" | head -1)"
start_stream kill 100 300 40
kill_hub_rounds 3 0.4 1600
finish_stream kill

start_stream term 50 200 50
sleep 1.5
stop_hub
log "SIGTERM mid-stream: clean stop"
start_hub
finish_stream term
stop_hub
log "ok"
