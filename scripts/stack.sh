#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Private servers for energyhub tests and the demo: Mosquitto, PostgreSQL 15, Redis and an SMTP
# mail catcher, all on 127.0.0.1 on non-default ports, with every file under one run folder.
# They never touch the system instances (/etc/mosquitto, /var/lib/postgresql, ...), which may
# or may not be running on the default ports.
#
# Usage: scripts/stack.sh start | stop | status | env | clean
#        scripts/stack.sh start-one | stop-one | restart-one  mosquitto|postgres|redis|smtp
#
#   start     start every server that is not running yet (a running one is left alone)
#   stop      stop the servers this script started (found by their pid files) and wait
#   status    one line per server; exit status 0 if all are running, 3 otherwise
#   env       print export lines for the clients: eval "$(scripts/stack.sh env)"
#   *-one     the same for one server, e.g. to make a test's database disappear for a while
#   clean     stop, then delete the run folder and all data (a fresh start next time)
#
# Settings (environment):
#   ENERGYHUB_RUN_DIR      run folder (default <repo>/.run)
#   ENERGYHUB_MQTT_PORT    Mosquitto port (default 18830)
#   ENERGYHUB_PG_PORT      PostgreSQL port (default 15432)
#   ENERGYHUB_REDIS_PORT   Redis port (default 16379)
#   ENERGYHUB_SMTP_PORT    mail catcher port (default 10025)
#   ENERGYHUB_BROKER_PLUGIN  energyhub_broker.so: Mosquitto loads it against the stack's database
#                          (which must be migrated first); devices and daemons must then log in
#   ENERGYHUB_BROKER_PLUGIN_DSN  the plugin's database (default: the stack's energyhub database)
#   ENERGYHUB_MOSQUITTO_CONF_D  a folder of Mosquitto drop-ins (*.conf), read after the stack's config
#   ENERGYHUB_MAIL_HTTP_PORT  the caught mail over HTTP (default: the SMTP port + 1)
#   ENERGYHUB_MQTTS_PORT   Mosquitto's TLS listener (default: the MQTT port + 5000)
#   ENERGYHUB_MQTT_CERT_PORT  its TLS listener for client certificates (default: the MQTT port + 5001)
#   ENERGYHUB_PG_BIN       PostgreSQL server programs (default /usr/lib/postgresql/15/bin)
#   ENERGYHUB_PYTHON       Python with aiosmtpd (default /usr/bin/python3)
#
# Run folder layout:
#   mosquitto.conf mosquitto.log mosquitto.pid mosquitto/   broker config, log, pid, database
#   redis.conf redis.log redis.pid redis/                    Redis config, log, pid, working dir
#   smtp.log smtp.pid mail/                                  catcher log and pid; mail/*.eml, *.json
#                                                            (mail/.fail makes it refuse DATA)
#   postgres/  data/ (PGDATA), socket/ (unix socket), postgres.log; postgres.log links to the log
#              postgres/ is owned by the account the server runs as; it may be a symlink to
#              /tmp/energyhub-pg-<hash> (see pg_base below)
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO_DIR=$(dirname "$SCRIPT_DIR")
RUN_DIR=$(realpath -m "${ENERGYHUB_RUN_DIR:-$REPO_DIR/.run}")

MQTT_PORT=${ENERGYHUB_MQTT_PORT:-18830}
PG_PORT=${ENERGYHUB_PG_PORT:-15432}
REDIS_PORT=${ENERGYHUB_REDIS_PORT:-16379}
SMTP_PORT=${ENERGYHUB_SMTP_PORT:-10025}
MAIL_HTTP_PORT=${ENERGYHUB_MAIL_HTTP_PORT:-$((SMTP_PORT + 1))}
MQTTS_PORT=${ENERGYHUB_MQTTS_PORT:-$((MQTT_PORT + 5000))}
MQTT_CERT_PORT=${ENERGYHUB_MQTT_CERT_PORT:-$((MQTT_PORT + 5001))}

PG_BIN=${ENERGYHUB_PG_BIN:-/usr/lib/postgresql/15/bin}
# Debian's own python3: a python3 earlier on PATH (pyenv, a virtualenv) usually lacks the
# python3-aiosmtpd package.
if [[ -n "${ENERGYHUB_PYTHON:-}" ]]; then
    PYTHON=$ENERGYHUB_PYTHON
elif [[ -x /usr/bin/python3 ]]; then
    PYTHON=/usr/bin/python3
else
    PYTHON=python3
fi

# How long a server may take to start or stop before we give up, in seconds.
START_TIMEOUT=20
STOP_TIMEOUT=30

SERVERS=(mosquitto postgres redis smtp)

# One file per server under scripts/stack/, all living the same life (scripts/stack/lib.sh).
. "$SCRIPT_DIR/stack/lib.sh"
. "$SCRIPT_DIR/stack/tls.sh"
. "$SCRIPT_DIR/stack/mosquitto.sh"
. "$SCRIPT_DIR/stack/postgres.sh"
. "$SCRIPT_DIR/stack/redis.sh"
. "$SCRIPT_DIR/stack/smtp.sh"

