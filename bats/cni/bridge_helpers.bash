#!/bin/bash
# Helpers for bats/cni/bridge.bats on top of helpers.bash: one bridge and one network name per
# test, configs for cove-bridge, ADD and failing-call steps, and a teardown that also removes
# the test's nftables rules.

# Per-test names: bridge (<=15 chars) and network (the nft rule tags start with "$NET/").
function bridge_setup() {
	cni_setup
	BR="${CNI_PREFIX}b${BATS_TEST_NUMBER:-0}"
	NET="cvbt-$$-${BATS_TEST_NUMBER:-0}"
	cni_record_link "$BR"
	export BR NET
}

function bridge_teardown() {
	bridge_nft_cleanup "$NET"
	cni_teardown
}

# Deletes the rules tagged for network $1 in cove-bridge's chains, then the tables that are left
# without rules.
function bridge_nft_cleanup() {
	local net=$1 fam chain h
	for fam in ip ip6 bridge; do
		chain=postrouting
		[ "$fam" = bridge ] && chain=prerouting
		for h in $(nft -j -a list chain "$fam" cove-cni "$chain" 2>/dev/null |
			jq -r --arg p "$net/" '.nftables[] | select(.rule) | .rule | select((.comment // "") | startswith($p)) | .handle'); do
			nft delete rule "$fam" cove-cni "$chain" handle "$h" 2>/dev/null
		done
		if [ "$(nft -j list chain "$fam" cove-cni "$chain" 2>/dev/null | jq '[.nftables[] | select(.rule)] | length')" = 0 ]; then
			nft delete table "$fam" cove-cni 2>/dev/null
		fi
	done
	true
}

# bridge_conf IPAM_JSON [EXTRA_MEMBERS] [VERSION]: a cove-bridge config on $BR named $NET.
function bridge_conf() {
	local extra=\"bridge\":\"$BR\"${2:+,$2}
	cni_conf "$NET" cove-bridge "$1" "${3:-1.1.0}" "$extra"
}

# Rules tagged for this network in a family's chain (as "comment" lines).
function bridge_rules() {
	local fam=$1 chain=postrouting
	[ "$fam" = bridge ] && chain=prerouting
	nft -j list chain "$fam" cove-cni "$chain" 2>/dev/null |
		jq -r --arg p "$NET/" '.nftables[] | select(.rule) | .rule | select((.comment // "") | startswith($p)) | .comment'
}

# Number of ports on the test bridge.
function bridge_ports() {
	ip -o link show master "$BR" 2>/dev/null | wc -l
}

# Leases in the host-local store of the test network.
function bridge_leases() {
	find "$CNI_TMP/ipam/$NET" -maxdepth 1 -name '[0-9a-f]*[.:]*' 2>/dev/null | wc -l
}

# add NETNS CID [IFNAME]: ADD with $CONF; result in $RES.
function add() {
	NETNS=$1 CID=$2 IFNAME=${3:-eth0} run cni_exec bridge ADD "$CONF"
	echo "$output"
	[ "$status" -eq 0 ]
	RES=$output
}

# add_two: containers c1 and c2 in new netns $ns1 and $ns2 (ADD with $CONF); c1's result in
# $r1, c2's in $RES.
function add_two() {
	ns1=$(cni_make_netns)
	ns2=$(cni_make_netns)
	add "$ns1" c1
	r1=$RES
	add "$ns2" c2
}

# fails VERB NETNS CID CONF REGEX: that cove-bridge call fails, and its error's msg matches
# REGEX.
function fails() {
	NETNS=$2 CID=$3 run cni_exec bridge "$1" "$4"
	echo "$output"
	[ "$status" -ne 0 ]
	jq -e --arg re "$5" '.msg | test($re)' <<<"$output"
}

# with_prev CONF RESULT: CONF with prevResult set.
function with_prev() {
	jq -c --argjson r "$2" '. + {prevResult: $r}' <<<"$1"
}

# nsping NETNS ADDR: one ping from the netns (busybox, IPv4 or IPv6).
function nsping() {
	local cmd=ping
	[[ $2 == *:* ]] && cmd=ping6
	ip netns exec "${1##*/}" busybox "$cmd" -c 1 -W 3 "$2"
}
