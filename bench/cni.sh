#!/bin/bash
# bench/cni.sh: CPU time (user+sys) and peak RSS per ADD and per DEL of cove's CNI plugins
# against the reference plugins (Debian's containernetworking-plugins), in one run:
#   bridge:     cove-bridge + cove-host-local   vs  /usr/lib/cni/bridge + /usr/lib/cni/host-local
#   host-local: cove-host-local alone           vs  /usr/lib/cni/host-local alone
# Each implementation gets its own network namespace, bridge, subnet and dataDir, made here and
# removed on exit (also on failure). Numbers come from wait4() per call (bench/cnibench.c).
#
# usage: bench/cni.sh [-n N] [-b BUILD_DIR] [-r REF_DIR] [-k]
#   -n N   ADD+DEL rounds per implementation (default 200)
#   -b     where cove-bridge and cove-host-local are (default <repo>/build)
#   -r     reference plugin dir (default /usr/lib/cni)
#   -k     keep the work dir (configs, dataDirs)
# Targets: cove at most 0.2x the reference's CPU and 0.5x its peak RSS.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
N=200
BUILD=$REPO/build
REF=/usr/lib/cni
KEEP=0
while getopts "n:b:r:k" o; do
	case $o in
	n) N=$OPTARG ;;
	b) BUILD=$OPTARG ;;
	r) REF=$OPTARG ;;
	k) KEEP=1 ;;
	*) sed -n '2,16p' "$0" >&2; exit 2 ;;
	esac
done

[ "$(id -u)" -eq 0 ] || { echo "cni.sh: needs root (network namespaces, bridges)" >&2; exit 1; }
for b in "$BUILD/cove-host-local" "$REF/host-local"; do
	[ -x "$b" ] || { echo "cni.sh: missing $b" >&2; exit 1; }
done
HAVE_BRIDGE=1
if [ ! -x "$BUILD/cove-bridge" ] || [ ! -x "$REF/bridge" ]; then
	HAVE_BRIDGE=0
	echo "cni.sh: cove-bridge or $REF/bridge missing: measuring host-local alone" >&2
fi

WORK=$(mktemp -d /tmp/cove-cnibench.XXXXXX)
TAG=cnb$$
NETNS=()
LINKS=()
cleanup() {
	local x
	for x in "${LINKS[@]}"; do ip link delete "$x" 2>/dev/null || true; done
	for x in "${NETNS[@]}"; do ip netns delete "$x" 2>/dev/null || true; done
	if [ "$KEEP" -eq 0 ]; then rm -rf "$WORK"; else echo "work dir kept: $WORK" >&2; fi
}
trap cleanup EXIT

mkns() {
	ip netns add "$1"
	NETNS+=("$1")
}

cc -O2 -o "$WORK/cnibench" "$REPO/bench/cnibench.c"

# conf FILE NAME TYPE IPAM_TYPE SUBNET [BRIDGE]
conf() {
	local ipam
	ipam=$(printf '{"type":"%s","subnet":"%s","dataDir":"%s/data"}' "$4" "$5" "$WORK")
	if [ -n "${6:-}" ]; then
		printf '{"cniVersion":"1.0.0","name":"%s","type":"%s","bridge":"%s","isGateway":true,"ipMasq":false,"ipam":%s}\n' \
			"$2" "$3" "$6" "$ipam" >"$1"
	else
		printf '{"cniVersion":"1.0.0","name":"%s","type":"%s","ipam":%s}\n' "$2" "$3" "$ipam" >"$1"
	fi
}

SPECS=()
if [ "$HAVE_BRIDGE" -eq 1 ]; then
	mkns "$TAG-cb"
	mkns "$TAG-rb"
	LINKS+=("${TAG}cb" "${TAG}rb")
	conf "$WORK/cove-bridge.json" "${TAG}-cbn" cove-bridge cove-host-local 10.231.0.0/16 "${TAG}cb"
	conf "$WORK/ref-bridge.json" "${TAG}-rbn" bridge host-local 10.232.0.0/16 "${TAG}rb"
	SPECS+=("cove-bridge+cove-host-local:$BUILD/cove-bridge:$WORK/cove-bridge.json:/run/netns/$TAG-cb:$BUILD"
		"bridge+host-local:$REF/bridge:$WORK/ref-bridge.json:/run/netns/$TAG-rb:$REF")
fi
mkns "$TAG-ch"
mkns "$TAG-rh"
conf "$WORK/cove-hl.json" "${TAG}-chn" cove-host-local cove-host-local 10.233.0.0/16
conf "$WORK/ref-hl.json" "${TAG}-rhn" host-local host-local 10.234.0.0/16
SPECS+=("cove-host-local:$BUILD/cove-host-local:$WORK/cove-hl.json:/run/netns/$TAG-ch:$BUILD"
	"host-local:$REF/host-local:$WORK/ref-hl.json:/run/netns/$TAG-rh:$REF")

echo "# CNI ADD/DEL: $N rounds, $(nproc) CPUs, $(uname -r)"
echo
"$WORK/cnibench" -n "$N" "${SPECS[@]}"

# Nothing may be left: every lease released by DEL.
left=$(find "$WORK/data" -type f ! -name lock ! -name 'last_reserved_ip.*' 2>/dev/null | wc -l)
if [ "$left" -ne 0 ]; then
	echo "cni.sh: $left leases left behind after DEL" >&2
	exit 1
fi
