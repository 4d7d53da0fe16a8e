#!/usr/bin/env bash
# Soak: a steady stream (500 readings/s over 1,000 devices, QoS 1) for ENERGYHUB_SOAK_SECONDS
# (default 600) into the hub, with the notifier running and a kettle rule that fires now and then.
# Every ENERGYHUB_SOAK_INTERVAL seconds (default 30) one row: the hub's RSS, open fds and threads,
# PostgreSQL connections to the test database and readings stored. Passes when every acknowledged
# reading is stored once and, after a warm-up, RSS, fds and connections stay flat.
PRIVATE_STACK_PORT=19200
source "$(dirname "$0")/../integration/lib.sh"
source "$(dirname "$0")/../fault/stream.sh"

SOAK_SECONDS=${ENERGYHUB_SOAK_SECONDS:-600}
INTERVAL=${ENERGYHUB_SOAK_INTERVAL:-30}
DEVICES=1000
RATE=500  # readings per second, all devices together
# Caches, batches, Paho's session and malloc's arenas settle in the first minutes; the growth
# checks start after them (the first third of a short run).
WARMUP=$((SOAK_SECONDS / 3 < 120 ? SOAK_SECONDS / 3 : 120))
# RSS may grow by 10 % or 8 MB, whichever is larger: after 2 minutes a 10-minute run has 240k
# readings left, so 8 MB is about 35 bytes per reading, less than any per-reading leak (a buffer, a
# string, a Paho message) would hold, yet above the jitter of allocator arenas and page reuse.
RSS_GROWTH_PCT=10 RSS_GROWTH_MIN_KB=8192
FD_SPREAD=2 CONN_SPREAD=2  # a spool segment rotating, a reconnect in progress

# Kettles (one device in five) boil for 2-4 min about every 90 min: a few dozen firing and resolved
# alerts per 10 minutes for the hub's rule engine and the notifier's emails.
write_config "" "thresholds:
  types:
    kettle: {power_above: {watts: 1800, for: 20s}}"
create_database
start_hub
start_notifier

per_device=$((SOAK_SECONDS * RATE / DEVICES))
start_stream soak "$DEVICES" "$per_device" "$(awk -v r=$RATE -v d=$DEVICES 'BEGIN { print r / d }')"
log "$DEVICES devices at $RATE readings/s for ${SOAK_SECONDS}s, a row every ${INTERVAL}s (warm-up ${WARMUP}s)"

status_field() { awk -v f="$1:" '$1 == f { print $2 }' "/proc/$2/status"; }
fmt_mb() { awk -v kb="$1" 'BEGIN { printf "%.1f", kb / 1024 }'; }

# sample: sets rss fds threads conns stored for the hub (conns: every client on the test database,
# hub and notifier; psql asks from the admin database, so it does not count itself).
sample() {
    [[ -d /proc/$HUB_PID ]] || fail "the hub died during the soak"
    rss=$(status_field VmRSS "$HUB_PID")
    threads=$(status_field Threads "$HUB_PID")
    fds=$(ls "/proc/$HUB_PID/fd" | wc -l)
    conns=$(psql "$ADMIN_DSN" -qAtc "SELECT count(*) FROM pg_stat_activity
                                     WHERE datname = '$DB_NAME' AND backend_type = 'client backend'")
    stored=$(q "SELECT count(*) FROM readings")
}

row() { log "$(printf '%7s %8s %5s %7s %8s %9s %6s' "$@")"; }
row elapsed rss_kb fds threads pg_conns stored rate
start_ms=$(now_ms)
t=0 prev_t=0 prev_stored=0
base_rss="" fd_list=() conn_list=()
while :; do
    sleep "$(awk -v d=$((start_ms + t * 1000 - $(now_ms))) 'BEGIN { print (d > 0 ? d / 1000 : 0) }')"
    sample
    rate=-
    ((t > prev_t)) && rate=$(((stored - prev_stored) / (t - prev_t)))
    row "$t" "$rss" "$fds" "$threads" "$conns" "$stored" "$rate"
    prev_t=$t prev_stored=$stored
    if ((t >= WARMUP)); then
        [[ -n "$base_rss" ]] || base_rss=$rss notifier_base=$(status_field VmRSS "$NOTIFIER_PID")
        fd_list+=("$fds") conn_list+=("$conns")
    fi
    ((t >= SOAK_SECONDS)) && break
    t=$((t + INTERVAL < SOAK_SECONDS ? t + INTERVAL : SOAK_SECONDS))
done
notifier_rss=$(status_field VmRSS "$NOTIFIER_PID")

finish_stream soak

# Growth after the warm-up: RSS last vs first, fds and connections max - min.
spread() { printf '%s\n' "$@" | sort -n | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print hi - lo }'; }
rss_bound=$((base_rss * RSS_GROWTH_PCT / 100 > RSS_GROWTH_MIN_KB ? base_rss * RSS_GROWTH_PCT / 100 : RSS_GROWTH_MIN_KB))
rss_pct=$(awk -v a="$base_rss" -v b="$rss" 'BEGIN { printf "%+.1f", (b - a) * 100 / a }')
alerts=$(q "SELECT count(*) FROM alerts")
log "alerts: $alerts, notified: $(q "SELECT count(*) FROM alerts WHERE notified_at IS NOT NULL"), notifier rss $(fmt_mb "$notifier_base")→$(fmt_mb "$notifier_rss") MB"
# finish_stream has failed the test on any loss or duplicate, so both are 0 here.
summary="soak: $SOAK_SECONDS s at $(($(acked_so_far soak) / SOAK_SECONDS))/s, rss $(fmt_mb "$base_rss")→$(fmt_mb "$rss") MB ($rss_pct%)"
summary+=", fds ${fd_list[0]}→$fds, pg conns ${conn_list[0]}→$conns, lost 0 dup 0"
log "$summary"
((rss - base_rss <= rss_bound)) || fail "RSS grew by $((rss - base_rss)) kB after the warm-up (bound $rss_bound kB)"
(($(spread "${fd_list[@]}") <= FD_SPREAD)) || fail "open fds varied by more than $FD_SPREAD: ${fd_list[*]}"
(($(spread "${conn_list[@]}") <= CONN_SPREAD)) || fail "PostgreSQL connections varied by more than $CONN_SPREAD: ${conn_list[*]}"
((alerts > 0)) || fail "no alert fired: the alert path was not soaked"
stop_hub
log "ok"
