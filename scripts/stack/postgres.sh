# shellcheck shell=bash
# Sourced by scripts/stack.sh. PostgreSQL 15: a private cluster made with initdb, run with pg_ctl,
# with the energyhub role and database.

SERVER_KEY[postgres]=PG

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

postgres_prepare() {
    [[ -x "$PG_BIN/pg_ctl" ]] || die "postgres: $PG_BIN/pg_ctl not found; run scripts/install-deps.sh"
    init_postgres
    ensure_certs
    write_postgres_conf
}

postgres_launch() {
    (cd / && without_extra_fds "${AS_PG[@]}" "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" \
        -w -t "$START_TIMEOUT" start </dev/null >>"$PG_LOG" 2>&1)
}

postgres_started() {
    create_postgres_db || die_with_log "$PG_LOG" "postgres: cannot create role and database energyhub"
}

postgres_details() { printf 'data %s' "$PG_DATA"; }

# Fast shutdown: abort open transactions, checkpoint, exit cleanly.
postgres_halt() {
    pg_ctl_ -m fast -w -t "$STOP_TIMEOUT" stop >>"$PG_LOG" 2>&1 ||
        die_with_log "$PG_LOG" "postgres did not stop within ${STOP_TIMEOUT}s"
}
