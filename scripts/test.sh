#!/usr/bin/env bash
# The full test suite, exactly as CI runs it: install missing Debian packages, build with warnings
# as errors, start the private servers, run every test tier under ctest, stop the servers.
#
# Usage: scripts/test.sh [ctest arguments, e.g. -L unit, -R ingest, or -L soak for the soak run]
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${ENERGYHUB_BUILD_DIR:-build}

scripts/install-deps.sh
cmake -S . -B "$BUILD_DIR" -DENERGYHUB_WERROR=ON -DCMAKE_INSTALL_PREFIX=/usr
cmake --build "$BUILD_DIR" -j"$(nproc)"

scripts/stack.sh start
background=""
# Stops the background builds (below) if the suite ends early, then the servers.
stop_all() {
    [[ -z $background ]] || kill -- -"$background" 2>/dev/null || true
    scripts/stack.sh stop
}
trap stop_all EXIT
if (($# > 0)); then
    ctest --test-dir "$BUILD_DIR" --output-on-failure "$@"
    exit
fi
# How long each part took, for the CI time budget (tests/README.md).
stage() {
    local started=$SECONDS
    "$@"
    echo "test.sh: $* took $((SECONDS - started)) s"
}
# The whole suite: the format and bug checks of the last commit, that every mutation still
# applies (the mutation run itself is scheduled: tests/README.md), every tier but the 10-minute
# soak (ctest -L soak), then the sanitizer passes and a short fuzzing run of every target (30 s
# each; scripts/fuzz.sh for longer ones), and the Raspberry Pi build: arm64 cross build, its unit
# tier under qemu, its .deb installed into an arm64 root (scripts/arm64.sh).
#
# The tiers mostly wait on servers and leave about two thirds of the machine idle: the sanitizer,
# fuzzing and arm64 trees compile meanwhile, on idle CPU only (SCHED_IDLE), in a session of their
# own. Their log is kept; a tree that failed to build fails again, with its errors, in its pass.
setsid chrt --idle 0 bash -c 'scripts/sanitize.sh --build-only && scripts/fuzz.sh --build-only &&
    scripts/arm64.sh --build-only' >"$BUILD_DIR/background-builds.log" 2>&1 &
background=$!
stage scripts/lint.sh
stage scripts/mutate.sh --check
stage ctest --test-dir "$BUILD_DIR" --output-on-failure -LE soak
started=$SECONDS
wait "$background" || echo "test.sh: a background build failed ($BUILD_DIR/background-builds.log); its pass builds again"
background=""
echo "test.sh: the background builds went on $((SECONDS - started)) s after the tiers"
stage scripts/sanitize.sh
stage scripts/fuzz.sh
stage scripts/arm64.sh
