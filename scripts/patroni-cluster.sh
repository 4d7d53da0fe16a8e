#!/usr/bin/env bash
# PostgreSQL that survives its primary (docs/scale-out.md): two PostgreSQL 15 nodes run by Patroni
# on loopback, with synchronous replication (a commit returns once the standby has it, so the
# standby Patroni promotes holds every acknowledged transaction) and Patroni's built-in Raft for
# the leader lock; a third Raft member without PostgreSQL (patroni_raft_controller) keeps a
# majority when a whole node dies. Clients give both nodes in one DSN with
# target_session_attrs=read-write and land on whichever is the primary.
#
# Usage: scripts/patroni-cluster.sh start|stop|status|env|leader|kill-leader|start-node NODE
# Environment: PATRONI_BASE_PORT (default 24300; node n (1, 2) serves PostgreSQL on base+n, its
# REST API on base+10+n, Raft on base+20+n; the Raft witness on base+23), PATRONI_DIR (default
# /tmp/energyhub-patroni-$UID: configs, logs, data; the PostgreSQL account must reach it).
set -euo pipefail
cd "$(dirname "$0")/.."
BASE=${PATRONI_BASE_PORT:-24300}
DIR=$(realpath -m "${PATRONI_DIR:-/tmp/energyhub-patroni-$UID}")
PG_BIN=${ENERGYHUB_PG_BIN:-/usr/lib/postgresql/15/bin}
NODES=(1 2)
say() { echo "patroni-cluster: $*"; }
die() { echo "patroni-cluster: error: $*" >&2; exit 1; }

# PostgreSQL refuses to run as root: as root, Patroni runs as the postgresql package's account.
if ((EUID == 0)); then AS_PG=(runuser -u postgres --); else AS_PG=(); fi
as_pg() { (cd / && "${AS_PG[@]}" "$@"); }

rest() { echo $((BASE + 10 + $1)); }
raft() { echo "127.0.0.1:$((BASE + 20 + $1))"; }
pid_of() { [[ -r "$DIR/$1.pid" ]] && kill -0 "$(cat "$DIR/$1.pid")" 2>/dev/null && cat "$DIR/$1.pid"; }
# HTTP status of a Patroni REST endpoint of node $1: 200 for /primary on the primary, for /sync on
# the synchronous standby.
role() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$(rest "$1")/$2" 2>/dev/null || true; }
leader() {
    local n
    for n in "${NODES[@]}"; do [[ $(role "$n" primary) == 200 ]] && { echo "$n"; return; }; done
    return 1
}

write_configs() {
    local n others
    for n in "${NODES[@]}"; do
        others="$(raft $((3 - n))), $(raft 3)"
        cat >"$DIR/pg$n.yml" <<YAML
# Written by scripts/patroni-cluster.sh at every start; edits are lost.
scope: energyhub
name: pg$n
log: {level: WARNING}
restapi: {listen: "127.0.0.1:$(rest "$n")", connect_address: "127.0.0.1:$(rest "$n")"}
raft: {data_dir: "$DIR/raft$n", self_addr: "$(raft "$n")", partner_addrs: [$others]}
bootstrap:
  dcs:
    # A dead primary's lock expires after ttl: failover in about 10 s.
    ttl: 10
    loop_wait: 2
    retry_timeout: 4
    synchronous_mode: true
    postgresql:
      use_pg_rewind: true
      parameters: {wal_log_hints: "on", max_wal_senders: 5, max_replication_slots: 5}
  initdb: [{encoding: UTF8}, {auth: trust}]
  pg_hba:
    - local all all trust
    - host all all 127.0.0.1/32 trust
    - host replication replicator 127.0.0.1/32 trust
postgresql:
  listen: "127.0.0.1:$((BASE + n))"
  connect_address: "127.0.0.1:$((BASE + n))"
  data_dir: "$DIR/pg$n"
  bin_dir: "$PG_BIN"
  pgpass: "$DIR/pgpass$n"
  authentication:
    superuser: {username: postgres, password: unused}
    replication: {username: replicator, password: unused}
    rewind: {username: postgres, password: unused}
  parameters: {unix_socket_directories: "$DIR"}
YAML
    done
    cat >"$DIR/witness.yml" <<YAML
raft: {data_dir: "$DIR/raft3", self_addr: "$(raft 3)", partner_addrs: [$(raft 1), $(raft 2)]}
YAML
}

start_process() {
    local name=$1
    shift
    pid_of "$name" >/dev/null && return
    # The pid file names the program itself, not runuser in front of it.
    "${AS_PG[@]}" /bin/sh -c 'cd / && echo $$ >"$0" && exec "$@"' "$DIR/$name.pid" "$@" >>"$DIR/$name.log" 2>&1 </dev/null &
}
start_node() { start_process "pg$1" /usr/bin/patroni "$DIR/pg$1.yml"; }

# Ready: a primary, and the other node its synchronous standby.
wait_ready() {
    local deadline=$((SECONDS + 90)) n
    until n=$(leader) && [[ $(role $((3 - n)) sync) == 200 ]]; do
        ((SECONDS < deadline)) || die "no primary with a synchronous standby after 90 s: $(tail -n 3 "$DIR"/pg*.log)"
        sleep 0.5
    done
}

# A node dies as a machine does: Patroni, the postmaster and its children, all at once.
kill_node() {
    local n=$1 patroni postmaster=""
    patroni=$(pid_of "pg$n") || die "node $n is not running"
    [[ -r "$DIR/pg$n/postmaster.pid" ]] && postmaster=$(head -1 "$DIR/pg$n/postmaster.pid")
    kill -9 "$patroni" ${postmaster:+"$postmaster"} 2>/dev/null || true
    if [[ -n $postmaster ]]; then pkill -9 -P "$postmaster" 2>/dev/null || true; fi
}

stop_all() {
    local name pid
    for name in pg1 pg2 witness; do
        pid=$(pid_of "$name") || continue
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    done
    # A postmaster whose Patroni was killed outlives it.
    for name in pg1 pg2; do
        [[ -r "$DIR/$name/postmaster.pid" ]] && as_pg "$PG_BIN/pg_ctl" -D "$DIR/$name" -m immediate stop >/dev/null 2>&1
    done
    return 0
}

command -v patroni >/dev/null || die "patroni is not installed (scripts/install-deps.sh)"
case ${1:-} in
    start)
        mkdir -p "$DIR"
        ((EUID != 0)) || chown postgres: "$DIR"
        as_pg test -w "$DIR" || die "the PostgreSQL account cannot write $DIR: set PATRONI_DIR"
        write_configs
        start_process witness /usr/bin/patroni_raft_controller "$DIR/witness.yml"
        for n in "${NODES[@]}"; do start_node "$n"; done
        wait_ready
        say "primary pg$(leader), synchronous standby pg$((3 - $(leader))); PostgreSQL on 127.0.0.1:$((BASE + 1)), :$((BASE + 2))"
        ;;
    stop) stop_all ;;
    status) for n in "${NODES[@]}"; do echo "pg$n: $(pid_of "pg$n" || echo stopped) primary=$(role "$n" primary) sync=$(role "$n" sync)"; done ;;
    leader) leader || die "no primary" ;;
    kill-leader) n=$(leader) || die "no primary"; kill_node "$n"; echo "$n" ;;
    start-node) start_node "$2"; wait_ready ;;
    env)
        echo "export PATRONI_DSN='postgresql://postgres@127.0.0.1:$((BASE + 1)),127.0.0.1:$((BASE + 2))/postgres?target_session_attrs=read-write'"
        ;;
    *) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
