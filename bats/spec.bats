#!/usr/bin/env bats
# `spec`: the starter config.json, --bundle, --rootless.

load helpers

function setup() {
	setup_busybox
	SPECDIR="$COVE_TESTDIR/spec"
	mkdir -p "$SPECDIR"
	cd "$SPECDIR" || return 1
}

@test "spec writes config.json in the cwd" {
	cove -0 spec
	[ -z "$output" ]
	[ -f config.json ]
	jq -e . config.json >/dev/null
}

@test "spec: the starter config" {
	cove -0 spec
	local c
	c=$(cat config.json)
	[ "$(jq -c .process.args <<<"$c")" = '["sh"]' ]
	[ "$(jq -r .process.terminal <<<"$c")" = true ]
	[ "$(jq -r .process.cwd <<<"$c")" = / ]
	[ "$(jq -c .process.user <<<"$c")" = '{"uid":0,"gid":0}' ]
	[ "$(jq -r .root.path <<<"$c")" = rootfs ]
	[ "$(jq -r .root.readonly <<<"$c")" = true ]
	[ "$(jq -r .hostname <<<"$c")" = runc ]
	[ "$(jq -c '[.linux.namespaces[].type]' <<<"$c")" = '["pid","network","ipc","uts","mount"]' ]
	[ "$(jq -c '[.mounts[].destination]' <<<"$c")" = \
		'["/proc","/dev","/dev/pts","/dev/shm","/dev/mqueue","/sys","/sys/fs/cgroup"]' ]
	[ "$(jq -c .process.capabilities.bounding <<<"$c")" = \
		'["CAP_AUDIT_WRITE","CAP_KILL","CAP_NET_BIND_SERVICE"]' ]
	[ "$(jq -c .process.rlimits <<<"$c")" = '[{"type":"RLIMIT_NOFILE","hard":1024,"soft":1024}]' ]
	[ "$(jq -r .process.noNewPrivileges <<<"$c")" = true ]
	[ "$(jq -c .linux.resources.devices <<<"$c")" = '[{"allow":false,"access":"rwm"}]' ]
	[ "$(jq -r '.linux.maskedPaths | length' <<<"$c")" -gt 5 ]
	[ "$(jq -r '.linux.readonlyPaths | length' <<<"$c")" -gt 3 ]
}

@test "spec is identical to runc's (same JSON)" {
	requires ref_runc
	cove -0 spec
	(cd "$COVE_TESTDIR" && "$REF_RUNC" spec --bundle "$COVE_TESTDIR")
	diff -u <(jq -S . "$COVE_TESTDIR/config.json") <(jq -S . config.json)
}

@test "spec is identical to runc's (same bytes: tab indent, key order, no final newline)" {
	requires ref_runc
	cove -0 spec
	"$REF_RUNC" spec --bundle "$COVE_TESTDIR"
	cmp "$COVE_TESTDIR/config.json" config.json
}

@test "spec --rootless is identical to runc's" {
	requires ref_runc
	cove -0 spec --rootless
	"$REF_RUNC" spec --rootless --bundle "$COVE_TESTDIR"
	diff -u <(jq -S . "$COVE_TESTDIR/config.json") <(jq -S . config.json)
}

@test "spec --rootless: user namespace mapping the current ids, no network ns" {
	cove -0 spec --rootless
	local c
	c=$(cat config.json)
	[ "$(jq -c '[.linux.namespaces[].type]' <<<"$c")" = '["pid","ipc","uts","mount","user"]' ]
	[ "$(jq -c .linux.uidMappings <<<"$c")" = "[{\"containerID\":0,\"hostID\":$(id -u),\"size\":1}]" ]
	[ "$(jq -c .linux.gidMappings <<<"$c")" = "[{\"containerID\":0,\"hostID\":$(id -g),\"size\":1}]" ]
	[ "$(jq -r '.linux.resources // "none"' <<<"$c")" = none ]
	[ "$(jq -c '.mounts[] | select(.destination == "/sys") | [.type, .source]' <<<"$c")" = '["none","/sys"]' ]
}

@test "spec --bundle DIR writes DIR/config.json" {
	mkdir other
	cove -0 spec --bundle other
	[ -f other/config.json ]
	[ ! -e config.json ]
	cove -0 spec -b "$SPECDIR"
	[ -f config.json ]
}

@test "spec refuses to overwrite config.json" {
	echo '{"keep": "me"}' >config.json
	cove -1 spec
	[[ "$output" == *config.json* ]]
	[ "$(jq -r .keep config.json)" = me ]
}

@test "spec --bundle to a missing directory fails" {
	cove -1 spec --bundle "$COVE_TESTDIR/no-such-dir"
	[[ "$output" == *no-such-dir* ]]
}

@test "spec output passes the runtime's own validation" {
	# The starter config runs as is on a busybox rootfs (terminal off).
	cd "$BUNDLE"
	rm config.json
	cove -0 spec
	update_config '.process.terminal = false | .process.args = ["true"]'
	set_cgroups_path
	cove -0 run "$CT"
}
