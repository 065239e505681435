#!/usr/bin/env bash
# bench/startup.sh [-n N] [-b BUILD_DIR] [-c COVE_BIN] [-a] [-p] [-k]
#
# Container startup benchmark: cove vs runc vs crun, ratios from one interleaved run.
# N sequential `RUNTIME --root FRESH_DIR run -b BUNDLE UNIQUE_ID` of /bin/true per runtime, on one
# busybox-static rootfs, each with its own cgroupsPath so every run creates and removes a cgroup.
# Prints a markdown table (medians, p90, CPU user+sys, ratios, peak RSS). Exits non-zero if any
# run fails or leaves a cgroup directory or state behind. See bench/README.md.
#
#   -n N          containers per runtime (default 100)
#   -b BUILD_DIR  cove build directory; the binary is BUILD_DIR/cove (default: <repo>/build)
#   -c COVE_BIN   cove binary (overrides -b)
#   -a            run cove and runc in crun's mount namespace too (no cgroup2 at
#                 /sys/fs/cgroup/unified), so all three manage the same hierarchies
#   -p            also time the phases: N more rounds of create / start / (init) / delete
#   -k            keep the work directory (bundles, raw per-run TSV, runtime stderr)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
n=100
build=$repo/build
cove=
all_nounified=0
phases=0
keep=0
while getopts "n:b:c:apkh" o; do
    case $o in
    n) n=$OPTARG ;;
    b) build=$OPTARG ;;
    c) cove=$OPTARG ;;
    a) all_nounified=1 ;;
    p) phases=1 ;;
    k) keep=1 ;;
    *) sed -n '2,17s/^# \{0,1\}//p' "$0"; exit 2 ;;
    esac
done
cove=${cove:-$build/cove}
cove=$(readlink -f "$cove")
runc=$(command -v runc || echo /usr/sbin/runc)
crun=$(command -v crun || echo /usr/bin/crun)

die() { echo "startup.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root"
for b in "$cove" "$runc" "$crun"; do [ -x "$b" ] || die "missing runtime binary $b"; done
[ -x "$repo/.ci/busybox-bundle" ] || die "missing $repo/.ci/busybox-bundle"
[ -x /bin/busybox ] || die "missing /bin/busybox (apt-get install busybox-static)"
command -v jq >/dev/null || die "missing jq"

# State roots on tmpfs like /run/runc; fall back to /tmp.
base=/run
[ -w "$base" ] || base=/tmp
work=$(mktemp -d "$base/cove-bench.XXXXXX")
tag=cove-bench-$$
cleanup() {
    local rc=$?
    for d in /sys/fs/cgroup/$tag-* /sys/fs/cgroup/*/$tag-*; do [ -d "$d" ] && rmdir "$d" 2>/dev/null; done
    if ((keep)); then echo "startup.sh: kept $work" >&2; else rm -rf "$work"; fi
    exit $rc
}
trap cleanup EXIT

# One rootfs; one bundle dir per runtime (own config.json: own cgroupsPath), all pointing at it.
COVE=$cove "$repo/.ci/busybox-bundle" "$work/bundle" /bin/true >/dev/null
for rt in cove runc crun; do
    mkdir -p "$work/$rt"
    jq --arg cg "/$tag-$rt" --arg root "$work/bundle/rootfs" \
        '.process.args = ["/bin/true"] | .linux.cgroupsPath = $cg | .root.path = $root' \
        "$work/bundle/config.json" >"$work/$rt/config.json"
done

cc -O2 -o "$work/runbench" "$here/runbench.c"

# crun 1.8 refuses hybrid hosts: on one, run it where /sys/fs/cgroup/unified is unmounted
# (a private mount namespace made by runbench; the host's mounts are not touched).
crun_mode=host
if [ "$(stat -fc %T /sys/fs/cgroup)" != cgroup2fs ] && mountpoint -q /sys/fs/cgroup/unified; then
    crun_mode=nounified
fi
other_mode=host
((all_nounified)) && other_mode=$crun_mode

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "## cove startup benchmark — $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "- host: $(uname -r), $(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), load avg before: $load_before"
echo "- cgroups: $( [ "$crun_mode" = nounified ] && echo hybrid || echo "$(stat -fc %T /sys/fs/cgroup)"); crun in mode $crun_mode, cove/runc in mode $other_mode"
echo "- cove: $cove ($("$cove" --version 2>/dev/null | head -1), $(stat -c %s "$cove") bytes)"
echo "- runc: $("$runc" --version | head -1); crun: $("$crun" --version | head -1)"
echo "- N=$n containers of /bin/true per runtime, interleaved round by round (order rotated), 3 warm-up runs each"
echo

specs=("cove:$other_mode:$cove:$work/cove:$tag-cove"
    "runc:$other_mode:$runc:$work/runc:$tag-runc"
    "crun:$crun_mode:$crun:$work/crun:$tag-crun")
failed() {
    echo "startup.sh: a run failed or left something behind; runtime stderr:" >&2
    tail -n 20 "$work"/*.stderr >&2 || true
    exit 1
}
"$work/runbench" -n "$n" -t "$work" -r "$work/raw.tsv" "${specs[@]}" || failed
if ((phases)); then
    echo
    echo "Phases (N=$n more rounds, \`create\`, \`start\`, reap the init, \`delete\`):"
    echo
    "$work/runbench" -p -n "$n" -t "$work" -r "$work/raw-phases.tsv" "${specs[@]}" || failed
fi

# Cross-check of peak RSS with GNU time, one `run` each.
echo
rss() { # name mode bin
    local r
    r=$(mktemp -d "$work/rss-$1.XXXXXX")
    if [ "$2" = nounified ]; then
        unshare -m --propagation private sh -c \
            'umount /sys/fs/cgroup/unified && exec /usr/bin/time -f %M "$@"' sh \
            "$3" --root "$r" run -b "$work/$1" "rss-$1-$$" 2>&1 >/dev/null </dev/null | tail -1
    else
        /usr/bin/time -f %M "$3" --root "$r" run -b "$work/$1" "rss-$1-$$" 2>&1 >/dev/null </dev/null | tail -1
    fi
}
printf -- '- peak RSS of one `run` by `/usr/bin/time -f %%M`: cove %s KiB, runc %s KiB, crun %s KiB\n' \
    "$(rss cove "$other_mode" "$cove")" "$(rss runc "$other_mode" "$runc")" "$(rss crun "$crun_mode" "$crun")"
echo "- load avg after: $(cut -d' ' -f1-3 /proc/loadavg)"

# Nothing may be left: no cgroup dir in any hierarchy, no container state.
left=$(ls -d /sys/fs/cgroup/$tag-* /sys/fs/cgroup/*/$tag-* 2>/dev/null || true)
[ -z "$left" ] || die "cgroup dirs left behind: $left"
state=$(find "$work"/rss-* -mindepth 1 | head -5) # runbench already checked every loop run's root
[ -z "$state" ] || die "container state left behind: $state"
echo "- after the run: no cgroup directory and no state dir left by any runtime"
