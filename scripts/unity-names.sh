#!/usr/bin/env bash
# A unity build (CMAKE_UNITY_BUILD) compiles a target's sources in groups of eight, so a
# file-local name of one source is seen by those after it in its group. Two file-local functions
# of one name with different parameters quietly become overloads, and a call may reach the other
# source's: the compiler says nothing. Two variables, classes or enumerators of one name fail the
# compile, but only once a new source shifts them into one group, far from the change that did it.
# So this fails when two sources of one target define a file-local function, variable, class,
# struct, union, enum or enumerator (anonymous namespace, static, or a .cpp's own class) of the same
# name. Type aliases are left out: the same alias twice is legal, and two different ones fail the
# compile. scripts/sanitize.sh and scripts/arm64.sh run it on their trees after configuring them.
#
# Usage: scripts/unity-names.sh BUILD_DIR   (configured with -DCMAKE_UNITY_BUILD=ON)
set -euo pipefail
BUILD_DIR=${1:?usage: scripts/unity-names.sh BUILD_DIR}
found=0
targets=0
while IFS= read -r unity; do
    # CMake lists a target's sources in its Unity/*.cxx files, one #include "path" each.
    mapfile -t sources < <(cat "$unity"/unity_* 2>/dev/null | sed -n 's/^#include "\(.*\)"$/\1/p')
    ((${#sources[@]} > 1)) || continue
    targets=$((targets + 1))
    clashes=$(ctags --languages=C++ --kinds-C++=fvcsuge --fields=+sZKf --extras=-q --output-format=json -f - "${sources[@]}" |
        python3 -c '
import collections, json, os, sys
where = collections.defaultdict(set)
for line in sys.stdin:
    tag = json.loads(line)
    at_namespace_scope = tag.get("scopeKind", "namespace") == "namespace"
    if at_namespace_scope and ("__anon" in tag.get("scope", "") or tag.get("file")):
        where[tag["name"]].add(os.path.relpath(tag["path"]))
for name, paths in sorted(where.items()):
    if len(paths) > 1:
        print(f"  {name}: " + ", ".join(sorted(paths)))
')
    if [[ -n $clashes ]]; then
        echo "unity-names: file-local names defined twice in one target ($(basename "$(dirname "$unity")" .dir)):"
        echo "$clashes"
        found=1
    fi
done < <(shopt -s nullglob; printf '%s\n' "$BUILD_DIR"/CMakeFiles/*.dir/Unity "$BUILD_DIR"/*/CMakeFiles/*.dir/Unity)
((targets > 0)) || { echo "unity-names: no unity sources under $BUILD_DIR (configure with -DCMAKE_UNITY_BUILD=ON)" >&2; exit 2; }
((found == 0)) || { echo "unity-names: give them distinct names (or share one in a header)" >&2; exit 1; }
echo "unity-names: $targets targets, no file-local name defined twice"
