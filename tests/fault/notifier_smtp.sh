#!/usr/bin/env bash
# The notifier against an SMTP server that refuses for a while (4xx), refuses for good (5xx), keeps
# refusing past the retry budget, and one that has taken a message when the notifier is killed
# before it could record it. Per case: alerts raised, emailed, duplicated, lost; a given-up alert
# shows in the table and the metrics instead of an email.
PRIVATE_STACK_PORT=19150
source "$(dirname "$0")/../integration/lib.sh"

write_config "" "thresholds:
  defaults:
    power_above: {watts: 1000}"
sed -i 's/^  retry_max: 2s$/  retry_max: 2s\n  max_attempts: 4/' "$CONFIG"
create_database
ADDR="ops_$$@example.com"
eh user add "ops_$$" --email "$ADDR" --name Ops >/dev/null
for d in slow refused budget killed; do eh device add "${d}_$$" --user "ops_$$" --type plug >/dev/null; done
FAIL_FILE="$ENERGYHUB_MAIL_DIR/.fail"
HOLD_FILE="$ENERGYHUB_MAIL_DIR/.hold"
EXTRA_CLEANUP+=("rm -f '$FAIL_FILE' '$HOLD_FILE'")
start_hub
start_notifier

fire() { pub "energy/$1_$$/reading" "{\"ts\":$(now_ms),\"power_w\":1500}"; }
row() { q "SELECT notify_attempts, notified_at IS NOT NULL, failed_at IS NOT NULL FROM alerts WHERE device_id = '$1_$$'" | tr '\t' ' '; }
copies() { mails_to "$ADDR" | grep -c "$1_$$" || true; }
ids() { { mails_to "$ADDR" | grep "$1_$$" || true; } | cut -f2 | sort -u | wc -l; }
notifier_metric() { curl -s "http://127.0.0.1:$(http_port notifier)/metrics" | awk -v m="$1" '$1 == m { printf "%d\n", $2 }'; }

# verdict CASE: one alert raised per case, then either emailed (counted by distinct Message-ID) or
# given up (failed_at set); lost is neither.
verdict() {
    local name=$1 emailed copies given_up
    emailed=$(ids "$name")
    copies=$(copies "$name")
    given_up=$(q "SELECT count(*) FROM alerts WHERE device_id = '${name}_$$' AND failed_at IS NOT NULL")
    printf '[%s] case=%s alerts=1 emailed=%s copies=%s given_up=%s lost=%s attempts=%s\n' "$TEST_NAME" "$name" \
        "$emailed" "$copies" "$given_up" $((1 - emailed - given_up)) "$(row "$name" | cut -d' ' -f1)"
    ((emailed + given_up == 1)) || fail "$name: emailed $emailed, given up $given_up"
}

# 451 for a while: retried with backoff, emailed once when the server takes mail again.
echo 451 >"$FAIL_FILE"
fire slow
wait_for 20 "two refused attempts" '(( $(row slow | cut -d" " -f1) >= 2 ))'
[[ $(copies slow) == 0 ]] || fail "slow: a refused email was stored"
rm -f "$FAIL_FILE"
wait_for 20 "the email after the refusals" '[[ $(row slow) == *" t f" ]]'
sleep 2  # a second copy would show now
verdict slow
(($(copies slow) == 1)) || fail "slow: $(copies slow) copies"
(($(notifier_metric energyhub_emails_failed_total) >= 2)) || fail "refusals not counted in emails_failed_total"

# 554: a permanent refusal is not retried; the alert is marked failed and counted as given up.
echo 554 >"$FAIL_FILE"
fire refused
wait_for 20 "the alert given up" '[[ $(row refused) == "1 f t" ]]'
rm -f "$FAIL_FILE"
sleep 3  # nothing may be retried now that the server accepts again
[[ $(row refused) == "1 f t" ]] || fail "refused: retried after a permanent refusal: $(row refused)"
[[ $(q "SELECT notify_error FROM alerts WHERE device_id = 'refused_$$'") == *554* ]] || fail "refused: the SMTP reply is not recorded"
verdict refused
(($(ids refused) == 0)) || fail "refused: emailed after a permanent refusal"
(($(notifier_metric energyhub_alerts_given_up_total) == 1)) || fail "given-up alert not counted"

# 451 for good: given up after max_attempts (4), visible in the metrics.
echo 451 >"$FAIL_FILE"
fire budget
wait_for 30 "the retry budget spent" '[[ $(row budget) == "4 f t" ]]'
rm -f "$FAIL_FILE"
sleep 3
verdict budget
(($(ids budget) == 0)) || fail "budget: emailed after the budget was spent"
(($(notifier_metric energyhub_alerts_given_up_total) == 2)) || fail "budget: given-up alert not counted"

# Killed between send and record: the server holds the message while the notifier dies before
# marking the row. SMTP cannot tell the restarted notifier whether the message arrived, so it
# sends it again with the same Message-ID (RFC 5321 §6.1 accepts this duplicate over a loss; mail
# clients show one message per Message-ID). The alert must arrive, under one Message-ID.
touch "$HOLD_FILE"
fire killed
wait_for 20 "the message taken by the server" '(( $(copies killed) == 1 ))'
kill -9 "$NOTIFIER_PID"; wait "$NOTIFIER_PID" 2>/dev/null || true; NOTIFIER_PID=""
rm -f "$HOLD_FILE"
[[ $(row killed) == "0 f f" ]] || fail "killed: the row was recorded although the notifier died first: $(row killed)"
start_notifier
wait_for 20 "the alert recorded after the restart" '[[ $(row killed) == *" t f" ]]'
sleep 2
verdict killed
(($(copies killed) <= 2)) || fail "killed: $(copies killed) copies"

# Every other alert was emailed at most once in all of this.
total=$(mails_to "$ADDR" | wc -l)
((total == 1 + $(copies killed))) || fail "unexpected emails: $(mails_to "$ADDR")"
stop_hub
log "ok"
