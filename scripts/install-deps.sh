#!/usr/bin/env bash
# Install the Debian packages energyhub needs to build, test and run the demo stack.
# Idempotent: packages already installed are left alone, and a machine that has all of them
# is not touched at all (no apt-get update, no root needed).
#
# Usage: scripts/install-deps.sh
# Works on Debian 12 (bookworm) and Raspberry Pi OS based on it.
set -euo pipefail

# The one list of packages. Keep in step with the "Packages" section of the design document.
PACKAGES=(
    # toolchain
    build-essential cmake pkg-config ccache git
    # MQTT: Paho C++ client for the daemons, Mosquitto broker, clients and plugin headers
    libpaho-mqttpp-dev libpaho-mqtt-dev
    mosquitto mosquitto-clients mosquitto-dev libmosquitto-dev
    # storage: PostgreSQL 15 server and client with libpqxx, Redis with hiredis
    libpqxx-dev postgresql-15 postgresql-client-15
    libhiredis-dev redis-server
    # libraries used by the daemons
    libyaml-cpp-dev libspdlog-dev libcurl4-openssl-dev libboost-test-dev
    libsimdjson-dev nlohmann-json3-dev libcli11-dev libsystemd-dev libboost-dev libssl-dev
    # scripts: the SMTP mail catcher and the checks in scripts/stack.sh
    python3 python3-aiosmtpd python3-prometheus-client curl procps iproute2 systemd dpkg-dev
    # scripts/stack.sh: the private CA and certificates of the TLS listeners
    openssl
    # the dashboard test: headless Chromium driven through chromedriver
    chromium chromium-driver
    # scripts/fuzz.sh: clang with libFuzzer and the sanitizer runtimes
    clang-14 libclang-rt-14-dev
    # scripts/lint.sh: the format and bug checks of a change
    clang-format-14 clang-tidy-14
)

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
