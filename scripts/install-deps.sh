#!/usr/bin/env bash
# Install the Debian packages energyhub needs to build, test and run the demo stack.
# Idempotent: packages already installed are left alone, and a machine that has all of them
# is not touched at all (no apt-get update, no root needed).
#
# Usage: scripts/install-deps.sh
# Works on Debian 12 (bookworm) and Raspberry Pi OS based on it.
set -euo pipefail

# shellcheck source=scripts/packages.sh
. "$(dirname "$0")/packages.sh"
PACKAGES=("${HOST_PACKAGES[@]}" "${LIBRARY_PACKAGES[@]}")

# Packages from PACKAGES that dpkg does not report as installed ("install ok installed").
missing_packages() {
    local pkg status
    for pkg in "${PACKAGES[@]}"; do
        status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
        if [[ "$status" != "install ok installed" ]]; then
            echo "$pkg"
        fi
    done
}

mapfile -t missing < <(missing_packages)

if ((${#missing[@]} == 0)); then
    echo "install-deps: all ${#PACKAGES[@]} packages are already installed"
    exit 0
fi

if ((EUID == 0)); then
    as_root=()
elif command -v sudo >/dev/null; then
    as_root=(sudo)
else
    echo "install-deps: missing packages: ${missing[*]}" >&2
    echo "install-deps: run this script as root, or install sudo" >&2
    exit 1
fi

echo "install-deps: installing ${#missing[@]} missing packages: ${missing[*]}"

# Non-interactive: no debconf questions, keep existing config files on upgrades.
export DEBIAN_FRONTEND=noninteractive
# Package scripts of mosquitto, redis-server and postgresql may try to start the system
# services. That is harmless: scripts/stack.sh runs private instances on other ports.
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    "${missing[@]}"

# Check the result the same way, so a package apt-get skipped does not go unnoticed.
mapfile -t still_missing < <(missing_packages)
if ((${#still_missing[@]} > 0)); then
    echo "install-deps: still not installed: ${still_missing[*]}" >&2
    exit 1
fi
echo "install-deps: done"
