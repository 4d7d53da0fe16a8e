#!/usr/bin/env bash
# Threshold alerts end to end: readings → rule engine in the hub → alerts table and topic →
# notifier → SMTP mail catcher. One firing and one resolved event per episode, no extra alerts
# while the power flaps inside the hysteresis band, usage across a counter reset, emails that
# arrive once each through an SMTP outage and a notifier crash, and the daily limit on the owner's
# local day.
source "$(dirname "$0")/lib.sh"

write_config "" "thresholds:
  defaults:
    device_offline: {after: 1h}
  devices:
    kettle_$$: {power_above: {watts: 2000, for: 2s, clear_below: 1800}}
    meter_$$: {daily_energy_above: {kwh: 1}}
    heater_$$: {power_above: {watts: 1000}}
    fan_$$: {power_above: {watts: 1000}}
    night_$$: {daily_energy_above: {kwh: 1}}"
create_database
ADDR="alice_$$@example.com"
eh user add "alice_$$" --email "$ADDR" --name Alice --tz Europe/Berlin >/dev/null
for d in kettle meter heater fan night; do eh device add "${d}_$$" --user "alice_$$" --type plug --name "${d^}" >/dev/null; done
subscribe "$WORK_DIR/alerts.txt" "alerts/alice_$$/#"
start_hub
start_notifier

t=$(( $(now_ms) - 120000 ))
reading() { pub "energy/$1_$$/reading" "{\"ts\":$2,\"power_w\":$3${4:+,\"energy_wh\":$4}}"; }
events() { grep -c "\"device_id\":\"$1_$$\".*\"state\":\"$2\"\|\"state\":\"$2\".*\"device_id\":\"$1_$$\"" "$WORK_DIR/alerts.txt" || true; }

# Above 2000 W for 2 s: one firing. Then three times 1900 W (inside the band) followed by 4 s at
# 2100 W, longer than `for`: without the band, each 1900 would resolve and each 2100 stretch fire
# again. 1500 W (below clear_below): the one resolve.
reading kettle $t 2500
reading kettle $((t + 1000)) 2600
reading kettle $((t + 2500)) 2700
for cycle in 0 1 2; do
    base=$((t + 3500 + cycle * 5000))
    reading kettle $base 1900
    for s in 1 2 3 4; do reading kettle $((base + s * 1000)) 2100; done
done
reading kettle $((t + 20000)) 1500
wait_for 10 "the resolved event" '[[ $(events kettle resolved) == 1 ]]'
sleep 1
[[ $(events kettle firing) == 1 && $(events kettle resolved) == 1 ]] || fail "expected one firing and one resolved event: $(cat "$WORK_DIR/alerts.txt")"
[[ $(q "SELECT count(*) FROM alerts WHERE device_id = 'kettle_$$'") == 2 ]] || fail "expected two alert rows"
row=$(q "SELECT rule, value, threshold, (extract(epoch FROM since) * 1000)::bigint FROM alerts WHERE device_id = 'kettle_$$' AND state = 'firing'")
[[ "$row" == "power_above"$'\t'2700$'\t'2000$'\t'$t ]] || fail "firing alert row is wrong: $row"
row=$(q "SELECT value, (extract(epoch FROM ts) * 1000)::bigint FROM alerts WHERE device_id = 'kettle_$$' AND state = 'resolved'")
[[ "$row" == 1500$'\t'$((t + 20000)) ]] || fail "the resolve did not come from the reading below clear_below: $row"
log "one firing and one resolved event; flapping inside the hysteresis band raised nothing"

wait_for 15 "two emails for the kettle" '[[ $(mails_to "$ADDR" | grep -c "Kettle: high power") == 2 ]]'
firing_mail=$(mails_to "$ADDR" | grep "Kettle: high power (firing)" | cut -f3)
[[ -n "$firing_mail" ]] || fail "no firing email: $(mails_to "$ADDR")"
for want in "To: $ADDR" "2700 W" "2000 W" "Hello Alice" "kettle_$$" "Europe/Berlin" "text/html"; do
    grep -q "$want" "$ENERGYHUB_MAIL_DIR/$firing_mail" || fail "firing email lacks '$want'"
done
[[ -n $(q "SELECT 1 FROM alerts WHERE device_id = 'kettle_$$' AND notified_at IS NULL") ]] && fail "notified_at not recorded"
log "emails for the firing and the resolved event went to $ADDR with value, threshold and time"

