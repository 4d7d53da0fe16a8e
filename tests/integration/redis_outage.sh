#!/usr/bin/env bash
# Redis stopped mid-stream: ingestion goes on from PostgreSQL (cached devices and new lookups
# alike); Redis started again is used again.
source "$(dirname "$0")/lib.sh"

write_config
create_database
eh user add "dora_$$" --email dora@example.com >/dev/null
for d in a b c; do eh device add "${d}_$$" --user "dora_$$" >/dev/null; done
redis() { redis-cli -h 127.0.0.1 -p "$ENERGYHUB_REDIS_PORT" "$@"; }
redis DEL "energyhub:device:a_$$" "energyhub:device:b_$$" "energyhub:device:c_$$" >/dev/null
count() { q "SELECT count(*) FROM readings"; }

start_hub
pub "energy/a_$$/reading" '{"power_w":1}'
wait_for 10 "first reading" '[[ $(count) == 1 ]]'
[[ "$(redis GET "energyhub:device:a_$$")" == *"dora_$$"* ]] || fail "device a was not cached in Redis"
log "device a looked up in PostgreSQL and cached in Redis"

stop_server redis
pub "energy/a_$$/reading" '{"power_w":2}'   # in the hub's own cache
pub "energy/b_$$/reading" '{"power_w":3}'   # not cached anywhere: PostgreSQL must answer
wait_for 15 "readings stored while Redis is down" '[[ $(count) == 3 ]]'
grep -q "redis unavailable" "$WORK_DIR/hub.log" || fail "the hub did not notice Redis going away"
log "Redis down: readings of a cached and an uncached device were stored"

start_server redis
sleep 1.5  # longer than redis.retry_interval
pub "energy/c_$$/reading" '{"power_w":4}'
wait_for 10 "reading after Redis returned" '[[ $(count) == 4 ]]'
wait_for 5 "device c cached in Redis again" '[[ $(redis GET "energyhub:device:c_$$") == *"dora_$$"* ]]'
grep -q "redis is back" "$WORK_DIR/hub.log" || fail "the hub did not log Redis returning"
stop_hub
log "ok"
