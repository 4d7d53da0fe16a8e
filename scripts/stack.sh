#!/usr/bin/env bash
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

# ---------------------------------------------------------------------------------------------
# Helpers

say() { echo "stack: $*"; }
die() { echo "stack: error: $*" >&2; exit 1; }

# Print the end of a server's log to stderr and exit: a failed start must show why.
die_with_log() {
    local log=$1; shift
    echo "stack: error: $*" >&2
    if [[ -r "$log" ]]; then
        echo "---- last lines of $log ----" >&2
        tail -n 30 "$log" >&2
        echo "----" >&2
    else
        echo "stack: (no log at $log)" >&2
    fi
    exit 1
}

check_port_number() {
    [[ "$2" =~ ^[0-9]+$ ]] && (($2 > 0 && $2 < 65536)) || die "$1 is not a valid port: '$2'"
}

# True if something listens on TCP port $1 (any address). Uses ss rather than connecting, so
# the check does not show up as a bogus client in the servers' logs.
port_listening() {
    [[ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]]
}

# Describe who listens on port $1, for error messages.
port_owner() {
    ss -Hltnp "sport = :$1" 2>/dev/null | sed -n 's/.*users:((\(.*\)))/\1/p;T;q' || true
}

# Pid from pid file $1 if that process is alive and its command line contains $2 (guards
# against a stale pid file whose pid was reused by an unrelated process). A zombie has an
# empty command line, so it counts as gone.
live_pid() {
    local pidfile=$1 pattern=$2 pid cmdline
    [[ -r "$pidfile" ]] || return 1
    read -r pid <"$pidfile" || true
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
    [[ "$cmdline" == *"$pattern"* ]] || return 1
    echo "$pid"
}

# Run "$@" until it succeeds, at most $1 seconds; false on timeout.
wait_for() {
    local timeout=$1; shift
    local deadline=$((SECONDS + timeout))
    until "$@"; do
        ((SECONDS < deadline)) || return 1
        sleep 0.2
    done
}

# True once process $1 has exited. A daemon whose parent is gone is re-parented to PID 1; in
# a container PID 1 may never reap it, so a zombie ("Z" state) counts as exited.
pid_gone() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
    stat=${stat##*) }
    [[ "${stat%% *}" == Z ]]
}

# Send SIGTERM to pid $2 (server $1) and wait for it to exit; SIGKILL only as a last resort.
terminate() {
    local name=$1 pid=$2
    kill -TERM "$pid" 2>/dev/null || return 0
    if ! wait_for "$STOP_TIMEOUT" pid_gone "$pid"; then
        echo "stack: warning: $name (pid $pid) ignored SIGTERM for ${STOP_TIMEOUT}s, killing it" >&2
        kill -KILL "$pid" 2>/dev/null || true
        wait_for 5 pid_gone "$pid" || die "$name (pid $pid) does not exit"
    fi
}

# Refuse to start server $1 on port $2 when another process already listens there: clients
# would silently talk to the wrong server.
require_free_port() {
    local name=$1 port=$2
    if port_listening "$port"; then
        local owner
        owner=$(port_owner "$port")
        die "$name: port $port is already in use${owner:+ by $owner}; set ENERGYHUB_${3}_PORT to another port"
    fi
}

# Replace the current (sub)shell by "$@" with only stdin, stdout and stderr open; call it in
# a subshell or with "&". A server would otherwise inherit every file descriptor of whoever
# called this script (the run folder lock, a CI runner's pipes) and keep it open as long as
# it runs, which can make that caller wait forever.
without_extra_fds() {
    local fd
    for fd in /proc/$BASHPID/fd/*; do
        fd=${fd##*/}
        if ((fd > 2)); then eval "exec $fd>&-"; fi
    done
    exec "$@"
}

# Escape a string for the replacement side of a sed s|...|...| command.
sed_escape() { printf '%s' "$1" | sed -e 's/[\\&|]/\\&/g'; }

# ---------------------------------------------------------------------------------------------
# Mosquitto: config rendered from config/mosquitto.conf, daemonized by mosquitto -d.

MQTT_CONF=$RUN_DIR/mosquitto.conf
MQTT_LOG=$RUN_DIR/mosquitto.log
MQTT_PID=$RUN_DIR/mosquitto.pid

