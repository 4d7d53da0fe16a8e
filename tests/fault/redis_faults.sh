#!/usr/bin/env bash
# Redis that accepts connections and never answers, and Redis that answers garbage: lookups time
# out quickly, fall back to PostgreSQL, and no reading waits long or is lost.
PRIVATE_STACK_PORT=19140
source "$(dirname "$0")/../integration/lib.sh"
source "$(dirname "$0")/stream.sh"
fake_port=$((PRIVATE_STACK_PORT + 9))
for mode in stall garbage; do
    /usr/bin/python3 - "$fake_port" "$mode" <<'PY' &
import socket, sys, threading
port, mode = int(sys.argv[1]), sys.argv[2]
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port)); srv.listen(64)
def serve(conn):
    while conn.recv(4096):
        if mode == "garbage":
            conn.sendall(b"%%% not redis %%%\r\n")
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
    fake=$!
    BACKGROUND_PIDS+=("$fake")
    sleep 0.5
    REDIS_URI="redis://127.0.0.1:$fake_port" write_config
    [[ -f "$WORK_DIR/db.created" ]] || { create_database; touch "$WORK_DIR/db.created"; }
    start_hub
    start_stream "redis-$mode" 200 10 10    # 200 devices: 200 cache misses
    finish_stream "redis-$mode"
    grep -q "redis unavailable" "$WORK_DIR/hub.log" || fail "$mode: the hub did not notice Redis misbehaving"
    stop_hub
    kill "$fake"; wait "$fake" 2>/dev/null || true
    log "Redis that does $mode: all stored through PostgreSQL"
done
log "ok"
