#!/usr/bin/env bash
# bench/image.sh [-n N] [-s SRC_DIR] [-c COVE_BIN] [-k]
#
# Image import benchmark: `cove image pull oci:` (verify + store blobs + unpack every layer)
# against `umoci unpack` (verify + unpack into one rootfs) and `skopeo copy oci: oci:`
# (verify + copy blobs, no unpack), on one OCI layout built here: busybox-static, a copy of
# SRC_DIR (default /usr/lib/python3.11: thousands of small files), and a layer of deletions.
# Rounds are interleaved; prints median wall times and the ratios of cove to the others.
#
#   -n N        rounds (default 5)
#   -s SRC_DIR  tree for the big layer
#   -c COVE_BIN cove binary (default <repo>/build/cove)
#   -k          keep the work directory
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
n=5
src=/usr/lib/python3.11
cove=$repo/build/cove
keep=0
while getopts "n:s:c:kh" o; do
    case $o in
    n) n=$OPTARG ;;
    s) src=$OPTARG ;;
    c) cove=$OPTARG ;;
    k) keep=1 ;;
    *) sed -n '2,14s/^# \{0,1\}//p' "$0"; exit 2 ;;
    esac
done
die() { echo "image.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root"
[ -x "$cove" ] || die "missing $cove"
for t in umoci skopeo python3 /bin/busybox; do command -v "$t" >/dev/null || die "missing $t"; done
[ -d "$src" ] || die "missing $src (give -s SRC_DIR)"
python=$(command -v /usr/bin/python3 || command -v python3)

work=$(mktemp -d /tmp/cove-image-bench.XXXXXX)
cleanup() {
    local rc=$?
    if ((keep)); then echo "image.sh: kept $work" >&2; else rm -rf "$work"; fi
    exit $rc
}
trap cleanup EXIT

# The image: three gzip layers.
mkdir -p "$work/l1/bin" "$work/l2/usr/lib" "$work/l3/usr/lib/big"
cp /bin/busybox "$work/l1/bin/busybox"
ln -s busybox "$work/l1/bin/sh"
cp -a "$src" "$work/l2/usr/lib/big"
touch "$work/l3/usr/lib/big/.wh..wh..opq"
echo small >"$work/l3/usr/lib/big/kept"
"$python" "$repo/tests/fixtures/image/mkimage.py" "$work/oci" bench "$work"/l{1,2,3} >/dev/null
size=$(du -sb "$work/oci" | cut -f1)
files=$(find "$work/l2" | wc -l)

now() { date +%s%N; }
declare -A times
run_one() {
    local tool=$1 i=$2 t0 t1
    case $tool in
    cove)
        t0=$(now)
        COVE_IMAGE_ROOT="$work/store-$i" "$cove" image pull -q "oci:$work/oci:bench" >/dev/null
        t1=$(now)
        rm -rf "$work/store-$i"
        ;;
    umoci)
        t0=$(now)
        umoci unpack --image "$work/oci:bench" "$work/bundle-$i" >/dev/null 2>&1
        t1=$(now)
        rm -rf "$work/bundle-$i"
        ;;
    skopeo)
        t0=$(now)
        skopeo copy -q "oci:$work/oci:bench" "oci:$work/copy-$i:bench" >/dev/null
        t1=$(now)
        rm -rf "$work/copy-$i"
        ;;
    esac
    times[$tool]+="$(((t1 - t0) / 1000000)) "
}

tools=(cove umoci skopeo)
run_one cove warm && run_one umoci warm && run_one skopeo warm
times=()
for i in $(seq 1 "$n"); do
    for k in 0 1 2; do
        run_one "${tools[$(((i + k) % 3))]}" "$i"
    done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
c=$(median <<<"${times[cove]}")
u=$(median <<<"${times[umoci]}")
s=$(median <<<"${times[skopeo]}")
echo "image: 3 gzip layers, $((size / 1000000)) MB compressed, $files files in the big layer ($src); $n rounds"
echo
echo "| tool | what it does | median ms | cove / tool |"
echo "| --- | --- | ---: | ---: |"
echo "| cove image pull | verify, store blobs, unpack each layer | $c | 1.00 |"
awk -v c="$c" -v u="$u" 'BEGIN {printf "| umoci unpack | verify, unpack into one rootfs | %d | %.2f |\n", u, c / u}'
awk -v c="$c" -v s="$s" 'BEGIN {printf "| skopeo copy oci: oci: | verify, copy blobs (no unpack) | %d | %.2f |\n", s, c / s}'
