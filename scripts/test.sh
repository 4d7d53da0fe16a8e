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
trap 'scripts/stack.sh stop' EXIT
if (($# > 0)); then
    ctest --test-dir "$BUILD_DIR" --output-on-failure "$@"
    exit
fi
# The whole suite: the format and bug checks of the last commit, that every mutation still
# applies (the mutation run itself is scheduled: tests/README.md), every tier but the 10-minute
# soak (ctest -L soak), then the sanitizer passes and a short fuzzing run of every target (30 s
# each; scripts/fuzz.sh for longer ones), and the Raspberry Pi build: arm64 cross build, its unit
# tier under qemu, its .deb installed into an arm64 root (scripts/arm64.sh).
scripts/lint.sh
scripts/mutate.sh --check
ctest --test-dir "$BUILD_DIR" --output-on-failure -LE soak
scripts/sanitize.sh
scripts/fuzz.sh
scripts/arm64.sh
