#!/usr/bin/env bash
# bench/run-image.sh [-n N] [-b BUILD_DIR] [-c COVE_BIN] [-r RUNTIMES] [-k]
#
# Image run benchmark: `cove run --rm --image IMG ID -- /bin/true` against
# `podman run --rm --network none IMG /bin/true` on the same image (a one-layer busybox-static
# OCI layout made here, pulled by each into its own store under a temp dir). Both mount an
# overlay of the image's layers, make a container, run /bin/true and remove everything.
# N rounds, interleaved (order rotated), 2 warm-up runs each; prints medians, p90 and ratios
# to cove as a markdown table. Exits non-zero if a run fails or leaves a container behind.
#
#   -n N          runs per contender (default 30)
#   -b BUILD_DIR  cove build directory; the binary is BUILD_DIR/cove (default: <repo>/build)
#   -c COVE_BIN   cove binary (overrides -b)
#   -r RUNTIMES   comma-separated OCI runtimes for podman --runtime (default: crun, or runc
#                 on a hybrid cgroup host, where crun 1.8 refuses to run; "cove" means COVE_BIN)
#   -k            keep the work directory
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
n=30
build=$repo/build
cove=
runtimes=
keep=0
while getopts "n:b:c:r:kh" o; do
    case $o in
    n) n=$OPTARG ;;
    b) build=$OPTARG ;;
    c) cove=$OPTARG ;;
    r) runtimes=$OPTARG ;;
    k) keep=1 ;;
    *) sed -n '2,17s/^# \{0,1\}//p' "$0"; exit 2 ;;
    esac
done
cove=$(readlink -f "${cove:-$build/cove}")

die() { echo "run-image.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root"
[ -x "$cove" ] || die "missing cove binary $cove"
command -v podman >/dev/null || die "missing podman (.ci/clients-setup.sh installs it)"
command -v jq >/dev/null || die "missing jq"
[ -x /bin/busybox ] || die "missing /bin/busybox (apt-get install busybox-static)"

hybrid=0
if [ "$(stat -fc %T /sys/fs/cgroup)" != cgroup2fs ] && mountpoint -q /sys/fs/cgroup/unified; then
    hybrid=1
fi
if [ -z "$runtimes" ]; then
    runtimes=crun
    ((hybrid)) && runtimes=runc
fi

# Lowercase path: podman names an oci: image after its directory.
work=$(mktemp -d /tmp/cove-bench-image.XXXXXX)
work_lc=/tmp/cove-bench-image-$$
mv "$work" "$work_lc"
work=$work_lc
export COVE_IMAGE_ROOT=$work/cove-images COVE_CONTAINER_ROOT=$work/cove-containers
state=$work/cove-state
podman_base=(podman --root "$work/podman-root" --runroot "$work/podman-run"
    --storage-driver overlay --cgroup-manager cgroupfs --events-backend none)
cleanup() {
    local rc=$?
    "${podman_base[@]}" rm -af >/dev/null 2>&1 || true
    # podman's storage keeps overlay mounts of its layers; unmount before removing.
    "${podman_base[@]}" system reset -f >/dev/null 2>&1 || true
    if ((keep)); then echo "run-image.sh: kept $work" >&2; else rm -rf "$work"; fi
    exit $rc
}
trap cleanup EXIT

# The image: busybox-static with its applets, as an OCI layout (one uncompressed tar layer).
layer=$work/layer
mkdir -p "$layer"/{bin,etc,tmp,proc,sys,dev}
cp /bin/busybox "$layer/bin/busybox"
for a in $(/bin/busybox --list); do [ -e "$layer/bin/$a" ] || ln -s busybox "$layer/bin/$a"; done
layout=$work/oci
mkdir -p "$layout/blobs/sha256"
echo '{"imageLayoutVersion": "1.0.0"}' >"$layout/oci-layout"
blob() { # file -> prints "digest size"
    local d s
    d=$(sha256sum "$1" | cut -d' ' -f1)
    s=$(stat -c %s "$1")
    mv "$1" "$layout/blobs/sha256/$d"
    echo "sha256:$d $s"
}
tar --numeric-owner --sort=name -C "$layer" -cf "$work/t" .
read -r ldig lsize < <(blob "$work/t")
jq -n -c --arg l "$ldig" --arg arch "$(dpkg --print-architecture)" \
    '{architecture: $arch, os: "linux", config: {Cmd: ["/bin/true"], Env: ["PATH=/bin"]},
      rootfs: {type: "layers", diff_ids: [$l]}}' >"$work/t"
