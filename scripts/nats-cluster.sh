#!/usr/bin/env bash
# A NATS cluster as the broker tier of a fleet (docs/scale-out.md): three nats-server nodes on
# loopback, each with JetStream (file store) and an MQTT listener, clustered with each other.
# Devices publish readings to any node; the subject mappings hash each device to one of n
# partitions, and the hub with hub.partition i/n (and mqtt.broker: nats) subscribes to
# `hub/i/<filter>` for each of its filters, so every device's readings reach one hub. QoS-1
# sessions and retained messages are JetStream streams replicated on the three nodes: a hub or a
# device may reconnect to any node.
#
# Usage: scripts/nats-cluster.sh start|stop|status|env|reload|kill NODE|start-node NODE
# Environment: NATS_BASE_PORT (default 24220; node n listens for NATS on base+n, MQTT on
# base+10+n, routes on base+20+n, monitoring on base+30+n), NATS_MAPPINGS (a file written by
# `energyhub nats-mappings`) or NATS_PARTITIONS (default 2: the native topic only), NATS_AUTH
# (a file written by `energyhub nats-auth`: users and permissions; without it, no authorization),
# NATS_DIR (default .run/nats: configs, logs, pid files, JetStream stores).
set -euo pipefail
cd "$(dirname "$0")/.."
BASE=${NATS_BASE_PORT:-24220}
PARTITIONS=${NATS_PARTITIONS:-2}
DIR=$(realpath -m "${NATS_DIR:-.run/nats}")
NODES=(1 2 3)
say() { echo "nats-cluster: $*"; }
die() { echo "nats-cluster: error: $*" >&2; exit 1; }

node_pid() { [[ -r "$DIR/n$1.pid" ]] && kill -0 "$(cat "$DIR/n$1.pid")" 2>/dev/null && cat "$DIR/n$1.pid"; }
mqtt_port() { echo $((BASE + 10 + $1)); }

write_config() {
    local n=$1 routes="" m
    for m in "${NODES[@]}"; do routes+="${routes:+, }nats-route://127.0.0.1:$((BASE + 20 + m))"; done
    mkdir -p "$DIR/n$n"
    cat >"$DIR/n$n.conf" <<CONF
# Written by scripts/nats-cluster.sh at every start; edits are lost.
server_name: n$n
listen: 127.0.0.1:$((BASE + n))
http: 127.0.0.1:$((BASE + 30 + n))
jetstream { store_dir: "$DIR/n$n", max_memory_store: 256MB, max_file_store: 4GB }
cluster {
  name: energyhub
  listen: 127.0.0.1:$((BASE + 20 + n))
  routes: [ $routes ]
}
mqtt { listen: 127.0.0.1:$(mqtt_port "$n") }
$(mappings)
$(auth_include)
CONF
}

# The users: NATS_AUTH, included (by a link beside the configs: 2.9 takes relative includes only),
# so `energyhub nats-auth --watch --reload-pid-file` can rewrite it and have the nodes reload.
auth_include() {
    [[ -n ${NATS_AUTH:-} ]] || return 0
    ln -sfn "$(realpath "$NATS_AUTH")" "$DIR/auth.conf"
    echo 'include "auth.conf"'
}

# Device affinity: a reading's subject (its MQTT topic, / as .) gets the device's partition in
# front. NATS_MAPPINGS names a file from `energyhub nats-mappings` (every format the hubs read);
# without it, the native format's topic only.
mappings() {
    if [[ -n ${NATS_MAPPINGS:-} ]]; then
        cat "$NATS_MAPPINGS"
    else
        printf 'mappings: {\n  "energy.*.reading": "hub.{{partition(%s,1)}}.energy.{{wildcard(1)}}.reading"\n}\n' "$PARTITIONS"
    fi
}

start_node() {
    local n=$1
    node_pid "$n" >/dev/null && return
    write_config "$n"
    nats-server -c "$DIR/n$n.conf" -l "$DIR/n$n.log" -P "$DIR/n$n.pid" </dev/null >/dev/null 2>&1 &
    disown
}

# Ready: every node's JetStream is current with an elected meta leader, and it takes MQTT
# connections. (Not the full /healthz: a node that rejoins can report consumers of sessions that
# moved while it was away as "not current" for minutes, and serves clients meanwhile.)
wait_ready() {
    local n deadline=$((SECONDS + 60))
    for n in "$@"; do
        until [[ $(curl -s "http://127.0.0.1:$((BASE + 30 + n))/healthz?js-server-only=true" 2>/dev/null) == *'"ok"'* ]] &&
            [[ -n $(ss -Hltn "sport = :$(mqtt_port "$n")") ]]; do
            ((SECONDS < deadline)) || die "node n$n not ready after 60 s: $(tail -5 "$DIR/n$n.log" 2>/dev/null)"
            sleep 0.2
        done
    done
}

stop_node() {
    local n=$1 pid
    pid=$(node_pid "$n") || return 0
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
}

command -v nats-server >/dev/null || die "nats-server is not installed (scripts/install-deps.sh)"
case ${1:-} in
    start)
        mkdir -p "$DIR"
        for n in "${NODES[@]}"; do start_node "$n"; done
        wait_ready "${NODES[@]}"
        say "3 nodes up: MQTT on 127.0.0.1:$(mqtt_port 1), :$(mqtt_port 2), :$(mqtt_port 3)"
        ;;
    stop) for n in "${NODES[@]}"; do stop_node "$n"; done ;;
    status) for n in "${NODES[@]}"; do echo "n$n: $(node_pid "$n" || echo stopped)"; done ;;
    # After the registry changed: every running node reads its configuration again (SIGHUP).
    reload)
        for n in "${NODES[@]}"; do
            pid=$(node_pid "$n") || continue
            write_config "$n"
            before=$(grep -c "Reloaded server configuration" "$DIR/n$n.log" || true)
            kill -HUP "$pid"
            for _ in $(seq 50); do
                (($(grep -c "Reloaded server configuration" "$DIR/n$n.log" || true) > before)) && break
                sleep 0.1
            done
        done
        ;;
    kill) kill -9 "$(node_pid "$2")" ;;
    start-node) start_node "$2"; wait_ready "$2" ;;
    env)
        echo "export NATS_MQTT_URIS=tcp://127.0.0.1:$(mqtt_port 1),tcp://127.0.0.1:$(mqtt_port 2),tcp://127.0.0.1:$(mqtt_port 3)"
        ;;
    *) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
