#!/usr/bin/env bash
# The spool's position moves only after the batch's transaction commits. PostgreSQL is made to
# refuse every reading, so the hub's transactions fail while it holds five acknowledged readings;
# the hub is killed with SIGKILL, PostgreSQL accepts again, and the next start must store all five
# from the spool. Then the same with SIGTERM: the hub gives up draining after its deadline and must
# leave the unstored readings spooled. A deterministic, short version of what the kill tests find
# by chance.
source "$(dirname "$0")/lib.sh"

write_config
create_database
eh user add "olga_$$" --email olga@example.com >/dev/null
eh device add "plug_$$" --user "olga_$$" >/dev/null
count() { q "SELECT count(*) FROM readings"; }
failures() { curl -s "http://127.0.0.1:$(http_port hub)/metrics" | sed -n 's/^energyhub_store_failures_total \([0-9]*\).*/\1/p'; }

refuse() { q "CREATE TRIGGER refuse BEFORE INSERT ON readings FOR EACH ROW EXECUTE FUNCTION refuse_readings()" >/dev/null; }
accept() { q "DROP TRIGGER refuse ON readings" >/dev/null; }
q "CREATE FUNCTION refuse_readings() RETURNS trigger LANGUAGE plpgsql AS \$\$
     BEGIN RAISE EXCEPTION 'refused by spool_commit_order'; END \$\$" >/dev/null
refuse

# Each reading with a time of its own: dated on arrival, two could share a millisecond (one row).
base_ms=$(($(now_ms) - 60000))
reading() { pub "energy/plug_$$/reading" "{\"ts\":$((base_ms + $1)),\"power_w\":$1}"; }
start_hub
for i in 1 2 3 4 5; do reading "$i"; done
wait_for 20 "two failed transactions" '(( $(failures) >= 2 ))' 'echo "store failures $(failures), stored $(count)"'
[[ $(count) == 0 ]] || fail "a reading was stored while PostgreSQL refused them"
kill9_hub
log "five readings acknowledged, every transaction refused, hub killed with SIGKILL"

accept
start_hub
wait_for 20 "the five spooled readings stored after the restart" '[[ $(count) == 5 ]]' \
    'echo "stored $(count) of 5: $((5 - $(count))) lost with the spool position committed too early"'
[[ $(q "SELECT count(DISTINCT power_w) FROM readings") == 5 ]] || fail "a reading was stored twice or changed"
log "all five stored from the spool after the restart"

refuse
for i in 6 7 8; do reading "$i"; done
wait_for 20 "a failed transaction" '(( $(failures) >= 1 ))'
stop_hub  # drains for up to 15 s, then exits with the readings unstored
accept
start_hub
wait_for 20 "the three readings left at SIGTERM stored after the restart" '[[ $(count) == 8 ]]' \
    'echo "stored $(count) of 8: $((8 - $(count))) committed in the spool at SIGTERM without being stored"'
stop_hub
log "ok: readings unstored at SIGTERM stayed spooled and were stored after the restart"
