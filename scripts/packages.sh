# The one list of Debian packages energyhub needs, sourced by scripts/install-deps.sh (this
# machine) and scripts/arm64.sh (the arm64 sysroot). Keep in step with the "Packages" section of
# the design document.

# The libraries the code is built against: installed here, and for arm64 into the sysroot.
LIBRARY_PACKAGES=(
    # MQTT: Paho C++ client for the daemons, Mosquitto plugin headers
    libpaho-mqttpp-dev libpaho-mqtt-dev mosquitto-dev libmosquitto-dev
    # storage: libpqxx and hiredis
    libpqxx-dev libhiredis-dev
    # libraries used by the daemons
    libyaml-cpp-dev libspdlog-dev libcurl4-openssl-dev libboost-test-dev
    libsimdjson-dev nlohmann-json3-dev libcli11-dev libsystemd-dev libboost-dev libssl-dev
)

# Everything else this machine needs to build, test and run the demo stack.
HOST_PACKAGES=(
    # toolchain
    build-essential cmake pkg-config ccache git
    # servers and clients: Mosquitto, PostgreSQL 15, Redis; for the fleet, NATS (scripts/nats-cluster.sh)
    # and Patroni with its built-in Raft (scripts/patroni-cluster.sh)
    mosquitto mosquitto-clients postgresql-15 postgresql-client-15 redis-server nats-server
    patroni python3-pysyncobj python3-psycopg2
    # scripts: the SMTP mail catcher and the checks in scripts/stack.sh
    python3 python3-aiosmtpd python3-prometheus-client curl procps iproute2 systemd dpkg-dev
    # scripts/stack.sh: the private CA and certificates of the TLS listeners
    openssl
    # the dashboard test: headless Chromium driven through chromedriver
    chromium chromium-driver
    # clang with libFuzzer and the sanitizer runtimes: scripts/fuzz.sh, sanitize.sh; arm64.sh's compiler
    clang-14 libclang-rt-14-dev
    # scripts/lint.sh: the format and bug checks of a change
    clang-format-14 clang-tidy-14
    # scripts/unity-names.sh: the file-local names of the unity builds
    universal-ctags
)
# scripts/arm64.sh: the cross linker (clang compiles), an arm64 sysroot and root, qemu-user to run
# them (on a machine that is not arm64 itself).
if [[ $(dpkg --print-architecture) != arm64 ]]; then
    HOST_PACKAGES+=(binutils-aarch64-linux-gnu mmdebstrap arch-test qemu-user-static binfmt-support)
fi
