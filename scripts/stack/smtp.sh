# shellcheck shell=bash
# Sourced by scripts/stack.sh. The SMTP mail catcher: scripts/mailcatcher.py, detached with setsid;
# it writes its pid file once it listens, and serves the caught mail over HTTP.

SERVER_KEY[smtp]=SMTP
SMTP_LOG=$RUN_DIR/smtp.log
SMTP_PID=$RUN_DIR/smtp.pid
MAIL_DIR=$RUN_DIR/mail

smtp_pid() { live_pid "$SMTP_PID" mailcatcher.py; }
smtp_ready() { smtp_pid >/dev/null && port_listening "$SMTP_PORT"; }

smtp_prepare() {
    require_free_port smtp "$MAIL_HTTP_PORT" MAIL_HTTP
    "$PYTHON" -c 'import aiosmtpd' 2>/dev/null ||
        die "smtp: $PYTHON cannot import aiosmtpd; run scripts/install-deps.sh or set ENERGYHUB_PYTHON"
    mkdir -p "$MAIL_DIR"
    rm -f "$SMTP_PID"
}

# Own session and no inherited terminal or pipes, so the catcher outlives this script and a
# caller reading our output, e.g. $(stack.sh start), does not wait for it. A catcher that never
# listens is not left behind.
smtp_launch() {
    without_extra_fds setsid "$PYTHON" "$SCRIPT_DIR/mailcatcher.py" --host 127.0.0.1 --port "$SMTP_PORT" \
        --http-port "$MAIL_HTTP_PORT" --mail-dir "$MAIL_DIR" --pidfile "$SMTP_PID" </dev/null >>"$SMTP_LOG" 2>&1 &
    local child=$!
    wait_for "$START_TIMEOUT" smtp_ready && return 0
    kill -TERM "$child" 2>/dev/null || true
    return 1
}

smtp_details() { printf 'mail in %s, inbox at http://127.0.0.1:%s/' "$MAIL_DIR" "$MAIL_HTTP_PORT"; }
