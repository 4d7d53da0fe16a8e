#!/usr/bin/env bash
# The style and bug checks of a change: clang-format (.clang-format) on the lines it touches, and
# clang-tidy (.clang-tidy, findings are errors) on the C++ files it touches. Part of
# scripts/test.sh, where the change is the commit under test.
#
# Usage: scripts/lint.sh [--fix] [BASE]
#   BASE   the commit to compare with (default HEAD~1: the last commit)
#   --fix  rewrite the touched lines to the format instead of failing (clang-tidy still reports)
# Needs a build tree with compile_commands.json (ENERGYHUB_BUILD_DIR, default build).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${ENERGYHUB_BUILD_DIR:-build}
FIX=0
BASE=HEAD~1
for arg in "$@"; do
    case $arg in
        --fix) FIX=1 ;;
        -h | --help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) BASE=$arg ;;
    esac
done
if ! git rev-parse -q --verify "$BASE^{commit}" >/dev/null; then
    echo "lint: no commit $BASE to compare with (a shallow clone?); nothing checked"
    exit 0
fi
mapfile -t files < <(git diff --name-only --diff-filter=ACMR "$BASE" -- '*.cpp' '*.hpp' | grep -v '^tests/fuzz/corpus/' || true)
if ((${#files[@]} == 0)); then
    echo "lint: no C++ changed since $BASE"
    exit 0
fi

rc=0
if ((FIX)); then
    git clang-format --binary clang-format-14 "$BASE" -- "${files[@]}" || true
else
    diff=$(git clang-format --binary clang-format-14 --diff "$BASE" -- "${files[@]}" 2>&1 || true)
    if [[ -n "$diff" && "$diff" != *"no modified files to format"* && "$diff" != *"did not modify any files"* ]]; then
        echo "$diff"
        echo "lint: the lines above are not in the project's format (scripts/lint.sh --fix $BASE rewrites them)"
        rc=1
    fi
fi

[[ -f "$BUILD_DIR/compile_commands.json" ]] || { echo "lint: no $BUILD_DIR/compile_commands.json: build first" >&2; exit 2; }
sources=()
for f in "${files[@]}"; do
    [[ $f == *.cpp ]] && grep -q "\"file\": \"$PWD/$f\"" "$BUILD_DIR/compile_commands.json" && sources+=("$f")
done
if ((${#sources[@]} > 0)); then
    findings=$(clang-tidy-14 -p "$BUILD_DIR" --quiet "${sources[@]}" 2>/dev/null | grep -E "(warning|error):" || true)
    if [[ -n "$findings" ]]; then
        echo "$findings"
        echo "lint: clang-tidy findings above"
        rc=1
    fi
fi
echo "lint: ${#files[@]} changed C++ files since $(git rev-parse --short "$BASE"): $( ((rc == 0)) && echo clean || echo 'see above')"
exit "$rc"
