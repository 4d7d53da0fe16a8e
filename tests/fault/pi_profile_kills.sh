#!/usr/bin/env bash
# The Raspberry Pi profile (config/pi) keeps the guarantee against process kills: PostgreSQL with
# the profile's settings, the hub with the drop-in's state folder on a RAM file system, its spool
# size and flush interval, the broker with the profile's autosave interval. The hub SIGKILLed
# twice and PostgreSQL once mid-stream: every acknowledged reading stored exactly once. (A power
# cut is what the profile gives up: the spool in RAM is gone then; docs/raspberry-pi.md.)
PRIVATE_STACK_PORT=19160
source "$(dirname "$0")/../../scripts/pi-profile.sh"
# The broker's half, read from a conf.d folder as Debian's Mosquitto reads its drop-ins.
ENERGYHUB_MOSQUITTO_CONF_D=$(mktemp -d)
export ENERGYHUB_MOSQUITTO_CONF_D
pi_mosquitto_conf_d "$ENERGYHUB_MOSQUITTO_CONF_D"
source "$(dirname "$0")/../integration/lib.sh"
source "$(dirname "$0")/stream.sh"
EXTRA_CLEANUP+=("rm -rf '$ENERGYHUB_MOSQUITTO_CONF_D'")

# PostgreSQL's half of the profile, on the private server.
pi_postgres "$ADMIN_DSN" SET
sleep 0.5
[[ $(psql "$ADMIN_DSN" -tAc "SHOW checkpoint_timeout") == 30min ]] || fail "the profile's checkpoint_timeout is not in effect"

# The hub's half: the drop-in's environment, its state folder on a tmpfs as /run is on the Pi.
STATE=$(mktemp -d /dev/shm/energyhub-pi-test.XXXXXX)
EXTRA_CLEANUP+=("rm -rf '$STATE'")
[[ $(stat -f -c %T "$STATE") == tmpfs ]] || fail "$STATE is not on a tmpfs"
[[ -n $(pi_env ENERGYHUB_FLUSH_INTERVAL) && -n $(pi_env ENERGYHUB_SPOOL_MAX) ]] || fail "the drop-in sets no flush interval or spool size"
write_config
sed -i -e "s|^  state_dir: .*|  state_dir: $STATE|" -e "s|^  flush_interval: .*|  flush_interval: $(pi_env ENERGYHUB_FLUSH_INTERVAL)\n  spool_max: $(pi_env ENERGYHUB_SPOOL_MAX)|" "$CONFIG"
create_database
start_hub
[[ -n $(ls "$STATE") ]] || fail "the hub keeps nothing in its state folder $STATE"

start_stream pi 100 400 40   # 10 s
kill_hub_rounds 2 1 2000
sleep 1.5
postmaster=$(head -1 "$ENERGYHUB_RUN_DIR/postgres/data/postmaster.pid")
kill -9 "$postmaster"
log "PostgreSQL postmaster $postmaster SIGKILLed with $(acked_so_far pi) readings acknowledged"
sleep 2
start_server postgres
finish_stream pi
stop_hub
# The shipped config saves every 10 s; the profile's drop-in every 5 minutes, so not once yet.
saves=$(grep -c "Saving in-memory database" "$ENERGYHUB_RUN_DIR/mosquitto.log" || true)
((SECONDS >= 15)) || fail "the test ran only $SECONDS s: too short to see the broker's autosave interval"
((saves == 0)) || fail "the broker saved its database $saves times in $SECONDS s: the profile's autosave_interval is not in effect"
log "ok"