# ---------------------------------------------------------------------------------------------
# Commands

print_env() {
    local line
    for line in \
        "ENERGYHUB_RUN_DIR=$RUN_DIR" \
        "ENERGYHUB_MQTT_PORT=$MQTT_PORT" \
        "ENERGYHUB_PG_PORT=$PG_PORT" \
        "ENERGYHUB_REDIS_PORT=$REDIS_PORT" \
        "ENERGYHUB_SMTP_PORT=$SMTP_PORT" \
        "ENERGYHUB_MQTT_URI=tcp://127.0.0.1:$MQTT_PORT" \
        "ENERGYHUB_PG_DSN=postgresql://energyhub@127.0.0.1:$PG_PORT/energyhub" \
        "ENERGYHUB_REDIS_URI=redis://127.0.0.1:$REDIS_PORT" \
        "ENERGYHUB_SMTP_URL=smtp://127.0.0.1:$SMTP_PORT" \
        "ENERGYHUB_MAIL_DIR=$MAIL_DIR" \
        "ENERGYHUB_MAIL_URL=http://127.0.0.1:$MAIL_HTTP_PORT/" \
        "ENERGYHUB_MQTTS_URI=mqtts://localhost:$MQTTS_PORT" \
        "ENERGYHUB_MQTT_CERT_URI=mqtts://localhost:$MQTT_CERT_PORT" \
        "ENERGYHUB_TLS_DIR=$TLS_DIR"; do
        printf 'export %s=%q\n' "${line%%=*}" "${line#*=}"
    done
}

# Serialize start and stop: two test runs starting the stack at once must not both initdb.
# The servers are started without fd 9 (without_extra_fds), or they would hold the lock.
lock_run_dir() {
    mkdir -p "$RUN_DIR"
    exec 9>"$RUN_DIR/.stack.lock"
    flock -w 120 9 || die "another scripts/stack.sh holds $RUN_DIR/.stack.lock"
}

valid_server() {
    local s
    for s in "${SERVERS[@]}"; do [[ "$1" == "$s" ]] && return 0; done
    die "unknown server '$1' (expected one of: ${SERVERS[*]})"
}

# The usage text at the top of this file.
print_usage() {
    sed -n '/^# Usage:/,/^#   clean/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

usage() {
    print_usage >&2
    exit 2
}

# Stop everything and delete the run folder, including a cluster kept in /tmp. Only a
# folder holding nothing but what this script creates is deleted, so a mistyped
# ENERGYHUB_RUN_DIR (say, $HOME) cannot lose anything else.
clean() {
    local s entry
    for s in smtp redis postgres mosquitto; do stop_server "$s"; done
    for entry in "$RUN_DIR"/* "$RUN_DIR"/.[!.]*; do
        [[ -e "$entry" || -L "$entry" ]] || continue
        case "${entry##*/}" in
        .stack.lock | mosquitto | mosquitto.* | redis | redis.* | smtp.* | mail | postgres | postgres.log | tls | demo) ;;
        *) die "not removing $RUN_DIR: it holds $entry, which scripts/stack.sh did not create" ;;
        esac
    done
    if [[ -L "$PG_LINK" && "$(readlink "$PG_LINK")" == /tmp/energyhub-pg-* ]]; then
        rm -rf "$(readlink "$PG_LINK")"
    fi
    rm -rf "$RUN_DIR"
    say "removed $RUN_DIR"
}

main() {
    check_port_number ENERGYHUB_MQTT_PORT "$MQTT_PORT"
    check_port_number ENERGYHUB_PG_PORT "$PG_PORT"
    check_port_number ENERGYHUB_REDIS_PORT "$REDIS_PORT"
    check_port_number ENERGYHUB_SMTP_PORT "$SMTP_PORT"
    check_port_number ENERGYHUB_MAIL_HTTP_PORT "$MAIL_HTTP_PORT"
    check_port_number ENERGYHUB_MQTTS_PORT "$MQTTS_PORT"
    check_port_number ENERGYHUB_MQTT_CERT_PORT "$MQTT_CERT_PORT"

    local cmd=${1:-}
    case "$cmd" in
    start)
        lock_run_dir
        local s
        for s in "${SERVERS[@]}"; do start_server "$s"; done
        ;;
    stop)
        lock_run_dir
        local s
        # Reverse order: the mail catcher and caches first, the broker last.
        for s in smtp redis postgres mosquitto; do stop_server "$s"; done
        ;;
    status)
        local s rc=0
        for s in "${SERVERS[@]}"; do status_server "$s" || rc=3; done
        return "$rc"
        ;;
    env)
        print_env
        ;;
    start-one | stop-one | restart-one)
        (($# == 2)) || usage
        valid_server "$2"
        lock_run_dir
        case "$cmd" in
        start-one) start_server "$2" ;;
        stop-one) stop_server "$2" ;;
        restart-one)
            stop_server "$2"
            start_server "$2"
            ;;
        esac
        ;;
    clean)
        lock_run_dir
        clean
        ;;
    -h | --help | help)
        print_usage
        ;;
    *)
        usage
        ;;
    esac
}

main "$@"