# A counter that resets: 600 + 100 + 250 = 950 Wh, then 100 more crosses 1 kWh.
reading meter $t 100 1000
reading meter $((t + 1000)) 100 1600
reading meter $((t + 2000)) 100 100
reading meter $((t + 3000)) 100 350
sleep 2
[[ $(events meter firing) == 0 ]] || fail "daily energy fired below 1 kWh: a counter reset was counted wrong"
reading meter $((t + 4000)) 100 450
wait_for 10 "daily energy alert" '[[ $(events meter firing) == 1 ]]'
# The event is announced once decided; its row comes with the reading's batch.
wait_for 5 "the alert's row" '[[ -n $(q "SELECT 1 FROM alerts WHERE device_id = '"'meter_$$'"'") ]]'
value=$(q "SELECT round(value::numeric, 3) FROM alerts WHERE device_id = 'meter_$$'")
[[ "$value" == 1.050 ]] || fail "daily energy should be 1.050 kWh, alert says $value"
log "daily energy across a counter reset: $value kWh"
wait_for 10 "the daily energy email" '[[ $(mails_to "$ADDR" | grep -c "Meter") == 1 ]]'

# SMTP down while two alerts fire; both emails arrive once each after it returns.
stop_server smtp
reading heater $((t + 30000)) 1500
reading fan $((t + 30000)) 1500
wait_for 15 "a failed attempt while SMTP is down" '[[ $(q "SELECT count(*) FROM alerts WHERE device_id IN ('"'heater_$$'"', '"'fan_$$'"') AND notify_attempts > 0") == 2 ]]'
start_server smtp
wait_for 20 "both emails after SMTP returned" '[[ $(mails_to "$ADDR" | grep -c "Heater\|Fan") == 2 ]]'
sleep 3
[[ $(mails_to "$ADDR" | grep -c "Heater\|Fan") == 2 ]] || fail "an email was sent twice: $(mails_to "$ADDR")"
log "SMTP outage: both emails arrived once each"

# The notifier killed after the alert was raised, before it could send: the email still arrives once.
kill -9 "$NOTIFIER_PID"; wait "$NOTIFIER_PID" 2>/dev/null || true; NOTIFIER_PID=""
reading heater $((t + 40000)) 100
wait_for 10 "heater resolved event" '[[ $(events heater resolved) == 1 ]]'
start_notifier
wait_for 15 "email after the notifier restart" '[[ $(mails_to "$ADDR" | grep -c "Heater: high power (resolved)") == 1 ]]'
sleep 3
[[ $(mails_to "$ADDR" | grep -c "Heater: high power (resolved)") == 1 ]] || fail "email after restart sent more than once"
total=$(mails_to "$ADDR" | wc -l)
distinct=$(mails_to "$ADDR" | cut -f2 | sort -u | wc -l)
((total == distinct)) || fail "$total emails but only $distinct distinct Message-IDs"
log "notifier crash: the email arrived once; $total emails, all distinct"

# The daily limit counts Alice's day, in Berlin: 600 Wh half an hour before her midnight and 600 Wh
# half an hour after are two days (one UTC day would hold both and fire); 600 Wh more after
# midnight makes 1.2 kWh of the new day and fires.
midnight=$(TZ=Europe/Berlin date -d "today 00:00" +%s)
(($(date +%s) - midnight < 3600)) && midnight=$(TZ=Europe/Berlin date -d "yesterday 00:00" +%s)
m=$((midnight * 1000))
daily() { q "SELECT count(*) FROM alerts WHERE device_id = 'night_$$' AND rule = 'daily_energy_above'"; }
reading night $((m - 3000000)) 100 0
reading night $((m - 1800000)) 100 600
reading night $((m + 1800000)) 100 1200
wait_for 10 "three readings around Berlin's midnight" '[[ $(q "SELECT count(*) FROM readings WHERE device_id = '"'night_$$'"'") == 3 ]]'
sleep 1
[[ $(daily) == 0 ]] || fail "600 Wh on each side of the owner's midnight fired the daily limit"
reading night $((m + 2400000)) 100 1800
wait_for 10 "the new day's alert" '[[ $(daily) == 1 ]]'
since=$(q "SELECT (extract(epoch FROM since) * 1000)::bigint FROM alerts WHERE device_id = 'night_$$' AND rule = 'daily_energy_above'")
[[ $since == $((m + 2400000)) ]] || fail "the daily alert came from the reading at $since, not at $((m + 2400000))"
log "the daily limit counted Alice's day in Europe/Berlin, not the UTC day"
stop_hub
log "ok"