mosquitto_pid() { live_pid "$MQTT_PID" mosquitto; }

start_mosquitto() {
    local pid
    if pid=$(mosquitto_pid) && port_listening "$MQTT_PORT"; then
        say "mosquitto already running (pid $pid, port $MQTT_PORT)"
        return
    fi
    [[ -z "${pid:-}" ]] || die_with_log "$MQTT_LOG" "mosquitto (pid $pid) runs but does not listen on port $MQTT_PORT; try: $0 restart-one mosquitto"
    require_free_port mosquitto "$MQTT_PORT" MQTT
    require_free_port mosquitto "$MQTTS_PORT" MQTTS
    require_free_port mosquitto "$MQTT_CERT_PORT" MQTT_CERT
    ensure_certs

    local template=$REPO_DIR/config/mosquitto.conf
    [[ -r "$template" ]] || die "missing $template"
    mkdir -p "$RUN_DIR/mosquitto"
    # When started as root mosquitto would switch to the "mosquitto" account, which may not be
    # able to write the run folder; "user root" (or any non-root user) keeps the account.
    sed -e "s|@PORT@|$(sed_escape "$MQTT_PORT")|g" \
        -e "s|@TLS_PORT@|$(sed_escape "$MQTTS_PORT")|g" \
        -e "s|@CERT_PORT@|$(sed_escape "$MQTT_CERT_PORT")|g" \
        -e "s|@TLS_DIR@|$(sed_escape "$TLS_DIR")|g" \
        -e "s|@RUN_DIR@|$(sed_escape "$RUN_DIR")|g" \
        -e "s|@USER@|$(sed_escape "$(id -un)")|g" \
        "$template" >"$MQTT_CONF.tmp"
    if [[ -n "${ENERGYHUB_BROKER_PLUGIN:-}" ]]; then
        # The broker as deployed: the energyhub plugin logs everyone in against the registry.
        [[ -r "$ENERGYHUB_BROKER_PLUGIN" ]] || die "mosquitto: cannot read the plugin $ENERGYHUB_BROKER_PLUGIN"
        sed -i 's/^allow_anonymous true$/allow_anonymous false/' "$MQTT_CONF.tmp"
        printf 'plugin %s\nplugin_opt_postgres_dsn %s\n' "$ENERGYHUB_BROKER_PLUGIN" \
            "${ENERGYHUB_BROKER_PLUGIN_DSN:-postgresql://energyhub@127.0.0.1:$PG_PORT/energyhub}" >>"$MQTT_CONF.tmp"
    fi
    mv -f "$MQTT_CONF.tmp" "$MQTT_CONF"
    rm -f "$MQTT_PID"

    # Config errors are printed before mosquitto daemonizes: keep them in the log too.
    (without_extra_fds mosquitto -c "$MQTT_CONF" -d) </dev/null >>"$MQTT_LOG" 2>&1 ||
        die_with_log "$MQTT_LOG" "mosquitto failed to start (config $MQTT_CONF)"
    wait_for "$START_TIMEOUT" mosquitto_ready ||
        die_with_log "$MQTT_LOG" "mosquitto did not listen on port $MQTT_PORT within ${START_TIMEOUT}s"
    say "mosquitto started (pid $(mosquitto_pid), port $MQTT_PORT)"
}

mosquitto_ready() { mosquitto_pid >/dev/null && port_listening "$MQTT_PORT"; }

stop_mosquitto() {
    local pid
    if pid=$(mosquitto_pid); then
        # SIGTERM makes mosquitto save its persistence database before exiting.
        terminate mosquitto "$pid"
        say "mosquitto stopped"
    else
        say "mosquitto not running"
    fi
    rm -f "$MQTT_PID"
}

status_mosquitto() { status_line mosquitto "$MQTT_PORT" "$(mosquitto_pid || true)"; }

# ---------------------------------------------------------------------------------------------
# A private CA (ca.crt, ca.key) and a server certificate for localhost and 127.0.0.1 signed by it,
# made once per run folder with openssl: Mosquitto's TLS listeners and PostgreSQL use them, and
# `energyhub device add --cert` may issue device certificates from the CA. Tests that need other
# certificates (another CA, an expired one) make their own.
TLS_DIR=$RUN_DIR/tls

