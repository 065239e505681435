#!/usr/bin/env bats
# Bad configs and bad arguments: non-zero exit, one line on stderr that
# names the field or cause, nothing on stdout, and nothing left behind (no
# state dir, cgroup dir, process or mount).

load helpers

# expect_create_error WORD...: `create` fails, and its stderr names every
# WORD (any of the |-separated alternatives in each).
function expect_create_error() {
	cove --separate-stderr create "$CT"
	[ "$status" -ne 0 ] || fail "create succeeded" || return 1
	[ -z "$output" ] || fail "stdout not empty: $output" || return 1
	[ "${#stderr_lines[@]}" -eq 1 ] || fail "want one line on stderr, got ${#stderr_lines[@]}" || return 1
	local w alt ok
	for w in "$@"; do
		ok=""
		IFS='|' read -r -a alt <<<"$w"
		for a in "${alt[@]}"; do
			[[ "$stderr" == *"$a"* ]] && ok=1
		done
		[ -n "$ok" ] || fail "stderr does not name '$w': $stderr" || return 1
	done
	assert_nothing_left
	cove -1 state "$CT"
}

@test "errors: malformed JSON" {
	echo '{"ociVersion": "1.0.2", "process": {' >config.json
	expect_create_error "config.json|JSON|json|EOF|parse"
}

@test "errors: empty config.json" {
	: >config.json
	expect_create_error "config.json|JSON|json|EOF|parse"
}

@test "errors: config.json is not an object" {
	echo '["not", "an", "object"]' >config.json
	expect_create_error "config.json|JSON|json|object|array"
}

@test "errors: wrong type, process.args is a string" {
	update_config '.process.args = "sh"'
	expect_create_error args
}

@test "errors: wrong type, process.user.uid is a string" {
	update_config '.process.user.uid = "0"'
	expect_create_error uid
}

@test "errors: wrong type, rlimit soft is a string" {
	update_config '.process.rlimits[0].soft = "a"'
	expect_create_error soft
}

@test "errors: negative uid" {
	update_config '.process.user.uid = -1'
	expect_create_error uid
}

@test "errors: no process" {
	update_config 'del(.process)'
	expect_create_error process
}

@test "errors: no root" {
	update_config 'del(.root)'
	expect_create_error root
}

@test "errors: unknown namespace" {
	update_config '.linux.namespaces += [{"type": "bogus"}]'
	expect_create_error bogus
}

@test "errors: duplicate namespace" {
	update_config '.linux.namespaces += [{"type": "pid"}]'
	cove ! create "$CT"
	assert_nothing_left
}

@test "errors: relative mount destination" {
	skip_if_runc "runc 1.1 only warns about relative mount destinations"
	update_config '.mounts += [{"destination": "relative/dest", "type": "tmpfs", "source": "tmpfs"}]'
	expect_create_error relative/dest
}

@test "errors: unknown filesystem type" {
	update_config '.mounts += [{"destination": "/bogus-mnt", "type": "bogusfs", "source": "none"}]'
	expect_create_error "/bogus-mnt|bogusfs"
}

@test "errors: missing rootfs" {
	update_config '.root.path = "no-such-rootfs"'
	expect_create_error no-such-rootfs
}

@test "errors: rootfs is a file" {
	touch not-a-dir
	update_config '.root.path = "not-a-dir"'
	cove ! create "$CT"
	assert_nothing_left
}

@test "errors: bad device type" {
	update_config '.linux.devices = [{"path": "/dev/x", "type": "q", "major": 1, "minor": 3}]'
	expect_create_error "type|\"q\"|'q'"
}

@test "errors: bad --bundle" {
	cove --separate-stderr create --bundle "$COVE_TESTDIR/no-such-bundle" "$CT"
	[ "$status" -ne 0 ]
	[[ "$stderr" == *no-such-bundle* ]]
	[ "${#stderr_lines[@]}" -eq 1 ]
	assert_nothing_left
}

@test "errors: bundle without config.json" {
	mkdir "$COVE_TESTDIR/empty-bundle"
	cove --separate-stderr create --bundle "$COVE_TESTDIR/empty-bundle" "$CT"
	[ "$status" -ne 0 ]
	[[ "$stderr" == *config.json* ]]
	[ "${#stderr_lines[@]}" -eq 1 ]
	assert_nothing_left
}

@test "errors: hook timeout 0 is invalid" {
	skip_if_runc "runc 1.1 accepts timeout 0, then races the hook against it"
	update_config '.hooks.createRuntime = [{"path": "/bin/true", "timeout": 0}]'
	cove ! create "$CT"
	[[ "$output" == *timeout* ]]
	assert_nothing_left
}

@test "errors: a failure inside the container is reported, nothing left" {
	# The mount fails in the child: its error crosses to the parent.
	update_config '.mounts += [{"destination": "/data", "type": "bind", "source": "'"$COVE_TESTDIR/no-such-src"'", "options": ["bind"]}]'
	expect_create_error "no-such-src|/data"
}

@test "errors: run of a missing binary leaves nothing" {
	update_config '.process.args = ["/no/such/binary"]'
	cove ! run "$CT"
	[[ "$output" == */no/such/binary* ]]
	assert_nothing_left
}

@test "errors: unknown keys are ignored" {
	update_config '.["x-unknown"] = {"a": 1} | .process["x-also"] = true | .linux["x-more"] = [1]'
	cove -0 create "$CT"
}

@test "errors: id already in use does not disturb the first container" {
	cove -0 create "$CT"
	local pid
	pid=$(container_pid "$CT")
	set_cgroups_path other
	cove ! create "$CT"
	testcontainer "$CT" created
	[ "$(container_pid "$CT")" = "$pid" ]
	[ ! -d "$(cgroup_dir pids)" ]
}
