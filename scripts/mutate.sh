#!/usr/bin/env bash
# Breaks each guarantee on purpose and checks that its test notices. Every file in
# tests/mutations/ is one realistic bug (a patch) with the guarantee it breaks and the tests that
# must then fail; the README's guarantees table names the same tests. The script builds a scratch
# clone of the committed tree (build/mutate/, kept between runs so each mutation rebuilds only what
# it touches), runs every named test once unmutated (they must pass, or a "catch" means nothing),
# then per mutation: apply, build, run its tests, revert. One line per mutation, a summary, and a
# non-zero exit when a mutation is missed or does not apply.
#
# Usage: scripts/mutate.sh [--list] [--check] [--no-baseline] [NAME...]   (NAME: a patch without .patch)
#   --check  only whether every patch still applies to the tree (seconds; scripts/test.sh runs it)
# A test is a ctest name (unit, integration.x, fault.x) or fuzz:<target> (scripts/fuzz.sh target).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO_DIR=$PWD
MUTATIONS_DIR=$REPO_DIR/tests/mutations
WORK=${ENERGYHUB_MUTATE_DIR:-$REPO_DIR/build/mutate}
SRC=$WORK/src
BUILD=$WORK/build

field() { sed -n "s/^$2: *//p" "$1" | head -1; }

list=0 check=0 baseline=1 names=()
for arg in "$@"; do
    case $arg in
        --list) list=1 ;;
        --check) check=1 ;;
        --no-baseline) baseline=0 ;;
        -h | --help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "mutate: unknown option $arg" >&2; exit 2 ;;
        *) [[ -f $MUTATIONS_DIR/$arg.patch ]] || { echo "mutate: no mutation $arg" >&2; exit 2; }
           names+=("$arg") ;;
    esac
done
if ((${#names[@]} == 0)); then
    for f in "$MUTATIONS_DIR"/*.patch; do names+=("$(basename "$f" .patch)"); done
fi
if ((list)); then
    for n in "${names[@]}"; do
        printf '%-36s %s\n    must fail: %s\n' "$n" "$(field "$MUTATIONS_DIR/$n.patch" Mutation)" \
            "$(field "$MUTATIONS_DIR/$n.patch" Caught-by)"
    done
    exit 0
fi

if ((check)); then
    stale=0
    for n in "${names[@]}"; do
        git apply --check "$MUTATIONS_DIR/$n.patch" 2>/dev/null || { echo "mutate: $n no longer applies: rewrite it for the code as it is now" >&2; stale=1; }
    done
    ((stale == 0)) && echo "mutate: all ${#names[@]} mutations apply"
    exit "$stale"
fi

# The scratch clone follows the committed HEAD; unchanged files keep their timestamps.
scripts/install-deps.sh
mkdir -p "$WORK"
[[ -d $SRC/.git ]] || git clone -q --no-hardlinks "$REPO_DIR" "$SRC"
git -C "$SRC" checkout -q -- . && git -C "$SRC" clean -qfd
git -C "$SRC" fetch -q "$REPO_DIR" HEAD && git -C "$SRC" checkout -q --detach FETCH_HEAD
echo "mutate: scratch tree at $(git -C "$SRC" rev-parse --short HEAD), build in $BUILD"
cmake -S "$SRC" -B "$BUILD" -DCMAKE_INSTALL_PREFIX=/usr >/dev/null

build() { cmake --build "$BUILD" -j"$(nproc)" >"$WORK/build.log" 2>&1; }
# Runs one test; returns its exit status. Output goes to $WORK/logs/<mutation>.<test>.log.
run_test() {
    local test=$1 log=$2
    if [[ $test == fuzz:* ]]; then
        (cd "$SRC" && ENERGYHUB_FUZZ_BUILD_DIR="$WORK/build-fuzz" ENERGYHUB_FUZZ_SECONDS=${ENERGYHUB_FUZZ_SECONDS:-30} \
            scripts/fuzz.sh "${test#fuzz:}") >"$log" 2>&1
    else
        ENERGYHUB_SOAK_SECONDS=${ENERGYHUB_SOAK_SECONDS:-240} \
            ctest --test-dir "$BUILD" --output-on-failure -R "^${test//./\\.}\$" >"$log" 2>&1 || return 1
        grep -q "tests passed, 0 tests failed out of 1" "$log" || return 1  # a name that matches nothing fails
    fi
}

# The scratch tree's own private servers on ports of their own, stopped at exit.
export ENERGYHUB_MQTT_PORT=${ENERGYHUB_MQTT_PORT:-38830} ENERGYHUB_PG_PORT=${ENERGYHUB_PG_PORT:-35432}
export ENERGYHUB_REDIS_PORT=${ENERGYHUB_REDIS_PORT:-36379} ENERGYHUB_SMTP_PORT=${ENERGYHUB_SMTP_PORT:-30025}
"$SRC/scripts/stack.sh" start >/dev/null
trap '"$SRC/scripts/stack.sh" stop >/dev/null 2>&1 || true' EXIT
mkdir -p "$WORK/logs"
rm -f "$WORK"/logs/*.log

build || { echo "mutate: the unmutated tree does not build (see $WORK/build.log)" >&2; exit 1; }
if ((baseline)); then
    declare -A seen=()
    for n in "${names[@]}"; do
        for t in $(field "$MUTATIONS_DIR/$n.patch" Caught-by); do
            [[ -n ${seen[$t]:-} ]] && continue
            seen[$t]=1
            start=$SECONDS
            run_test "$t" "$WORK/logs/baseline.$t.log" ||
                { echo "mutate: $t fails without any mutation ($WORK/logs/baseline.$t.log)" >&2; exit 1; }
            printf 'baseline  %-40s passes (%d s)\n' "$t" $((SECONDS - start))
        done
    done
fi

caught=0 missed=0 broken=0 total_start=$SECONDS
for n in "${names[@]}"; do
    patch=$MUTATIONS_DIR/$n.patch
    start=$SECONDS
    if ! git -C "$SRC" apply "$patch" 2>"$WORK/logs/$n.apply.log"; then
        printf '%-36s DOES NOT APPLY (%s)\n' "$n" "$WORK/logs/$n.apply.log"
        broken=$((broken + 1))
        continue
    fi
    result=caught why=""
    if ! build; then
        result=broken why="does not build: $(grep -m1 'error' "$WORK/build.log" || true)"
    else
        for t in $(field "$patch" Caught-by); do
            if run_test "$t" "$WORK/logs/$n.$t.log"; then result=missed why="$t passed"; break; fi
        done
    fi
    git -C "$SRC" apply -R "$patch"
    case $result in
        caught) caught=$((caught + 1)); printf '%-36s caught by %s (%d s)\n' "$n" "$(field "$patch" Caught-by)" $((SECONDS - start)) ;;
        missed) missed=$((missed + 1)); printf '%-36s MISSED: %s (%d s)\n' "$n" "$why" $((SECONDS - start)) ;;
        broken) broken=$((broken + 1)); printf '%-36s BROKEN: %s\n' "$n" "$why" ;;
    esac
done
build || true  # leave the scratch build unmutated for the next run
printf 'mutate: %d caught, %d missed, %d broken of %d mutations in %d s\n' \
    "$caught" "$missed" "$broken" "${#names[@]}" $((SECONDS - total_start))
((missed == 0 && broken == 0))