ensure_certs() {
    [[ -s "$TLS_DIR/ca.crt" && -s "$TLS_DIR/server.crt" && -s "$TLS_DIR/server.key" ]] && return 0
    mkdir -p "$TLS_DIR"
    local log=$TLS_DIR/openssl.log
    (
        cd "$TLS_DIR" && umask 077 &&
        openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout ca.key -out ca.crt \
            -days 3650 -subj "/CN=energyhub stack CA" -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign" &&
        openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout server.key -out server.csr \
            -subj "/CN=localhost" &&
        printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' >server.ext &&
        openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 825 -sha256 \
            -extfile server.ext -out server.crt &&
        chmod 644 ca.crt server.crt && rm -f server.csr server.ext
    ) >"$log" 2>&1 || die_with_log "$log" "tls: cannot make the stack's certificates with openssl"
    say "tls: made a private CA and a certificate for localhost in $TLS_DIR"
}

# PostgreSQL 15: a private cluster made with initdb, run with pg_ctl.

# initdb and postgres refuse to run as root. As root we run them as the "postgres" account of
# the postgresql-15 package, or as a system account "energyhub" created for this if there is
# no postgres account; an ordinary user runs them as themselves.
pg_user() {
    if ((EUID != 0)); then
        id -un
    elif id -u postgres >/dev/null 2>&1; then
        echo postgres
    else
        echo energyhub
    fi
}

ensure_pg_user() {
    local user=$1
    ((EUID == 0)) || return 0
    id -u "$user" >/dev/null 2>&1 && return 0
    say "creating system user $user to run PostgreSQL"
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin "$user"
}

# Run a command as the PostgreSQL account, from / so that a working directory that account
# cannot enter (e.g. under /root) does not produce warnings.
as_pg() { (cd / && "${AS_PG[@]}" "$@"); }

# Where the cluster lives. Normally $RUN_DIR/postgres. The account running postgres must be
# able to reach it, though, and as root the run folder is often somewhere that account cannot
# enter (a clone under /root: /root is mode 700). Changing permissions of the user's folders
# would be intrusive, so then the cluster goes to /tmp/energyhub-pg-<hash of the run folder>
# (one per run folder, so several clones do not share a cluster) and $RUN_DIR/postgres is a
# symlink to it, which is how later calls find it again. The same fallback is used when the
# unix socket path would exceed the kernel's 107-byte limit. /tmp may be emptied on reboot;
# the cluster is then simply created again (it only holds test data).
PG_LINK=$RUN_DIR/postgres

