#!/usr/bin/env bash
# `energyhub status`: with the hub and the notifier up it shows both UP, the readings of the last
# minute, the silent devices and the open alert, and exits 0; with the notifier stopped it shows
# it DOWN and exits 1.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/insights_lib.sh"

write_config "" "thresholds:
  defaults:
    device_offline: {after: 10m}
  devices:
    heater_$$: {power_above: {watts: 1000}}"
hub_port=$(unused_port) notifier_port=$(unused_port)
sed -i "s|^  listen: 127.0.0.1:0$|  listen: 127.0.0.1:$hub_port|; s|^  notifier_listen: 127.0.0.1:0$|  notifier_listen: 127.0.0.1:$notifier_port|; s|^  insights_listen: 127.0.0.1:0$|  insights_listen: ''|" "$CONFIG"
grep -q "notifier_listen: 127.0.0.1:$notifier_port" "$CONFIG" || fail "the listeners are not fixed in the config"
create_database
eh user add "u_$$" --email u@example.com >/dev/null
eh device add "heater_$$" --user "u_$$" >/dev/null
eh device add "quiet_$$" --user "u_$$" >/dev/null
start_hub
start_notifier
pub "energy/heater_$$/reading" "{\"ts\":$(( $(now_ms) - 2000 )),\"power_w\":1500}"
pub "energy/heater_$$/reading" "{\"ts\":$(( $(now_ms) - 1000 )),\"power_w\":1600}"
wait_for 10 "the alert" '[[ $(q "SELECT count(*) FROM alerts WHERE device_id = '"'heater_$$'"'") == 1 ]]'

out=$(eh status) || fail "status exited non-zero with everything up: $out"
for want in "^hub  *UP  *http://127.0.0.1:$hub_port .*postgres UP" "^notifier  *UP " "^insights  *-  *no http listener" \
            "^readings  *2 in the last minute from 1 device; 1 of 2 registered devices silent" \
            "^alerts  *1 open: heater_$$ power_above since" "^spool  *[0-9]* bytes waiting" "^insight  *none yet"; do
    grep -q "$want" <<<"$out" || fail "status lacks '$want': $out"
done
printf '%s\n' "$out"
log "everything up: exit 0; daemons, readings, silent devices, alerts, spool"

kill -TERM "$NOTIFIER_PID"
wait "$NOTIFIER_PID" || true
rc=0
out=$(eh status) || rc=$?
[[ $rc == 1 ]] || fail "status exited $rc with the notifier down: $out"
grep -q "^notifier  *DOWN  *http://127.0.0.1:$notifier_port/health" <<<"$out" || fail "status does not show the notifier down: $out"
grep -q "^hub  *UP" <<<"$out" || fail "status lost the hub: $out"
log "the notifier stopped: DOWN, exit 1"

stop_hub
log "ok"
