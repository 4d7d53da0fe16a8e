#!/usr/bin/env bash
# The registry commands as DESIGN.md spells them, their refusals (exit 2, one clear line), and a
# removed device reaching the running hub's caches within seconds.
source "$(dirname "$0")/lib.sh"

write_config
create_database

expect_refusal() {  # expect_refusal "message part" command...
    local want=$1
    shift
    local out rc=0
    out=$("$@" 2>&1) || rc=$?
    [[ $rc -eq 2 ]] || fail "expected exit 2 from '$*', got $rc: $out"
    [[ "$out" == *"$want"* ]] || fail "expected '$want' from '$*', got: $out"
    [[ $(printf '%s\n' "$out" | wc -l) -eq 1 ]] || fail "expected one line from '$*', got: $out"
}

eh user add "bob_$$" --email bob@example.com --name "Bob B" --tz Europe/Berlin | grep -q "added user bob_$$" || fail "user add"
eh user list | grep -q "^bob_$$ .*bob@example.com .*Europe/Berlin .*Bob B" || fail "user list: $(eh user list)"
out=$(eh device add "meter_$$" --user "bob_$$" --type meter --name "Main meter")
secret=$(sed -n 's/^mqtt password: \([^ ]*\).*/\1/p' <<<"$out")
[[ ${#secret} -ge 32 ]] || fail "device add printed no secret: $out"
stored=$(q "SELECT secret_hash FROM devices WHERE device_id = 'meter_$$'")
[[ "$stored" == '$7$'* && "$stored" != *"$secret"* ]] || fail "secret not stored as a PBKDF2 hash: $stored"
eh device list --user "bob_$$" | grep -q "^meter_$$ .*bob_$$ .*meter .*Main meter" || fail "device list: $(eh device list)"
log "user and device added and listed; the secret is stored only as a hash"

expect_refusal "already exists" eh user add "bob_$$" --email x@example.com
expect_refusal "already exists" eh device add "meter_$$" --user "bob_$$"
expect_refusal "no user 'nobody_$$'" eh device add "d2_$$" --user "nobody_$$"
expect_refusal "must match [A-Za-z0-9_.-]{1,64}" eh device add "x';DROP TABLE devices;--" --user "bob_$$"
expect_refusal "must match [A-Za-z0-9_.-]{1,64}" eh user add '$(reboot)' --email a@example.com
expect_refusal "the email must be an address" eh user add "carol_$$" --email nope
expect_refusal "the email must be an address" eh user add "carol_$$" --email $'c@example.com\r\nBcc: x@evil.example'
# Names end up in email headers and HTML: bounded, printable UTF-8 only.
expect_refusal "the device's name must be at most 80 characters" eh device add "d3_$$" --user "bob_$$" --name "$(printf 'x%.0s' {1..81})"
expect_refusal "the device's name must be at most 80 characters" eh device add "d3_$$" --user "bob_$$" --name $'Kettle\r\n--boundary'
expect_refusal "the device's name must be at most 80 characters" eh device add "d3_$$" --user "bob_$$" --name $'\xff\xfe'
expect_refusal "the user's name must be at most 80 characters" eh user add "carol_$$" --email c@example.com --name $'Carol\x1b[31m'
expect_refusal "device type must be" eh device add "d3_$$" --user "bob_$$" --type "heat pump"
expect_refusal "unknown time zone" eh user add "carol_$$" --email c@example.com --tz Mars/Olympus
expect_refusal "no device 'ghost_$$'" eh device remove "ghost_$$"
expect_refusal "--since" eh usage --device "meter_$$" --since yesterday
[[ "$(q "SELECT count(*) FROM devices")" == 1 ]] || fail "a refused command changed the registry"
log "bad ids, unknown owners, duplicates and bad flags are refused with one line each"

# A running hub forgets a removed device within seconds, and learns an added one.
subscribe "$WORK_DIR/deadletter.txt" energyhub/deadletter
start_hub
pub "energy/meter_$$/reading" '{"power_w":1}'
count() { q "SELECT count(*) FROM readings"; }
wait_for 10 "first reading stored" '[[ $(count) == 1 ]]'
eh device remove "meter_$$" | grep -q "removed device meter_$$" || fail "device remove"
sleep 3
pub "energy/meter_$$/reading" '{"power_w":2}'
wait_for 10 "the removed device is dead-lettered" 'grep -q "unknown_device.*meter_$$" "$WORK_DIR/deadletter.txt"'
[[ "$(q "SELECT count(*) FROM readings")" == 1 ]] || fail "reading of a removed device was stored"
eh device add "meter_$$" --user "bob_$$" >/dev/null
sleep 3
pub "energy/meter_$$/reading" '{"power_w":3}'
wait_for 10 "the re-added device is stored" '[[ $(count) == 2 ]]'
stop_hub
log "ok"
