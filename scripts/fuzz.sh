#!/usr/bin/env bash
# Fuzzes what reads untrusted or hand-written text: the payload adapters (native, Tasmota, Shelly
# Gen2, Shelly Gen1), the cron parser, the config loader and firmware-sim's MQTT packet reader
# (tests/fuzz). Builds the libFuzzer targets with clang, AddressSanitizer and UBSan in their own
# build tree, then runs each for ENERGYHUB_FUZZ_SECONDS from a scratch copy of its seed corpus
# (tests/fuzz/corpus/<target> is never written). Prints one line per target and a summary; a
# crash, leak, timeout or running out of memory fails the run and names the input that reproduces
# it.
#
# Usage: scripts/fuzz.sh [--build-only] [TARGET...]   every target, or the ones named (e.g.
#   fuzz_tasmota); --build-only compiles them and runs nothing
#   ENERGYHUB_FUZZ_SECONDS     seconds per target (default 30)
#   ENERGYHUB_FUZZ_BUILD_DIR   build tree (default build-fuzz)
#   ENERGYHUB_BUILD_LOCK       a file to hold flock(1) on while building, on a machine shared by
#                              several builds (default: no lock)
#
# A long run, an hour per target, or one target for a night:
#   ENERGYHUB_FUZZ_SECONDS=3600 scripts/fuzz.sh
#   ENERGYHUB_FUZZ_SECONDS=28800 scripts/fuzz.sh fuzz_shelly
# Replay a reproducer:  build-fuzz/tests/fuzz/<target> <file>
# Keep the inputs of a long run that reach new code as seeds (the corpus stays small):
#   build-fuzz/tests/fuzz/<target> -merge=1 tests/fuzz/corpus/<target> build-fuzz/fuzz-work/<target>/corpus
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${ENERGYHUB_FUZZ_BUILD_DIR:-build-fuzz}
SECONDS_EACH=${ENERGYHUB_FUZZ_SECONDS:-30}
ALL_TARGETS=(fuzz_native fuzz_tasmota fuzz_shelly fuzz_shelly_gen1 fuzz_cron fuzz_config fuzz_mqtt_wire)

# The longest input and the dictionary of each target.
declare -A MAX_LEN=([fuzz_cron]=128 [fuzz_config]=8192 [fuzz_mqtt_wire]=1024)
declare -A DICT=([fuzz_cron]=cron.dict [fuzz_config]=config.dict [fuzz_mqtt_wire]=mqtt_wire.dict)

BUILD_ONLY=0
[[ ${1:-} != --build-only ]] || { BUILD_ONLY=1; shift; }
targets=("$@")
((${#targets[@]} > 0)) || targets=("${ALL_TARGETS[@]}")
for t in "${targets[@]}"; do
    [[ " ${ALL_TARGETS[*]} " == *" $t "* ]] || { echo "fuzz: unknown target $t (${ALL_TARGETS[*]})" >&2; exit 2; }
done
[[ "$SECONDS_EACH" =~ ^[1-9][0-9]*$ ]] || { echo "fuzz: ENERGYHUB_FUZZ_SECONDS must be a positive number" >&2; exit 2; }

scripts/install-deps.sh
CC=clang-14 CXX=clang++-14 cmake -S . -B "$BUILD_DIR" -DENERGYHUB_FUZZ=ON -DENERGYHUB_TESTS=OFF >/dev/null
build=(cmake --build "$BUILD_DIR" -j"$(nproc)" --target "${targets[@]}")
[[ -z "${ENERGYHUB_BUILD_LOCK:-}" ]] || build=(flock "$ENERGYHUB_BUILD_LOCK" "${build[@]}")
if ! "${build[@]}" >"$BUILD_DIR/fuzz-build.log" 2>&1; then
    tail -50 "$BUILD_DIR/fuzz-build.log"
    echo "fuzz: build failed (whole log: $BUILD_DIR/fuzz-build.log)" >&2
    exit 1
fi
((BUILD_ONLY == 0)) || { echo "fuzz: ${#targets[@]} targets built"; exit 0; }

# fuzz_one TARGET: a run from a scratch copy of the seed corpus; its exit status goes to status.
fuzz_one() {
    local t=$1 work="$BUILD_DIR/fuzz-work/$1" status=0
    "$BUILD_DIR/tests/fuzz/$t" "$work/corpus" -max_total_time="$SECONDS_EACH" -max_len="${MAX_LEN[$t]:-4096}" \
        -dict="tests/fuzz/${DICT[$t]:-payloads.dict}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$work/" >"$work/log" 2>&1 || status=$?
    echo "$status" >"$work/status"
}

# One target per core at a time (each fuzzer is a single process); reported in order afterwards.
for t in "${targets[@]}"; do
    work="$BUILD_DIR/fuzz-work/$t"
    rm -rf "$work"
    mkdir -p "$work/corpus"
    cp tests/fuzz/corpus/"$t"/* "$work/corpus/"
    while (($(jobs -rp | wc -l) >= $(nproc))); do wait -n || true; done
    fuzz_one "$t" &
done
wait

total_runs=0
total_findings=0
for t in "${targets[@]}"; do
    work="$BUILD_DIR/fuzz-work/$t"
    status=$(cat "$work/status" 2>/dev/null || echo 1)
    runs=$(awk '/^stat::number_of_executed_units:/ { print $2 }' "$work/log")
    mapfile -t found < <(find "$work" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \))
    # A failed run always counts, even one that died before writing its input.
    findings=${#found[@]}
    ((status == 0 || findings > 0)) || findings=1
    echo "$t: ${runs:-0} executions, $(find "$work/corpus" -type f | wc -l) inputs in corpus, $findings crashes"
    if ((findings > 0)); then
        grep -E '^==[0-9]+== ?ERROR|^SUMMARY|check failed|runtime error|terminate called|what\(\):' "$work/log" | head -5 || true
        for f in "${found[@]}"; do echo "$t: reproduce with $BUILD_DIR/tests/fuzz/$t $f"; done
        echo "$t: whole log: $work/log"
    fi
    total_runs=$((total_runs + ${runs:-0}))
    total_findings=$((total_findings + findings))
done

echo "fuzz: ${#targets[@]} targets, $total_runs executions, $total_findings crashes"
((total_findings == 0))
