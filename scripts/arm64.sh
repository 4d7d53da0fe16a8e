#!/usr/bin/env bash
# The Raspberry Pi build (Raspberry Pi OS 64-bit = Debian 12 arm64), from this machine: a cross
# build against a Debian arm64 sysroot, the unit tier run under qemu-user, and the arm64 .deb
# checked and installed with apt into an arm64 root (its maintainer scripts and the installed
# program run under qemu through binfmt_misc).
#
# Usage: scripts/arm64.sh [--build-only]   (scripts/install-deps.sh first; scripts/test.sh runs it;
#   --build-only: the sysroot and the cross build, nothing run)
# Environment: ENERGYHUB_ARM64_DIR (default build-arm64): the build folder. Its sysroot/ is made
# once and remade when the package list of scripts/packages.sh changes. The package ends up in
# it as energyhub_<version>_arm64.deb.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/packages.sh
. scripts/packages.sh
# shellcheck source=scripts/pi-profile.sh
. scripts/pi-profile.sh
DIR=$(realpath -m "${ENERGYHUB_ARM64_DIR:-build-arm64}")
SYSROOT="$DIR/sysroot"
MIRROR=${ENERGYHUB_DEBIAN_MIRROR:-http://deb.debian.org/debian}
log() { echo "[arm64] $*"; }
fail() { echo "[arm64] FAIL: $*" >&2; exit 1; }
mkdir -p "$DIR"

# 1. The sysroot: Debian's arm64 libraries and headers, unpacked (no scripts run, no emulation).
sysroot_packages="libc6-dev libstdc++-12-dev ${LIBRARY_PACKAGES[*]}"
if [[ "$(cat "$SYSROOT/.packages" 2>/dev/null)" != "$sysroot_packages" ]]; then
    log "making the sysroot"
    rm -rf "$SYSROOT"
    mmdebstrap --quiet --variant=extract --architectures=arm64 --include="${sysroot_packages// /,}" \
        bookworm "$SYSROOT" "$MIRROR" || fail "mmdebstrap could not make the sysroot"
    echo "$sysroot_packages" >"$SYSROOT/.packages"
fi

# 2. The cross build: what the package installs, and the unit tests. The same warnings as errors.
# The package is made of what is built here: without CMAKE_SKIP_INSTALL_ALL_DEPENDENCY cpack would
# first build every target (benches, test tools) for arm64. A unity build, as the sanitizer trees
# (scripts/sanitize.sh says why, and what scripts/unity-names.sh checks).
cmake -S . -B "$DIR" -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/aarch64-linux-gnu.cmake" -DENERGYHUB_SYSROOT="$SYSROOT" \
    -DCMAKE_UNITY_BUILD=ON -DENERGYHUB_WERROR=ON -DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_SKIP_INSTALL_ALL_DEPENDENCY=ON \
    >"$DIR/configure.log" || fail "configure failed: $(tail -20 "$DIR/configure.log")"
scripts/unity-names.sh "$DIR"
cmake --build "$DIR" -j"$(nproc)" --target energyhub firmware-sim energyhub_broker_plugin unit_tests
machine=$(readelf -h "$DIR/hub/energyhub" | sed -n 's/^ *Machine: *//p')
[[ $machine == AArch64 ]] || fail "hub/energyhub is built for '$machine', not AArch64"
[[ ${1:-} != --build-only ]] || { log "built"; exit 0; }

# 3. The unit tier under qemu-user (ctest runs it through the toolchain's emulator).
ctest --test-dir "$DIR" --output-on-failure -L unit

# 4. The package: arm64, Debian's arm64 runtime libraries as dependencies, the binaries AArch64,
# stripped, and their debug symbols package beside it (packaging/check-deb.sh).
rm -f "$DIR"/energyhub_*.deb "$DIR"/energyhub-dbgsym_*.ddeb
(cd "$DIR" && cpack -G DEB >cpack.log 2>&1) || fail "cpack failed: $(tail -20 "$DIR/cpack.log")"
deb=$(ls "$DIR"/energyhub_*_arm64.deb 2>/dev/null) || fail "no energyhub_*_arm64.deb in $DIR"
[[ $(dpkg-deb --field "$deb" Architecture) == arm64 ]] || fail "$deb is not Architecture: arm64"
packaging/check-deb.sh "$deb" | sed 's/^/[arm64] /'
ddeb=$(ls "$DIR"/energyhub-dbgsym_*_arm64.ddeb)  # check-deb.sh has found it beside the package
contents=$(dpkg-deb --contents "$deb")
log "Depends: $(dpkg-deb --field "$deb" Depends)"
awk '{ print "[arm64]   " $NF }' <<<"$contents"

# mmdebstrap runs the root's programs under qemu-user, which the kernel finds through binfmt_misc:
# mounted and qemu-aarch64 enabled here when they are not (a container, or a machine started
# without systemd-binfmt, has neither).
if [[ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]]; then
    as_root=()
    ((EUID == 0)) || as_root=(sudo)
    mountpoint -q /proc/sys/fs/binfmt_misc ||
        "${as_root[@]}" mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc ||
        fail "cannot mount binfmt_misc: the arm64 root's programs cannot run under qemu"
    "${as_root[@]}" update-binfmts --enable qemu-aarch64 || fail "update-binfmts could not enable qemu-aarch64"
    log "qemu-aarch64 enabled in binfmt_misc"
fi

# 5. The Pi's install path in a throwaway arm64 root: apt resolves the package's dependencies from
# Debian's arm64 archive and runs its postinst, and installs the debug symbols beside it (as
# docs/raspberry-pi.md says to); then the installed program answers.
# The Raspberry Pi profile as docs/raspberry-pi.md installs it; the config still checks with its
# environment.
root="$DIR/root"
rm -rf "$root"
export PI_PROFILE='set -e
mkdir -p /etc/systemd/system/energyhub-hub.service.d /etc/postgresql/15/main/conf.d /etc/mosquitto/conf.d /etc/sysctl.d
cp /usr/share/energyhub/pi/energyhub-hub.conf /etc/systemd/system/energyhub-hub.service.d/pi.conf
cp /usr/share/energyhub/pi/postgresql.conf /etc/postgresql/15/main/conf.d/energyhub-pi.conf
cp /usr/share/energyhub/pi/mosquitto.conf /etc/mosquitto/conf.d/zz-energyhub-pi.conf
cp /usr/share/energyhub/pi/sysctl.conf /etc/sysctl.d/90-energyhub-pi.conf
env $(sed -n "s/^Environment=//p" /etc/systemd/system/energyhub-hub.service.d/pi.conf) energyhub check-config /etc/energyhub/energyhub.yaml'

mmdebstrap --quiet --variant=apt --architectures=arm64 \
    --customize-hook="copy-in $deb $ddeb /tmp" \
    --customize-hook="chroot \"\$1\" apt-get install --yes --no-install-recommends /tmp/$(basename "$deb")" \
    --customize-hook="chroot \"\$1\" apt-get install --yes /tmp/$(basename "$ddeb")" \
    --customize-hook='chroot "$1" energyhub --help >/dev/null' \
    --customize-hook='chroot "$1" energyhub check-config /etc/energyhub/energyhub.yaml' \
    --customize-hook='chroot "$1" id energyhub' \
    --customize-hook='chroot "$1" sh -c "$PI_PROFILE"' \
    bookworm "$root" "$MIRROR" >"$DIR/root.log" 2>&1 || fail "installing into an arm64 root failed: $(tail -30 "$DIR/root.log")"
# The installed units with the profile's drop-in, verified by this machine's systemd (the root has
# none); ExecStart= must exist, so it points into the root.
units="$DIR/units"
rm -rf "$units" && mkdir -p "$units"
cp -r "$root"/usr/lib/systemd/system/energyhub-*.service "$root"/etc/systemd/system/energyhub-hub.service.d "$units/"
sed -i "s|^ExecStart=/usr/bin/energyhub |ExecStart=$root/usr/bin/energyhub |" "$units"/*.service
out=$(systemd-analyze verify "$units"/*.service 2>&1) || fail "systemd-analyze verify of the installed units failed: $out"
[[ -z $out ]] || fail "systemd-analyze verify complained about the installed units: $out"
# The profile's kernel settings name settings the kernel has (sysctl has no dry run; the Pi's
# kernel has the /proc/sys/vm of this one).
keys=$(pi_settings "$root/etc/sysctl.d/90-energyhub-pi.conf" | cut -d' ' -f1)
[[ -n $keys ]] || fail "the Pi profile's sysctl.conf was not installed or sets nothing"
for key in $keys; do
    [[ -e /proc/sys/${key//.//} ]] || fail "the Pi profile's sysctl.conf sets $key, which this kernel does not have"
done
log "installed with apt into an arm64 root (and its debug symbols): energyhub --help and check-config (also with the Pi profile) ran under qemu, the units verify, the profile's sysctl keys exist"
rm -rf "$root" "$units"
log "ok"
