#!/usr/bin/env bash
# The sanitizer passes of the test suite: the unit tier and the core integration tests built with
# AddressSanitizer + UndefinedBehaviorSanitizer (leak checking on), and the unit tier with
# ThreadSanitizer. Any report fails the run. Needs the private servers (scripts/stack.sh start);
# scripts/test.sh runs it after ctest.
set -euo pipefail
cd "$(dirname "$0")/.."

ASAN_BUILD=${ENERGYHUB_ASAN_BUILD_DIR:-build-asan}
TSAN_BUILD=${ENERGYHUB_TSAN_BUILD_DIR:-build-tsan}
INTEGRATION=(ingest_basic alerts_notifier kill9_no_loss operations hostile_input)
reports=$(mktemp -d)
trap 'rm -rf "$reports"' EXIT

cmake -S . -B "$ASAN_BUILD" -DENERGYHUB_SANITIZE=ON -DENERGYHUB_WERROR=ON >/dev/null
cmake --build "$ASAN_BUILD" -j"$(nproc)" --target unit_tests energyhub firmware-sim
export ASAN_OPTIONS="detect_leaks=1:log_path=$reports/asan"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$reports/ubsan"
"$ASAN_BUILD/tests/unit_tests" --log_level=error
for t in "${INTEGRATION[@]}"; do
    ENERGYHUB_BIN="$PWD/$ASAN_BUILD/hub/energyhub" FIRMWARE_SIM_BIN="$PWD/$ASAN_BUILD/firmware-sim/firmware-sim" \
        ENERGYHUB_TEST_WORK="$PWD/$ASAN_BUILD/test-work" bash "tests/integration/$t.sh" >"$reports/$t.out" 2>&1 ||
        { cat "$reports/$t.out"; echo "sanitize: $t failed under ASan+UBSan" >&2; exit 1; }
done
unset ASAN_OPTIONS UBSAN_OPTIONS

cmake -S . -B "$TSAN_BUILD" -DENERGYHUB_TSAN=ON -DENERGYHUB_WERROR=ON >/dev/null
cmake --build "$TSAN_BUILD" -j"$(nproc)" --target unit_tests
TSAN_OPTIONS="halt_on_error=1:log_path=$reports/tsan" "$TSAN_BUILD/tests/unit_tests" --log_level=error

found=$(find "$reports" -name 'asan.*' -o -name 'ubsan.*' -o -name 'tsan.*' | wc -l)
if ((found > 0)); then
    cat "$reports"/asan.* "$reports"/ubsan.* "$reports"/tsan.* 2>/dev/null | head -100
    echo "sanitize: $found sanitizer reports" >&2
    exit 1
fi
echo "sanitize: ASan+UBSan unit tier and ${#INTEGRATION[@]} integration tests, TSan unit tier: 0 reports"
