#!/usr/bin/env bash
# What a built energyhub .deb must be, on either architecture (tests/integration/packaging.sh
# checks this machine's, scripts/arm64.sh the Raspberry Pi's): its layout, its Debian
# dependencies and conffile; the sample broker configuration's plugin path; its programs stripped,
# with their debug info in the -dbgsym .ddeb beside it, one file per build id (where gdb and
# debuginfod look for it).
#
# Usage: packaging/check-deb.sh DEB   (one line of findings; exit 1 with the reason on the first fault)
set -euo pipefail
deb=${1:?usage: packaging/check-deb.sh DEB}
fail() { echo "[deb] FAIL: $*" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

contents=$(dpkg-deb --contents "$deb") || fail "$deb is not a .deb"
for path in ./usr/bin/energyhub ./usr/bin/firmware-sim ./usr/lib/energyhub/energyhub_broker.so \
    ./etc/energyhub/energyhub.yaml ./usr/share/energyhub/schema/001_registry.sql \
    ./usr/lib/systemd/system/energyhub-hub.service ./usr/lib/systemd/system/energyhub-migrate.service \
    ./usr/share/doc/energyhub/README.md ./usr/share/energyhub/pi/energyhub-hub.conf \
    ./usr/share/energyhub/pi/postgresql.conf ./usr/share/energyhub/pi/mosquitto.conf \
    ./usr/share/energyhub/pi/sysctl.conf; do
    grep -q " $path\$" <<<"$contents" || fail "$path is not in the package"
done
depends=$(dpkg-deb --field "$deb" Depends)
for library in libpaho-mqttpp3-1 libpqxx-6.4 libhiredis0.14 tzdata adduser; do
    [[ ", $depends," == *", $library,"* ]] || fail "Depends lacks $library: $depends"
done
[[ "$(dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles)" == *"/etc/energyhub/energyhub.yaml"* ]] ||
    fail "the config is not a conffile"

# Stripped programs; the debug package holds /usr/lib/debug/.build-id/<2 hex>/<rest>.debug for each.
dbgsym="$(dirname "$deb")/$(dpkg-deb --field "$deb" Package)-dbgsym_$(dpkg-deb --field "$deb" Version)_$(dpkg-deb --field "$deb" Architecture).ddeb"
[[ -f $dbgsym ]] || fail "no debug symbols package $(basename "$dbgsym") beside $(basename "$deb")"
dpkg-deb -x "$deb" "$work/deb"
dpkg-deb -x "$dbgsym" "$work/dbgsym"
# The sample broker configuration loads the plugin from where the package puts it.
plugin=$(sed -n 's/^plugin //p' "$work/deb/usr/share/energyhub/examples/mosquitto-plugin.conf")
[[ -f "$work/deb$plugin" ]] || fail "the sample mosquitto-plugin.conf loads '$plugin', which the package does not install"
programs=0
for program in "$work"/deb/usr/bin/* "$work"/deb/usr/lib/energyhub/*.so; do
    name=${program#"$work/deb"}
    sections=$(readelf --sections --wide "$program") || fail "$name is not an ELF file"
    [[ $sections != *.debug_info* ]] || fail "$name is not stripped"
    id=$(readelf --notes "$program" | sed -n 's/^ *Build ID: *//p')
    [[ -n $id ]] || fail "$name has no build id"
    debug="$work/dbgsym/usr/lib/debug/.build-id/${id:0:2}/${id:2}.debug"
    [[ -f $debug ]] || fail "$(basename "$dbgsym") has no debug info for $name (build id $id)"
    [[ $(readelf --sections --wide "$debug" 2>/dev/null) == *.debug_info* ]] || fail "the debug file of $name holds no .debug_info"
    programs=$((programs + 1))
done
echo "[deb] $(basename "$deb"): $(grep -c . <<<"$contents") entries, $(du -k "$deb" | cut -f1) kB," \
    "$programs programs stripped; their debug info in $(basename "$dbgsym") ($(du -k "$dbgsym" | cut -f1) kB)"
