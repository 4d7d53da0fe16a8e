#!/usr/bin/env bash
# The systemd units pass `systemd-analyze verify` with no complaint and `systemd-analyze security`
# rates them OK; the .deb builds, lists the expected layout and Debian dependencies, and installs
# into a throwaway root.
set -euo pipefail
: "${ENERGYHUB_BUILD_DIR:?set by ctest}"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
fail() { echo "[packaging] FAIL: $*" >&2; exit 1; }
log() { echo "[packaging] $*"; }

# verify checks that ExecStart= exists: point the units at the binary of this build.
mkdir "$WORK/units"
cp "$ENERGYHUB_BUILD_DIR"/systemd/*.service "$WORK/units/"
sed -i "s|^ExecStart=[^ ]*/energyhub |ExecStart=$ENERGYHUB_BUILD_DIR/hub/energyhub |" "$WORK/units/"*.service
out=$(systemd-analyze verify "$WORK/units/"*.service 2>&1) || fail "systemd-analyze verify failed: $out"
[[ -z "$out" ]] || fail "systemd-analyze verify complained: $out"
for unit in "$WORK/units/"*.service; do
    grep -q '^Type=notify\|^Type=oneshot' "$unit" || fail "$(basename "$unit") is neither Type=notify nor oneshot"
    line=$(systemd-analyze security --offline=yes "$unit" 2>&1 | tail -1)
    score=$(sed -n 's/.*exposure level for .*: \([0-9.]*\) .*/\1/p' <<<"$line")
    [[ -n "$score" ]] || fail "no security score for $(basename "$unit"): $line"
    awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' || fail "$(basename "$unit") exposure $score is above 2.0"
    log "$(basename "$unit"): verify clean, exposure $score"
done

(cd "$ENERGYHUB_BUILD_DIR" && cpack -G DEB -B "$WORK/deb" >"$WORK/cpack.log" 2>&1) || fail "cpack failed: $(tail -20 "$WORK/cpack.log")"
deb=$(ls "$WORK"/deb/*.deb)
contents=$(dpkg-deb --contents "$deb")
for path in ./usr/bin/energyhub ./usr/bin/firmware-sim ./etc/energyhub/energyhub.yaml \
    ./usr/share/energyhub/schema/001_registry.sql ./usr/lib/systemd/system/energyhub-hub.service \
    ./usr/lib/systemd/system/energyhub-migrate.service ./usr/share/doc/energyhub/README.md \
    ./usr/share/energyhub/pi/energyhub-hub.conf ./usr/share/energyhub/pi/postgresql.conf; do
    grep -q " $path\$" <<<"$contents" || fail "$path is not in the package"
done
info=$(dpkg-deb --info "$deb")
grep -q "Depends:.*libpqxx-6.4.*libpaho-mqttpp3-1\|Depends:.*libpaho-mqttpp3-1.*libpqxx-6.4" <<<"$info" || fail "Depends lacks the runtime libraries: $info"
[[ "$(dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles)" == *"/etc/energyhub/energyhub.yaml"* ]] || fail "the config is not a conffile"
log "$(basename "$deb"): $(grep -c . <<<"$contents") entries, conffile and dependencies in place"

# A throwaway root with an empty dpkg database; maintainer scripts run outside a chroot.
root="$WORK/root"
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/var/lib/dpkg/triggers"
touch "$root/var/lib/dpkg/status"
dpkg --root="$root" --force-depends --force-script-chrootless --log=/dev/null -i "$deb" >"$WORK/dpkg.log" 2>&1 ||
    fail "dpkg -i into a throwaway root failed: $(cat "$WORK/dpkg.log")"
[[ -x "$root/usr/bin/energyhub" && -f "$root/etc/energyhub/energyhub.yaml" ]] || fail "installed files missing"
dpkg --root="$root" -s energyhub | grep -q "Status: install ok installed" || fail "package not recorded as installed"
"$root/usr/bin/energyhub" check-config "$root/etc/energyhub/energyhub.yaml" >/dev/null || fail "installed config does not validate"
log "installed into a throwaway root; the shipped config validates"
log "ok"
