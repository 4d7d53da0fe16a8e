# shellcheck shell=bash
# The Raspberry Pi profile (config/pi) as the bench, the tests and scripts/arm64.sh read and apply
# it: sourced, never run. One reader of its files, so all use exactly what the package ships.
PI_PROFILE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../config/pi" && pwd)"

# pi_env NAME: the value the hub's drop-in gives environment variable NAME.
pi_env() { sed -n "s/^Environment=$1=//p" "$PI_PROFILE_DIR/energyhub-hub.conf"; }

# pi_settings FILE: each `key = value` line of one of the profile's files (PostgreSQL's conf.d,
# sysctl.d) as "key value".
pi_settings() { sed -n 's/^\([a-z_.]*\) = \([^ #]*\).*/\1 \2/p' "$1"; }

# pi_postgres DSN SET|RESET: the profile's PostgreSQL settings (each `key = value` of its conf.d
# file) set on the server of DSN with ALTER SYSTEM, or reset; then the server reloads.
pi_postgres() {
    local dsn=$1 action=$2 key value
    while read -r key value; do
        if [[ $action == SET ]]; then
            psql "$dsn" -qc "ALTER SYSTEM SET $key = '$value'"
        else
            psql "$dsn" -qc "ALTER SYSTEM RESET $key"
        fi
    done < <(pi_settings "$PI_PROFILE_DIR/postgresql.conf")
    psql "$dsn" -qc "SELECT pg_reload_conf()" >/dev/null
}

# pi_mosquitto_conf_d DIR: the profile's Mosquitto drop-in in conf.d folder DIR, under the name
# docs/raspberry-pi.md installs it as (the name decides the order Mosquitto reads it in).
pi_mosquitto_conf_d() { cp "$PI_PROFILE_DIR/mosquitto.conf" "$1/zz-energyhub-pi.conf"; }

# pi_sysctl: the profile's kernel settings (each `key = value` of its sysctl.d file) applied with
# `sysctl -w` (root); prints each `key=value` as it was, for pi_sysctl_restore.
pi_sysctl() {
    local key value
    while read -r key value; do
        printf '%s=%s\n' "$key" "$(sysctl -n "$key")"
        sysctl -qw "$key=$value"
    done < <(pi_settings "$PI_PROFILE_DIR/sysctl.conf")
}

# pi_sysctl_restore KEY=VALUE...: what pi_sysctl printed, set back.
pi_sysctl_restore() {
    local kv
    for kv in "$@"; do sysctl -qw "$kv"; done
}
