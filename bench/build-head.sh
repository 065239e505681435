#!/usr/bin/env bash
# bench/build-head.sh [REV] [BUILD_DIR]: build a Release `cove` from a commit (default HEAD) in a
# temporary git worktree, so the benchmark does not depend on the state of the working tree.
# Prints the binary's path. Then: bench/startup.sh -b BUILD_DIR.
#
# COVE_WERROR=OFF: at 7a14286, g++ 12 -O3 reports a -Wrestrict false positive inside
# std::string::assign (runtime/base/fs.cpp, open_in_root) that -Werror turns into a build failure.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
rev=${1:-HEAD}
build=${2:-/tmp/cove-bench-build}
# A fixed source path per build dir: CMake's cache remembers the source directory.
wt=$build-src
[ ! -e "$wt" ] || { echo "build-head.sh: $wt exists (a previous run's worktree?)" >&2; exit 1; }
git -C "$repo" worktree add --detach "$wt" "$rev" >&2
trap 'git -C "$repo" worktree remove --force "$wt"' EXIT
cmake -S "$wt" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCOVE_WERROR=OFF >&2
cmake --build "$build" --target cove-cli >&2
echo "$build/cove"
