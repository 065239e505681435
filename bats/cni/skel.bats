#!/usr/bin/env bats
# The CNI skeleton as a runtime sees it, through cove-host-local: VERSION, the error object
# and code for each kind of bad input SPEC.md names, and that bad input leaves no lease.

load helpers

function setup() {
	cni_setup
	cni_requires host-local
	cni_requires_netns
	NETNS=$(cni_make_netns)
	CONF=$(cni_conf net1 cove-host-local "$(cni_ipam_json 10.77.0.0/24)")
}

function teardown() {
	cni_teardown
}

# No lease file was written for the network.
function no_leases() {
	[ ! -d "$CNI_TMP/ipam/net1" ] || [ -z "$(ls "$CNI_TMP/ipam/net1" | grep -v -e '^lock$' -e '^last_reserved')" ]
}

@test "VERSION lists every supported version, with no env but the command" {
	run env -i CNI_COMMAND=VERSION "$(cni_bin host-local)" </dev/null
	[ "$status" -eq 0 ]
	[ "$(jq -r .cniVersion <<<"$output")" = "1.1.0" ]
	[ "$(jq -c .supportedVersions <<<"$output")" = '["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]' ]
	# Echoes the version it was asked in.
	run env -i CNI_COMMAND=VERSION "$(cni_bin host-local)" <<<'{"cniVersion":"0.4.0"}'
	[ "$(jq -r .cniVersion <<<"$output")" = "0.4.0" ]
}

@test "no CNI_COMMAND: about text on stderr, error 4" {
	run --separate-stderr env -i "$(cni_bin host-local)" </dev/null
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"cove-host-local"* ]]
	cni_expect_error 4
}

@test "unknown CNI_COMMAND is error 4" {
	run cni_exec host-local FROB "$CONF"
	cni_expect_error 4
	[[ "$output" == *FROB* ]]
}

@test "ADD without CNI_CONTAINERID, CNI_NETNS or CNI_IFNAME is error 4 naming it" {
	local v
	for v in CNI_CONTAINERID CNI_NETNS CNI_IFNAME; do
		run cni_exec host-local ADD "$CONF" "$v="
		cni_expect_error 4
		[[ "$(jq -r .msg <<<"$output")" == *"$v"* ]]
	done
	no_leases
}

@test "invalid container id or interface name is error 4" {
	run cni_exec host-local ADD "$CONF" CNI_CONTAINERID=-bad
	cni_expect_error 4
	run cni_exec host-local ADD "$CONF" CNI_IFNAME=this-is-too-long0
	cni_expect_error 4
	run cni_exec host-local ADD "$CONF" CNI_IFNAME=a/b
	cni_expect_error 4
	no_leases
}

@test "malformed CNI_ARGS, or an unknown key without IgnoreUnknown, is error 4" {
	run cni_exec host-local ADD "$CONF" CNI_ARGS=novalue
	cni_expect_error 4
	run cni_exec host-local ADD "$CONF" CNI_ARGS=FOO=bar
	cni_expect_error 4
	no_leases
	run cni_exec host-local ADD "$CONF" "CNI_ARGS=IgnoreUnknown=1;FOO=bar"
	[ "$status" -eq 0 ]
}

@test "config that is not JSON is error 6" {
	run cni_exec host-local ADD '{"cniVersion": "1.0.0", '
	cni_expect_error 6
	run cni_exec host-local ADD '[1,2]'
	cni_expect_error 6
	no_leases
}

@test "unsupported or missing cniVersion is error 1" {
	local c
	for c in '"0.2.0"' '"2.0.0"' ''; do
		local conf
		conf=$(printf '{%s"name":"net1","type":"cove-host-local","ipam":%s}' \
			"${c:+\"cniVersion\":$c,}" "$(cni_ipam_json 10.77.0.0/24)")
		run cni_exec host-local ADD "$conf"
		cni_expect_error 1
	done
	# CHECK needs 0.4.0, GC and STATUS 1.1.0.
	run cni_exec host-local CHECK "$(cni_conf net1 cove-host-local "$(cni_ipam_json 10.77.0.0/24)" 0.3.1)"
	cni_expect_error 1
	run cni_exec host-local STATUS "$(cni_conf net1 cove-host-local "$(cni_ipam_json 10.77.0.0/24)" 1.0.0)"
	cni_expect_error 1
	run cni_exec host-local GC "$(cni_conf net1 cove-host-local "$(cni_ipam_json 10.77.0.0/24)" 1.0.0)"
	cni_expect_error 1
	no_leases
}

@test "invalid network config is error 7" {
	run cni_exec host-local ADD '{"cniVersion":"1.0.0","type":"cove-host-local"}'
	cni_expect_error 7
	[[ "$(jq -r .msg <<<"$output")" == *name* ]]
	run cni_exec host-local ADD "$(cni_conf net1 cove-host-local "$(cni_ipam_json 10.77.0.7/24)")"
	cni_expect_error 7
	run cni_exec host-local ADD "$(cni_conf net1 cove-host-local "$(cni_ipam_json 10.77.0.0/24 '"rangeStart":"10.1.1.1"')")"
	cni_expect_error 7
	[[ "$(jq -r .msg <<<"$output")" == *rangeStart* ]]
	run cni_exec host-local ADD '{"cniVersion":"1.0.0","name":"net1","type":"cove-host-local","ipam":{"type":"cove-host-local"}}'
	cni_expect_error 7
	no_leases
}

@test "CNI_NETNS naming the plugin's own netns is refused" {
	run cni_exec host-local ADD "$CONF" CNI_NETNS=/proc/self/ns/net
	[ "$status" -ne 0 ]
	cni_expect_error 8
	no_leases
}

@test "the error object carries the config's cniVersion" {
	run cni_exec host-local ADD "$(cni_conf net1 cove-host-local '{"type":"cove-host-local"}' 0.4.0)"
	cni_expect_error 7
	[ "$(jq -r .cniVersion <<<"$output")" = "0.4.0" ]
}

@test "results are encoded in the config's version" {
	local v
	for v in 0.3.0 0.3.1 0.4.0 1.0.0 1.1.0; do
		CID=ctr-$v run cni_exec host-local ADD "$(cni_conf net1 cove-host-local "$(cni_ipam_json 10.77.0.0/24)" $v)"
		[ "$status" -eq 0 ]
		[ "$(jq -r .cniVersion <<<"$output")" = "$v" ]
		case $v in
		0.*) [ "$(jq -r '.ips[0].version' <<<"$output")" = "4" ] ;;
		*) [ "$(jq -r '.ips[0] | has("version")' <<<"$output")" = "false" ] ;;
		esac
	done
}

@test "stdin that cannot be read is error 5" {
	run env -i CNI_COMMAND=ADD CNI_CONTAINERID=c1 CNI_NETNS="$NETNS" CNI_IFNAME=eth0 \
		"$(cni_bin host-local)" </
	cni_expect_error 5
	no_leases
}