pg_base() {
    if [[ -L "$PG_LINK" ]]; then
        readlink "$PG_LINK"
        return
    fi
    local socket_path="$PG_LINK/socket/.s.PGSQL.$PG_PORT"
    if [[ -d "$PG_LINK" ]] || { pg_can_enter "$RUN_DIR" && ((${#socket_path} <= 100)); }; then
        echo "$PG_LINK"
    else
        echo "/tmp/energyhub-pg-$(printf '%s' "$RUN_DIR" | sha256sum | cut -c1-12)"
    fi
}

# True if the PostgreSQL account can reach folder $1 (every folder on the path searchable).
pg_can_enter() {
    if ((EUID == 0)); then
        id -u "$PG_USER" >/dev/null 2>&1 && runuser -u "$PG_USER" -- test -x "$1" 2>/dev/null
    else
        test -x "$1"
    fi
}

# Sets PG_BASE, PG_DATA, PG_SOCKET_DIR and PG_LOG.
set_pg_paths() {
    PG_BASE=$(pg_base)
    PG_DATA=$PG_BASE/data
    PG_SOCKET_DIR=$PG_BASE/socket
    PG_LOG=$PG_BASE/postgres.log
}

PG_USER=$(pg_user)
if ((EUID == 0)); then AS_PG=(runuser -u "$PG_USER" --); else AS_PG=(); fi
set_pg_paths

pg_ctl_() { as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" "$@"; }

postgres_pid() {
    [[ -r "$PG_DATA/postmaster.pid" ]] || return 1
    live_pid "$PG_DATA/postmaster.pid" postgres
}

postgres_ready() {
    "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -d postgres -U postgres -t 2 >/dev/null 2>&1
}

# Create the account, the folders and the cluster on first use.
init_postgres() {
    ensure_pg_user "$PG_USER"
    mkdir -p "$RUN_DIR"
    # Decide again now that the account and the run folder exist.
    set_pg_paths
    if [[ "$PG_BASE" != "$PG_LINK" && ! -L "$PG_LINK" ]]; then
        # Refuse a /tmp path someone else prepared (a symlink or a folder of another owner).
        if [[ -L "$PG_BASE" ]] || { [[ -e "$PG_BASE" ]] && [[ "$(stat -c %U "$PG_BASE")" != "$PG_USER" ]]; }; then
            die "postgres: $PG_BASE exists but is not a folder owned by $PG_USER; remove it"
        fi
        # A cluster left in /tmp by a run folder that was deleted since: start from scratch,
        # as deleting the run folder promises.
        if [[ -e "$PG_BASE" ]]; then
            local old_pid
            if old_pid=$(live_pid "$PG_BASE/data/postmaster.pid" postgres); then
                die "postgres: an old cluster in $PG_BASE still runs (pid $old_pid); stop it first"
            fi
            say "postgres: removing the old cluster in $PG_BASE"
            rm -rf "$PG_BASE"
        fi
        ln -s "$PG_BASE" "$PG_LINK"
    fi
    if [[ ! -d "$PG_BASE" ]]; then
        install -d -m 0700 -o "$PG_USER" -g "$(id -gn "$PG_USER")" "$PG_BASE"
    fi
    as_pg mkdir -p "$PG_SOCKET_DIR"
    as_pg touch "$PG_LOG"
    ln -sfn "$PG_LOG" "$RUN_DIR/postgres.log"

    [[ -f "$PG_DATA/PG_VERSION" ]] && return 0
    # A data folder without PG_VERSION is the rest of an interrupted initdb.
    as_pg rm -rf "$PG_DATA"
    say "postgres: creating cluster in $PG_DATA"
    # Trust authentication on the unix socket and loopback: a private test instance on
    # 127.0.0.1 only. Locale C with UTF-8 needs no generated locales and sorts predictably.
    as_pg "$PG_BIN/initdb" -D "$PG_DATA" --username=postgres --auth=trust \
        --encoding=UTF8 --locale=C >>"$PG_LOG" 2>&1 ||
        die_with_log "$PG_LOG" "postgres: initdb failed"
    # Settings that may change between runs (port, socket folder) live in energyhub.conf,
    # rewritten at every start; postgresql.conf only includes it.
    printf '\n# energyhub private instance: settings written by scripts/stack.sh\ninclude_if_exists = %s\n' \
        "'energyhub.conf'" | as_pg tee -a "$PG_DATA/postgresql.conf" >/dev/null
}

write_postgres_conf() {
    as_pg tee "$PG_DATA/energyhub.conf" >/dev/null <<EOF
# Written by scripts/stack.sh at every start; edits are lost.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_SOCKET_DIR'
max_connections = 100
shared_buffers = 128MB
# Durability is tested (kill -9, restarts): keep PostgreSQL's crash-safe defaults explicit.
fsync = on
synchronous_commit = on
full_page_writes = on
log_timezone = 'UTC'
timezone = 'UTC'
log_line_prefix = '%m [%p] %q%u@%d '
# TLS for clients that ask for it (sslmode=verify-full with the stack's ca.crt); plain TCP stays
# allowed on loopback.
ssl = on
ssl_cert_file = 'server.crt'
ssl_key_file = 'server.key'
EOF
    # The server reads its key as its own account, which must own it with mode 0600.
    as_pg tee "$PG_DATA/server.crt" <"$TLS_DIR/server.crt" >/dev/null
    as_pg tee "$PG_DATA/server.key" <"$TLS_DIR/server.key" >/dev/null
    as_pg chmod 600 "$PG_DATA/server.key"
}

# The energyhub role and database, created once; superuser is fine on a private instance
# (migrations create partitions and extensions).
create_postgres_db() {
    local psql=(psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres)
    local found
    # Called from a "||" list, where set -e does not apply: check every step.
    found=$("${psql[@]}" -tAc "SELECT 1 FROM pg_roles WHERE rolname = 'energyhub'") || return 1
    if [[ "$found" != 1 ]]; then
        "${psql[@]}" -c "CREATE ROLE energyhub LOGIN SUPERUSER" || return 1
    fi
    found=$("${psql[@]}" -tAc "SELECT 1 FROM pg_database WHERE datname = 'energyhub'") || return 1
    if [[ "$found" != 1 ]]; then
        "${psql[@]}" -c "CREATE DATABASE energyhub OWNER energyhub" || return 1
    fi
}

start_postgres() {
    [[ -x "$PG_BIN/pg_ctl" ]] || die "postgres: $PG_BIN/pg_ctl not found; run scripts/install-deps.sh"
    local pid
    if pid=$(postgres_pid) && postgres_ready; then
        say "postgres already running (pid $pid, port $PG_PORT)"
        return
    fi
    [[ -z "${pid:-}" ]] || die_with_log "$PG_LOG" "postgres (pid $pid) runs but does not answer on port $PG_PORT; try: $0 restart-one postgres"
    require_free_port postgres "$PG_PORT" PG

    init_postgres
    ensure_certs
    write_postgres_conf
    (cd / && without_extra_fds "${AS_PG[@]}" "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" \
        -w -t "$START_TIMEOUT" start </dev/null >>"$PG_LOG" 2>&1) ||
        die_with_log "$PG_LOG" "postgres failed to start (data $PG_DATA)"
    wait_for "$START_TIMEOUT" postgres_ready ||
        die_with_log "$PG_LOG" "postgres does not answer on port $PG_PORT within ${START_TIMEOUT}s"
    create_postgres_db || die_with_log "$PG_LOG" "postgres: cannot create role and database energyhub"
    say "postgres started (pid $(postgres_pid), port $PG_PORT, data $PG_DATA)"
}

stop_postgres() {
    if postgres_pid >/dev/null; then
        # Fast shutdown: abort open transactions, checkpoint, exit cleanly.
        pg_ctl_ -m fast -w -t "$STOP_TIMEOUT" stop >>"$PG_LOG" 2>&1 ||
            die_with_log "$PG_LOG" "postgres did not stop within ${STOP_TIMEOUT}s"
        say "postgres stopped"
    else
        say "postgres not running"
    fi
}

status_postgres() { status_line postgres "$PG_PORT" "$(postgres_pid || true)"; }

# ---------------------------------------------------------------------------------------------
# Redis: a cache only (the hub falls back to PostgreSQL), so no snapshots and no AOF.

REDIS_CONF=$RUN_DIR/redis.conf
REDIS_LOG=$RUN_DIR/redis.log
REDIS_PID=$RUN_DIR/redis.pid

redis_pid() { live_pid "$REDIS_PID" redis-server; }
redis_ready() { redis_pid >/dev/null && [[ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]]; }

start_redis() {
    local pid
    if pid=$(redis_pid) && port_listening "$REDIS_PORT"; then
        say "redis already running (pid $pid, port $REDIS_PORT)"
        return
    fi
    [[ -z "${pid:-}" ]] || die_with_log "$REDIS_LOG" "redis (pid $pid) runs but does not listen on port $REDIS_PORT; try: $0 restart-one redis"
    require_free_port redis "$REDIS_PORT" REDIS

    mkdir -p "$RUN_DIR/redis"
    cat >"$REDIS_CONF.tmp" <<EOF
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
EOF
    mv -f "$REDIS_CONF.tmp" "$REDIS_CONF"
    rm -f "$REDIS_PID"

    (without_extra_fds redis-server "$REDIS_CONF") </dev/null >>"$REDIS_LOG" 2>&1 ||
        die_with_log "$REDIS_LOG" "redis failed to start (config $REDIS_CONF)"
    wait_for "$START_TIMEOUT" redis_ready ||
        die_with_log "$REDIS_LOG" "redis does not answer on port $REDIS_PORT within ${START_TIMEOUT}s"
    say "redis started (pid $(redis_pid), port $REDIS_PORT)"
}

stop_redis() {
    local pid
    if pid=$(redis_pid); then
        terminate redis "$pid"
        say "redis stopped"
    else
        say "redis not running"
    fi
    rm -f "$REDIS_PID"
}

status_redis() { status_line redis "$REDIS_PORT" "$(redis_pid || true)"; }

# ---------------------------------------------------------------------------------------------
# SMTP mail catcher: scripts/mailcatcher.py, detached with setsid; it writes its pid file once
# it listens.

SMTP_LOG=$RUN_DIR/smtp.log
SMTP_PID=$RUN_DIR/smtp.pid
MAIL_DIR=$RUN_DIR/mail

smtp_pid() { live_pid "$SMTP_PID" mailcatcher.py; }
smtp_ready() { smtp_pid >/dev/null && port_listening "$SMTP_PORT"; }

start_smtp() {
    local pid
    if pid=$(smtp_pid) && port_listening "$SMTP_PORT"; then
        say "smtp already running (pid $pid, port $SMTP_PORT)"
        return
    fi
    [[ -z "${pid:-}" ]] || die_with_log "$SMTP_LOG" "smtp (pid $pid) runs but does not listen on port $SMTP_PORT; try: $0 restart-one smtp"
    require_free_port smtp "$SMTP_PORT" SMTP
    require_free_port smtp "$MAIL_HTTP_PORT" MAIL_HTTP
    "$PYTHON" -c 'import aiosmtpd' 2>/dev/null ||
        die "smtp: $PYTHON cannot import aiosmtpd; run scripts/install-deps.sh or set ENERGYHUB_PYTHON"

    mkdir -p "$MAIL_DIR"
    rm -f "$SMTP_PID"
    # Own session and no inherited terminal or pipes, so the catcher outlives this script
    # and a caller reading our output, e.g. $(stack.sh start), does not wait for it.
    without_extra_fds setsid "$PYTHON" "$SCRIPT_DIR/mailcatcher.py" --host 127.0.0.1 --port "$SMTP_PORT" \
        --http-port "$MAIL_HTTP_PORT" --mail-dir "$MAIL_DIR" --pidfile "$SMTP_PID" </dev/null >>"$SMTP_LOG" 2>&1 &
    local child=$!
    if ! wait_for "$START_TIMEOUT" smtp_ready; then
        kill -TERM "$child" 2>/dev/null || true
        die_with_log "$SMTP_LOG" "smtp catcher did not listen on port $SMTP_PORT within ${START_TIMEOUT}s"
    fi
    say "smtp started (pid $(smtp_pid), port $SMTP_PORT, mail in $MAIL_DIR, inbox at http://127.0.0.1:$MAIL_HTTP_PORT/)"
}

stop_smtp() {
    local pid
    if pid=$(smtp_pid); then
        terminate smtp "$pid"
        say "smtp stopped"
    else
        say "smtp not running"
    fi
    rm -f "$SMTP_PID"
}

status_smtp() { status_line smtp "$SMTP_PORT" "$(smtp_pid || true)"; }

# ---------------------------------------------------------------------------------------------
# Commands

# status_line NAME PORT PID: print one line; false if the server is not running and listening.
status_line() {
    local name=$1 port=$2 pid=$3
    if [[ -n "$pid" ]] && port_listening "$port"; then
        printf '%-10s running  pid %-8s port %s\n' "$name" "$pid" "$port"
    elif [[ -n "$pid" ]]; then
        printf '%-10s starting pid %-8s port %s (not listening)\n' "$name" "$pid" "$port"
        return 1
    else
        printf '%-10s stopped                port %s\n' "$name" "$port"
        return 1
    fi
}

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
    for s in smtp redis postgres mosquitto; do "stop_$s"; done
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
        for s in "${SERVERS[@]}"; do "start_$s"; done
        ;;
    stop)
        lock_run_dir
        local s
        # Reverse order: the mail catcher and caches first, the broker last.
        for s in smtp redis postgres mosquitto; do "stop_$s"; done
        ;;
    status)
        local s rc=0
        for s in "${SERVERS[@]}"; do "status_$s" || rc=3; done
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
        start-one) "start_$2" ;;
        stop-one) "stop_$2" ;;
        restart-one)
            "stop_$2"
            "start_$2"
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