read -r cdig csize < <(blob "$work/t")
jq -n -c --arg c "$cdig" --argjson cs "$csize" --arg l "$ldig" --argjson ls "$lsize" \
    '{schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $c, size: $cs},
      layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $l, size: $ls}]}' \
    >"$work/t"
read -r mdig msize < <(blob "$work/t")
jq -n -c --arg m "$mdig" --argjson ms "$msize" \
    '{schemaVersion: 2, manifests: [{mediaType: "application/vnd.oci.image.manifest.v1+json",
      digest: $m, size: $ms, annotations: {"org.opencontainers.image.ref.name": "latest"}}]}' \
    >"$layout/index.json"

"$cove" image pull -q --name bench "oci:$layout:latest" >/dev/null
pimg=$("${podman_base[@]}" pull -q "oci:$layout:latest")

# Hard rlimits cannot be raised on this kind of host; podman's defaults would fail.
nproc=$(ulimit -Hu)
pidmax=$(cat /proc/sys/kernel/pid_max)
if [[ $nproc == unlimited ]] || ((nproc > pidmax)); then nproc=$pidmax; fi
nofile=$(ulimit -Hn)
[[ $nofile == unlimited ]] && nofile=1048576
ulimits=(--ulimit "nofile=$nofile:$nofile" --ulimit "nproc=$nproc:$nproc")

names=(cove)
IFS=, read -r -a rts <<<"$runtimes"
for rt in "${rts[@]}"; do names+=("podman/$rt"); done

seq_no=0
run_one() { # name -> prints elapsed ns; fails on a failed run
    local name=$1 t0 t1 rt
    seq_no=$((seq_no + 1))
    t0=$(date +%s%N)
    if [ "$name" = cove ]; then
        "$cove" --root "$state" run --rm --image bench "b$$-$seq_no" -- /bin/true </dev/null \
            >/dev/null 2>>"$work/cove.stderr"
    else
        rt=${name#podman/}
        [ "$rt" = cove ] && rt=$cove
        "${podman_base[@]}" --runtime "$rt" run --rm --network none "${ulimits[@]}" "$pimg" \
            /bin/true </dev/null >/dev/null 2>>"$work/podman.stderr"
    fi
    t1=$(date +%s%N)
    echo $((t1 - t0))
}

for name in "${names[@]}"; do
    for _ in 1 2; do run_one "$name" >/dev/null || die "warm-up of $name failed: $(tail -3 "$work"/*.stderr)"; done
done
for ((i = 0; i < n; i++)); do
    k=${#names[@]}
    for ((j = 0; j < k; j++)); do
        name=${names[$(((i + j) % k))]}
        t=$(run_one "$name") || die "$name failed: $(tail -3 "$work"/*.stderr)"
        echo "$t" >>"$work/times.${name//\//_}"
    done
done

left=$(ls -A "$COVE_CONTAINER_ROOT" 2>/dev/null; ls -A "$state" 2>/dev/null)
[ -z "$left" ] || die "cove left containers behind: $left"
[ -z "$("${podman_base[@]}" ps -aq)" ] || die "podman left containers behind"

stat_ms() { # file q -> the q-quantile in ms
    sort -n "$1" | awk -v q="$2" '{a[NR]=$1} END {i=int((NR-1)*q)+1; printf "%.1f", a[i]/1e6}'
}
echo "## cove run --image vs podman run — $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "- host: $(uname -r), $(nproc) CPUs, cgroups $( ((hybrid)) && echo hybrid || stat -fc %T /sys/fs/cgroup), load avg before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- cove: $("$cove" --version | head -1); podman: $(podman --version)"
echo "- image: busybox-static, 1 layer; N=$n runs of /bin/true each, interleaved, --rm"
echo
echo "| contender | median ms | p90 ms | median / cove |"
echo "| --- | ---: | ---: | ---: |"
base=$(stat_ms "$work/times.cove" 0.5)
for name in "${names[@]}"; do
    f=$work/times.${name//\//_}
    med=$(stat_ms "$f" 0.5)
    echo "| $name | $med | $(stat_ms "$f" 0.9) | $(awk -v a="$med" -v b="$base" 'BEGIN {printf "%.2f", a / b}') |"
done
