# shellcheck shell=bash
# Sourced by scripts/stack.sh. Redis: a cache only (the hub falls back to PostgreSQL), so no
# snapshots and no AOF.

SERVER_KEY[redis]=REDIS
REDIS_CONF=$RUN_DIR/redis.conf
REDIS_LOG=$RUN_DIR/redis.log
REDIS_PID=$RUN_DIR/redis.pid

redis_pid() { live_pid "$REDIS_PID" redis-server; }
redis_ready() { redis_pid >/dev/null && [[ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]]; }

redis_prepare() {
    mkdir -p "$RUN_DIR/redis"
    cat >"$REDIS_CONF.tmp" <<CONF
# Written by scripts/stack.sh at every start; edits are lost.
bind 127.0.0.1
port $REDIS_PORT
protected-mode yes
daemonize yes
supervised no
pidfile $REDIS_PID
logfile $REDIS_LOG
loglevel notice
dir $RUN_DIR/redis
save ""
appendonly no
always-show-logo no
CONF
    mv -f "$REDIS_CONF.tmp" "$REDIS_CONF"
    rm -f "$REDIS_PID"
}

redis_launch() {
    (without_extra_fds redis-server "$REDIS_CONF") </dev/null >>"$REDIS_LOG" 2>&1
}
