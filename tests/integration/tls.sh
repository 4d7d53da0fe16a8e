#!/usr/bin/env bash
# TLS end to end, with the stack's private CA (scripts/stack.sh makes it) and certificates this
# test makes: the hub, notifier and insights over MQTT/TLS with PostgreSQL at sslmode=verify-full;
# a broker certificate from another CA refused with a line naming the trusted file; firmware-sim
# over TLS; devices logging in to the plugin's broker by client certificate (`device add --cert`),
# one from another CA and an expired one refused; the dashboard and API over HTTPS with the token.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/broker_lib.sh"

: "${ENERGYHUB_TLS_DIR:?the stack exports it}" "${ENERGYHUB_MQTTS_URI:?the stack exports it}"
CA=$ENERGYHUB_TLS_DIR/ca.crt
PG_PORT=${ENERGYHUB_PG_DSN##*:}
PG_PORT=${PG_PORT%%/*}
TLS_DSN="host=localhost port=$PG_PORT dbname=$DB_NAME user=energyhub sslmode=verify-full sslrootcert=$CA"

# --- Certificates the test needs besides the stack's: another CA, and an expired device cert --
certs=$WORK_DIR/certs
mkdir -p "$certs"
(
    cd "$certs"
    openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout other-ca.key -out other-ca.crt \
        -days 30 -subj "/CN=another CA"
    # A device certificate from the other CA, and one from the stack's CA that expired in 2020.
    openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout foreign.key -out foreign.csr -subj "/CN=foreign_$$"
    openssl x509 -req -in foreign.csr -CA other-ca.crt -CAkey other-ca.key -CAcreateserial -days 30 -out foreign.crt
    openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout expired.key -out expired.csr -subj "/CN=expired_$$"
    printf '[ca]\ndefault_ca = t\n[t]\ndatabase = index.txt\nnew_certs_dir = .\nserial = serial\ndefault_md = sha256\npolicy = p\n[p]\ncommonName = supplied\n' >ca.cnf
    : >index.txt
    echo 01 >serial
    openssl ca -batch -config ca.cnf -cert "$CA" -keyfile "$ENERGYHUB_TLS_DIR/ca.key" -in expired.csr -out expired.crt \
        -startdate 20200101000000Z -enddate 20200102000000Z -notext
) >"$certs/openssl.log" 2>&1 || fail "openssl could not make the test certificates: $(tail -5 "$certs/openssl.log")"

# --- The daemons over MQTT/TLS, PostgreSQL with verify-full ---------------------------------
MQTT_EXTRA="  tls: {ca_file: $CA}
  topics: {discovery_prefix: ''}"
write_config "" "thresholds:
  defaults:
    power_above: {watts: 1000}
insights:
  client_id: insights-$TEST_ID
ollama:
  url: ''
device_ca:
  cert_file: $CA
  key_file: $ENERGYHUB_TLS_DIR/ca.key
  days: 30"
sed -i -e "0,/^  uri: /s|^  uri: .*|  uri: $ENERGYHUB_MQTTS_URI|" -e "s|^  dsn: .*|  dsn: \"$TLS_DSN\"|" "$CONFIG"
create_database
eh check-config --connect >"$WORK_DIR/check.txt" 2>&1 || fail "check-config --connect over TLS: $(cat "$WORK_DIR/check.txt")"
eh user add "tina_$$" --email "tina_$$@example.com" >/dev/null
eh device add "plug_$$" --user "tina_$$" >/dev/null
start_hub
start_notifier
tls_pub() { mosquitto_pub -h localhost -p "${ENERGYHUB_MQTTS_URI##*:}" --cafile "$CA" -q 1 "$@"; }
tls_pub -t "energy/plug_$$/reading" -m '{"power_w":1500}'
wait_for 15 "a reading published over TLS stored" '[[ $(q "SELECT count(*) FROM readings") == 1 ]]'
wait_for 20 "the alert's email (the notifier got the alert over TLS)" '[[ -n $(mails_to "tina_$$@example.com") ]]'
ssl_backends=$(q "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.datname = '$DB_NAME' AND s.ssl")
((ssl_backends >= 2)) || fail "the daemons' database sessions do not use TLS ($ssl_backends with ssl)"
grep -q "connected to $ENERGYHUB_MQTTS_URI" "$WORK_DIR/hub.log" "$WORK_DIR/notifier.log" || fail "no TLS connection in the logs"
mosquitto_sub -h localhost -p "${ENERGYHUB_MQTTS_URI##*:}" --cafile "$CA" -t "insights/tina_$$" -C 1 -W 15 >"$WORK_DIR/insight.txt" &
sub=$!
sleep 0.5
eh insights --once --user "tina_$$" >"$WORK_DIR/insights.log" 2>&1 || fail "insights --once over TLS: $(tail -3 "$WORK_DIR/insights.log")"
wait "$sub" || fail "no insight arrived over TLS"
grep -q '"user_id":"tina_'"$$"'"' "$WORK_DIR/insight.txt" || fail "the insight over TLS is not tina's: $(cat "$WORK_DIR/insight.txt")"
log "hub, notifier and insights over MQTT/TLS; $ssl_backends database sessions with sslmode=verify-full"

# --- Trust is checked: another CA, an unreadable file ------------------------------------------
sed "s|ca_file: $CA|ca_file: $certs/other-ca.crt|" "$CONFIG" >"$WORK_DIR/wrong-ca.yaml"
! "$ENERGYHUB_BIN" check-config --connect --config "$WORK_DIR/wrong-ca.yaml" >"$WORK_DIR/wrong.txt" 2>&1 ||
    fail "a broker certificate from another CA was accepted"
grep -q "certificate verify failed.*other-ca.crt" "$WORK_DIR/wrong.txt" || fail "the refusal does not name the trusted file: $(cat "$WORK_DIR/wrong.txt")"
sed "s|ca_file: $CA|ca_file: $certs/nope.crt|" "$CONFIG" >"$WORK_DIR/missing.yaml"
rc=0
"$ENERGYHUB_BIN" check-config --config "$WORK_DIR/missing.yaml" >"$WORK_DIR/missing.txt" 2>&1 || rc=$?
((rc == 2)) && grep -q "mqtt.tls.ca_file: cannot read '$certs/nope.crt'" "$WORK_DIR/missing.txt" ||
    fail "an unreadable ca_file is not a config error naming it (exit $rc): $(cat "$WORK_DIR/missing.txt")"
sed "s|sslrootcert=$CA|sslrootcert=$certs/other-ca.crt|" "$CONFIG" >"$WORK_DIR/wrong-pg.yaml"
! "$ENERGYHUB_BIN" check-config --connect --config "$WORK_DIR/wrong-pg.yaml" >"$WORK_DIR/wrong-pg.txt" 2>&1 ||
    fail "PostgreSQL's certificate was accepted against another CA"
grep -q "postgres.*certificate verify failed" "$WORK_DIR/wrong-pg.txt" || fail "PostgreSQL refusal unclear: $(cat "$WORK_DIR/wrong-pg.txt")"
log "another CA refused for the broker (naming the file) and for PostgreSQL; an unreadable ca_file is a config error"

# --- firmware-sim over TLS -----------------------------------------------------------------
"$FIRMWARE_SIM_BIN" --register-only --config "$CONFIG" --devices 2 --users 1 --device-prefix "tsim$$" >/dev/null
"$FIRMWARE_SIM_BIN" --uri "$ENERGYHUB_MQTTS_URI" --ca-file "$CA" --devices 2 --users 1 --device-prefix "tsim$$" \
    --count 5 --rate 0 --log-level warn >"$WORK_DIR/sim.txt" 2>&1 || fail "firmware-sim over TLS: $(cat "$WORK_DIR/sim.txt")"
wait_for 15 "firmware-sim's readings stored" '[[ $(q "SELECT count(*) FROM readings WHERE device_id LIKE '"'tsim$$-%'"'") == 10 ]]'
! "$FIRMWARE_SIM_BIN" --uri "$ENERGYHUB_MQTTS_URI" --ca-file "$certs/other-ca.crt" --devices 1 --users 1 \
    --device-prefix "tsim$$" --count 1 --log-level off >/dev/null 2>&1 || fail "firmware-sim trusted another CA"
log "firmware-sim over TLS: 10 readings stored; another CA refused"

# --- Devices by client certificate at the plugin's broker -----------------------------------
eh device add "cert_$$" --user "tina_$$" --cert "$certs" >"$WORK_DIR/cert-add.txt" || fail "device add --cert failed"
grep -q "client certificate: $certs/cert_$$.crt" "$WORK_DIR/cert-add.txt" || fail "device add --cert: $(cat "$WORK_DIR/cert-add.txt")"
[[ $(stat -c %a "$certs/cert_$$.key") == 600 ]] || fail "the device key is not mode 600"
openssl verify -CAfile "$CA" "$certs/cert_$$.crt" >/dev/null || fail "the issued certificate does not chain to the CA"
openssl x509 -in "$certs/cert_$$.crt" -noout -subject | grep -q "CN *= *cert_$$" || fail "the certificate's CN is not the device id"
eh device add "foreign_$$" --user "tina_$$" >/dev/null
eh device add "expired_$$" --user "tina_$$" >/dev/null
HUB=$(eh account add "hub_$$" --role service --daemon hub | secret_of)
cert_port=$(free_port 18950)
# The plugin reads the registry over TLS as well, verifying PostgreSQL's certificate.
PLUGIN_DSN="postgresql://energyhub@localhost:$PG_PORT/$DB_NAME?sslmode=verify-full&sslrootcert=$CA"
start_broker "listener $cert_port 127.0.0.1" "cafile $CA" "certfile $ENERGYHUB_TLS_DIR/server.crt" \
    "keyfile $ENERGYHUB_TLS_DIR/server.key" "require_certificate true" "use_identity_as_username true"
mqtt_sub "$WORK_DIR/hub.txt" "hub_$$" "$HUB" 'energy/+/reading'
as_cert() {
    local name=$1
    mosquitto_pub -h localhost -p "$cert_port" --cafile "$CA" --cert "$certs/$name.crt" --key "$certs/$name.key" \
        -i "$name" -q 1 -t "energy/$2/reading" -m "$3"
}
[[ $(q "SELECT bool_and(s.ssl) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
       WHERE a.application_name = 'energyhub-mosquitto' AND a.datname = '$DB_NAME'") == t ]] ||
    fail "the plugin's registry connection does not use TLS"
as_cert "cert_$$" "cert_$$" '{"power_w":42}' 2>"$WORK_DIR/cert.err" || fail "a device certificate was refused: $(cat "$WORK_DIR/cert.err")"
wait_for 10 "the certified device's reading at the hub" 'grep -qx "energy/cert_$$/reading {\"power_w\":42}" "$WORK_DIR/hub.txt"'
as_cert "cert_$$" "plug_$$" '{"power_w":666}' 2>/dev/null || true  # its certificate does not make it another device
! as_cert "foreign_$$" "foreign_$$" '{"power_w":1}' 2>/dev/null || fail "a certificate from another CA got in"
! as_cert "expired_$$" "expired_$$" '{"power_w":1}' 2>/dev/null || fail "an expired certificate got in"
# A certificate is no password: the device cannot log in with its name alone on the password listener.
! mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -u "cert_$$" -t "energy/cert_$$/reading" -m '{"power_w":1}' 2>/dev/null ||
    fail "a device name without password or certificate got in"
sleep 0.5
! grep -q "666\|foreign_$$\|expired_$$" "$WORK_DIR/hub.txt" || fail "the hub got what it must not: $(cat "$WORK_DIR/hub.txt")"
grep -q "denied publish of 'cert_$$' to 'energy/plug_$$/reading'" "$BROKER_LOG" || fail "no line for the certified device's spoof"
stop_broker
log "a device certificate from device add --cert logs in as its CN; another CA, an expired certificate and a bare name are refused; the plugin reads the registry with verify-full"

# --- Dashboard and API over HTTPS -------------------------------------------------------------
stop_hub
TOKEN="tls-token-$$"
mv "$WORK_DIR/hub.log" "$WORK_DIR/hub-mqtt.log"  # the next start's "listening" line is the one to read
# A fixed port: energyhub status reads it from the config.
https_port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sed -i -e "s|^  listen: 127.0.0.1:0|  listen: 127.0.0.1:$https_port\n  token: $TOKEN\n  tls: {cert_file: $ENERGYHUB_TLS_DIR/server.crt, key_file: $ENERGYHUB_TLS_DIR/server.key}|" "$CONFIG"
start_hub
port=$(http_port hub)
grep -q "http listening on 127.0.0.1:$port (https)" "$WORK_DIR/hub.log" || fail "the hub does not say it serves HTTPS"
https() { curl -s -o /dev/null -w '%{http_code}' --cacert "$CA" "$@"; }
[[ $(https -H "Authorization: Bearer $TOKEN" "https://localhost:$port/api/devices") == 200 ]] || fail "the API over HTTPS with the token"
[[ $(https "https://localhost:$port/api/devices") == 401 ]] || fail "the API over HTTPS without the token"
[[ $(https "https://localhost:$port/") == 200 ]] || fail "the dashboard page over HTTPS"
[[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health") == 000 ]] || fail "the HTTPS port answered plain HTTP"
curl -s --cacert "$certs/other-ca.crt" "https://localhost:$port/health" >/dev/null 2>&1 && fail "curl trusted the listener through another CA"
eh status >"$WORK_DIR/status.txt" 2>&1 || true
grep -q "^hub .*UP" "$WORK_DIR/status.txt" || fail "energyhub status cannot read the hub over HTTPS: $(cat "$WORK_DIR/status.txt")"
stop_hub
log "dashboard and API over HTTPS: token required, plain HTTP refused, energyhub status reads it"
log "ok"
