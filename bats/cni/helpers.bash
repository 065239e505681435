#!/bin/bash
# Shared helpers for the CNI plugin suites (bats/cni/*.bats): where the plugins are, network
# namespaces that teardown always removes, and running a plugin the way a runtime does (CNI_*
# environment, config on stdin, result or error object on stdout).
#
#   COVE_BUILD=/path/to/build bats bats/cni/     # default: <repo>/build
#
# In a test:
#   setup()    { cni_setup; }
#   teardown() { cni_teardown; }
#   ns=$(cni_make_netns)                         # a fresh netns; its path
#   CID=c1 IFNAME=eth0 NETNS=$ns                 # what cni_exec passes (defaults below)
#   run cni_exec host-local ADD "$conf"          # cove-host-local from $COVE_BUILD
#   run cni_exec /usr/lib/cni/bridge ADD "$conf" # any path: the reference plugins
#   run cni_exec host-local DEL "$conf" CNI_NETNS=   # extra VAR=value args override the env
#   cni_code "$output"                           # the "code" of an error object

bats_require_minimum_version 1.5.0

CNI_BATS_DIR=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
CNI_REPO=$(dirname "$(dirname "$CNI_BATS_DIR")")
COVE_BUILD=${COVE_BUILD:-$CNI_REPO/build}
# The reference plugins (Debian's containernetworking-plugins).
CNI_REF_DIR=${CNI_REF_DIR:-/usr/lib/cni}

# Per-test defaults for cni_exec; tests override them.
CID=${CID:-cove-test-ctr}
IFNAME=${IFNAME:-eth0}
NETNS=${NETNS:-}
CNI_ARGS_VAL=${CNI_ARGS_VAL:-}
CNI_PATH_DIRS=${CNI_PATH_DIRS:-$COVE_BUILD:$CNI_REF_DIR}

# A short prefix unique to this bats run, for netns and link names (IFNAMSIZ is 16).
CNI_PREFIX=${CNI_PREFIX:-cb$(printf '%x' $(($$ % 65536)))}

# Path of a plugin: an absolute path as is, else $COVE_BUILD/cove-<name>.
function cni_bin() {
	case "$1" in
	/*) echo "$1" ;;
	*) echo "$COVE_BUILD/cove-$1" ;;
	esac
}

# Skips the test unless every named plugin binary exists.
function cni_requires() {
	local p b
	for p in "$@"; do
		b=$(cni_bin "$p")
		[ -x "$b" ] || skip "plugin $b is not built/installed"
	done
}

# Skips unless we are root and `ip netns` works.
function cni_requires_netns() {
	[ "$(id -u)" -eq 0 ] || skip "needs root for network namespaces"
	command -v ip >/dev/null || skip "needs iproute2 (ip)"
}

# cni_exec PLUGIN VERB CONFIG [VAR=value ...]: runs the plugin with a clean CNI environment
# from CID, NETNS, IFNAME, CNI_ARGS_VAL, CNI_PATH_DIRS; extra VAR=value args override those
# (VAR= with nothing unsets it, as the spec treats empty and missing alike).
function cni_exec() {
	local bin verb=$2 conf=$3
	bin=$(cni_bin "$1")
	shift 3
	env -i PATH="$PATH" CNI_COMMAND="$verb" CNI_CONTAINERID="$CID" CNI_NETNS="$NETNS" \
		CNI_IFNAME="$IFNAME" CNI_ARGS="$CNI_ARGS_VAL" CNI_PATH="$CNI_PATH_DIRS" "$@" \
		"$bin" <<<"$conf"
}

# The "code" field of an error object (empty when there is none).
function cni_code() {
	jq -r '.code // empty' <<<"$1" 2>/dev/null
}

# Fails the test unless $status is non-zero and $output is an error object with code $1.
function cni_expect_error() {
	local want=$1 got
	got=$(cni_code "$output")
	if [ "$status" -eq 0 ] || [ "$got" != "$want" ]; then
		echo "expected error code $want, got status $status, code '$got': $output" >&2
		return 1
	fi
	jq -e '.msg | length > 0' <<<"$output" >/dev/null || {
		echo "error object without msg: $output" >&2
		return 1
	}
}

# A temp dir per test: $CNI_TMP (dataDir and configs live there).
function cni_setup() {
	CNI_TMP=$(mktemp -d "${BATS_TEST_TMPDIR:-/tmp}/cni.XXXXXX")
	: >"$CNI_TMP/netns.list"
	: >"$CNI_TMP/links.list"
	export CNI_TMP
}

# Makes a network namespace (name: prefix + counter) and prints its path.
function cni_make_netns() {
	local n name
	n=$(wc -l <"$CNI_TMP/netns.list")
	name="${CNI_PREFIX}-${BATS_TEST_NUMBER:-0}-$n"
	ip netns add "$name" >&2 || return 1
	echo "$name" >>"$CNI_TMP/netns.list"
	echo "/run/netns/$name"
}

# Removes one netns made by cni_make_netns (by path or name).
function cni_remove_netns() {
	local name=${1##*/}
	ip netns delete "$name" 2>/dev/null || true
}

# Records a host link for teardown to delete (bridges, host-side veths).
function cni_record_link() {
	echo "$1" >>"$CNI_TMP/links.list"
}

# Removes every netns and recorded link, then the temp dir.
function cni_teardown() {
	[ -n "${CNI_TMP:-}" ] && [ -d "$CNI_TMP" ] || return 0
	local n
	while read -r n; do
		[ -n "$n" ] && ip link delete "$n" 2>/dev/null
	done <"$CNI_TMP/links.list"
	while read -r n; do
		[ -n "$n" ] && ip netns delete "$n" 2>/dev/null
	done <"$CNI_TMP/netns.list"
	rm -rf "$CNI_TMP"
	true
}

# A host-local IPAM section (JSON) for subnet $1 with dataDir under $CNI_TMP; extra JSON
# members of the ipam object may follow as $2 (e.g. '"rangeStart":"10.1.0.10"').
function cni_ipam_json() {
	local extra=${2:+,$2}
	printf '{"type":"cove-host-local","subnet":"%s","dataDir":"%s/ipam"%s}' "$1" "$CNI_TMP" "$extra"
}

# A whole network config: cni_conf NAME TYPE IPAM_JSON [VERSION] [EXTRA_MEMBERS].
function cni_conf() {
	local extra=${5:+,$5}
	printf '{"cniVersion":"%s","name":"%s","type":"%s","ipam":%s%s}' "${4:-1.1.0}" "$1" "$2" "$3" "$extra"
}
