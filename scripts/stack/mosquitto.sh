# shellcheck shell=bash
# Sourced by scripts/stack.sh. Mosquitto: config rendered from config/mosquitto.conf, daemonized
# by mosquitto -d; plain MQTT, TLS, and TLS with client certificates.

SERVER_KEY[mosquitto]=MQTT
MQTT_CONF=$RUN_DIR/mosquitto.conf
MQTT_LOG=$RUN_DIR/mosquitto.log
MQTT_PID=$RUN_DIR/mosquitto.pid

mosquitto_pid() { live_pid "$MQTT_PID" mosquitto; }
mosquitto_ready() { mosquitto_pid >/dev/null && port_listening "$MQTT_PORT"; }

mosquitto_prepare() {
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
    if [[ -n "${ENERGYHUB_MOSQUITTO_CONF_D:-}" ]]; then
        # Drop-ins read after the template, as Debian's mosquitto.conf reads /etc/mosquitto/conf.d.
        [[ -d "$ENERGYHUB_MOSQUITTO_CONF_D" ]] || die "mosquitto: no folder $ENERGYHUB_MOSQUITTO_CONF_D"
        printf 'include_dir %s\n' "$ENERGYHUB_MOSQUITTO_CONF_D" >>"$MQTT_CONF.tmp"
    fi
    mv -f "$MQTT_CONF.tmp" "$MQTT_CONF"
    rm -f "$MQTT_PID"
}

# Config errors are printed before mosquitto daemonizes: keep them in the log too. On SIGTERM
# (the default halt) mosquitto saves its persistence database before exiting.
mosquitto_launch() {
    (without_extra_fds mosquitto -c "$MQTT_CONF" -d) </dev/null >>"$MQTT_LOG" 2>&1
}
