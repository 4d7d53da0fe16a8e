# shellcheck shell=bash
# Sourced by scripts/stack.sh: the helpers every server uses and the one life they all share
# (start, stop, status). Each server file (mosquitto.sh, postgres.sh, redis.sh, smtp.sh) provides
# the parts that differ; see "The shared life of a server" below.


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
    cmdline=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || return 1
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

# ---------------------------------------------------------------------------------------------
# The shared life of a server
#
# A server NAME is registered in SERVER_KEY with the prefix KEY of its variables: KEY_PORT (its
# port, set by ENERGYHUB_KEY_PORT), KEY_LOG (its log, read after NAME_prepare, which may move it)
# and, if it has one, KEY_PID (a pid file this script removes on stop). Its file defines:
#   NAME_pid       print the pid of the running server; false if none
#   NAME_ready     true once it answers
#   NAME_prepare   check its other ports, write its configuration, create its data
#   NAME_launch    start it in the background; false if that failed at once
# and may define:
#   NAME_started   run once it answers (e.g. create a database)
#   NAME_details   extra words for the "started" line
#   NAME_halt PID  stop it (default: SIGTERM, then wait)
declare -A SERVER_KEY=()

server_var() { local var="${SERVER_KEY[$1]}_$2"; printf '%s' "${!var:-}"; }
has_hook() { declare -F "$1_$2" >/dev/null; }

start_server() {
    local name=$1 pid port details
    port=$(server_var "$name" PORT)
    if pid=$("${name}_pid") && "${name}_ready"; then
        say "$name already running (pid $pid, port $port)"
        return
    fi
    [[ -z "${pid:-}" ]] || die_with_log "$(server_var "$name" LOG)" \
        "$name (pid $pid) runs but does not answer on port $port; try: $0 restart-one $name"
    require_free_port "$name" "$port" "${SERVER_KEY[$name]}"
    "${name}_prepare"
    "${name}_launch" || die_with_log "$(server_var "$name" LOG)" "$name failed to start"
    wait_for "$START_TIMEOUT" "${name}_ready" ||
        die_with_log "$(server_var "$name" LOG)" "$name does not answer on port $port within ${START_TIMEOUT}s"
    if has_hook "$name" started; then "${name}_started"; fi
    if has_hook "$name" details; then details=", $("${name}_details")"; fi
    say "$name started (pid $("${name}_pid"), port $port${details:-})"
}

stop_server() {
    local name=$1 pid pidfile
    if pid=$("${name}_pid"); then
        if has_hook "$name" halt; then "${name}_halt" "$pid"; else terminate "$name" "$pid"; fi
        say "$name stopped"
    else
        say "$name not running"
    fi
    pidfile=$(server_var "$name" PID)
    [[ -z "$pidfile" ]] || rm -f "$pidfile"
}

status_server() {
    status_line "$1" "$(server_var "$1" PORT)" "$("$1_pid" || true)"
}
