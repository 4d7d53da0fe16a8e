#!/usr/bin/env bash
# The sanitizer passes of the test suite: the unit tier and the core integration tests built once
# with AddressSanitizer + UndefinedBehaviorSanitizer (leak checking on) and once with
# ThreadSanitizer (the hub is multi-threaded). Any report fails the run. Needs the private servers
# (scripts/stack.sh start); scripts/test.sh runs it after ctest.
#
# Usage: scripts/sanitize.sh [--build-only]   (--build-only: compile both trees, run nothing)
# Both trees build with clang at -O1 with line tables only (-g1): what the sanitizers' reports
# need, in about half the compile time of GCC at -O2 -g (the main build stays GCC's, so the code is
# compiled and warned about by both compilers). They are unity builds (CMAKE_UNITY_BUILD: eight
# sources compiled as one), about a quarter less time than instantiating the same templates again
# per source; the main build compiles each source alone, so a missing include still fails
# there, and scripts/unity-names.sh checks for what the compiler would not report in a unity build.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_ONLY=0
[[ ${1:-} != --build-only ]] || BUILD_ONLY=1

ASAN_BUILD=${ENERGYHUB_ASAN_BUILD_DIR:-build-asan}
TSAN_BUILD=${ENERGYHUB_TSAN_BUILD_DIR:-build-tsan}
INTEGRATION=(ingest_basic alerts_notifier kill9_no_loss operations hostile_input shared_group_no_loss)
reports=$(mktemp -d)
trap 'rm -rf "$reports"' EXIT

# pass NAME BUILD_DIR CMAKE_OPTION: builds the tier's binaries with the sanitizer and runs the unit
# tier and the integration tests with them; the sanitizer's *_OPTIONS are set by the caller.
pass() {
    local name=$1 build=$2 option=$3 t
    CC=clang-14 CXX=clang++-14 cmake -S . -B "$build" "$option" -DCMAKE_UNITY_BUILD=ON -DENERGYHUB_WERROR=ON \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
        -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" >/dev/null
    scripts/unity-names.sh "$build"
    cmake --build "$build" -j"$(nproc)" --target unit_tests energyhub firmware-sim
    ((BUILD_ONLY == 0)) || return 0
    "$build/tests/unit_tests" --log_level=error
    for t in "${INTEGRATION[@]}"; do
        ENERGYHUB_BIN="$PWD/$build/hub/energyhub" FIRMWARE_SIM_BIN="$PWD/$build/firmware-sim/firmware-sim" \
            ENERGYHUB_TEST_WORK="$PWD/$build/test-work" bash "tests/integration/$t.sh" >"$reports/$t.out" 2>&1 ||
            { cat "$reports/$t.out"; echo "sanitize: $t failed under $name" >&2; exit 1; }
    done
    echo "sanitize: $name: unit tier and ${#INTEGRATION[@]} integration tests ran"
}

ASAN_OPTIONS="detect_leaks=1:log_path=$reports/asan" \
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$reports/ubsan" \
    pass "ASan+UBSan" "$ASAN_BUILD" -DENERGYHUB_SANITIZE=ON
TSAN_OPTIONS="halt_on_error=1:suppressions=$PWD/tests/sanitizers/tsan.supp:log_path=$reports/tsan" \
    pass TSan "$TSAN_BUILD" -DENERGYHUB_TSAN=ON
((BUILD_ONLY == 0)) || { echo "sanitize: ASan+UBSan and TSan trees built"; exit 0; }

found=$(find "$reports" -name 'asan.*' -o -name 'ubsan.*' -o -name 'tsan.*' | wc -l)
if ((found > 0)); then
    cat "$reports"/asan.* "$reports"/ubsan.* "$reports"/tsan.* 2>/dev/null | head -100
    echo "sanitize: $found sanitizer reports" >&2
    exit 1
fi
echo "sanitize: ASan+UBSan and TSan, each over the unit tier and ${#INTEGRATION[@]} integration tests: 0 reports"
