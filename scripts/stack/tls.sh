# shellcheck shell=bash
# Sourced by scripts/stack.sh. A private CA (ca.crt, ca.key) and a server certificate for localhost
# and 127.0.0.1 signed by it, made once per run folder with openssl: Mosquitto's TLS listeners and
# PostgreSQL use them, and `energyhub device add --cert` may issue device certificates from the CA.
# Tests that need other certificates (another CA, an expired one) make their own.

TLS_DIR=$RUN_DIR/tls

ensure_certs() {
    [[ -s "$TLS_DIR/ca.crt" && -s "$TLS_DIR/server.crt" && -s "$TLS_DIR/server.key" ]] && return 0
    mkdir -p "$TLS_DIR"
    local log=$TLS_DIR/openssl.log
    (
        cd "$TLS_DIR" && umask 077 &&
        openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout ca.key -out ca.crt \
            -days 3650 -subj "/CN=energyhub stack CA" -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign" &&
        openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout server.key -out server.csr \
            -subj "/CN=localhost" &&
        printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' >server.ext &&
        openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 825 -sha256 \
            -extfile server.ext -out server.crt &&
        chmod 644 ca.crt server.crt && rm -f server.csr server.ext
    ) >"$log" 2>&1 || die_with_log "$log" "tls: cannot make the stack's certificates with openssl"
    say "tls: made a private CA and a certificate for localhost in $TLS_DIR"
}
