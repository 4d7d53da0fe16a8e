#!/usr/bin/env bash
# The systemd units pass `systemd-analyze verify` with no complaint and `systemd-analyze security`
# rates them OK; the .deb builds, passes packaging/check-deb.sh (layout, dependencies, conffile,
# stripped programs with a debug symbols package) and installs into a throwaway root.
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
bash "$(dirname "$0")/../../packaging/check-deb.sh" "$deb"

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
