#!/usr/bin/env bats
# create / start / state / delete, and the state JSON.

load helpers

@test "create, start, kill, delete: status goes created -> running -> stopped" {
	cove -0 create "$CT"
	testcontainer "$CT" created

	cove -0 start "$CT"
	testcontainer "$CT" running

	cove -0 kill "$CT" KILL
	wait_for_container 50 0.1 "$CT" stopped

	cove -0 delete "$CT"
	cove ! state "$CT"
	[ ! -e "$COVE_ROOT/$CT" ]
}

@test "state JSON has the OCI fields" {
	cove -0 create "$CT"
	cove -0 state "$CT"
	local s=$output

	# Exactly the fields runc prints (annotations only when set). Key order
	# differs between runtimes and does not matter to JSON clients.
	[ "$(jq -r 'keys | join(" ")' <<<"$s")" = \
		"bundle created id ociVersion owner pid rootfs status" ]
	[ "$(jq -r .id <<<"$s")" = "$CT" ]
	[ "$(jq -r .status <<<"$s")" = created ]
	[ "$(jq -r '.pid | type' <<<"$s")" = number ]
	[ "$(jq -r .bundle <<<"$s")" = "$BUNDLE" ]
	[ "$(jq -r .rootfs <<<"$s")" = "$BUNDLE/rootfs" ]
	[ "$(jq -r .owner <<<"$s")" = "" ]
	[[ "$(jq -r .ociVersion <<<"$s")" =~ ^1\.[0-9]+\.[0-9]+ ]]
	# RFC 3339 with nanoseconds, in UTC.
	[[ "$(jq -r .created <<<"$s")" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z$ ]]

	# The pid is a live process, waiting for start.
	local pid
	pid=$(jq -r .pid <<<"$s")
	[ "$pid" -gt 0 ]
	[ -d "/proc/$pid" ]
}

@test "state JSON: annotations from config.json" {
	update_config '.annotations = {"org.example.key": "value", "b": "2"}'
	cove -0 create "$CT"
	cove -0 state "$CT"
	[ "$(jq -c .annotations <<<"$output")" = '{"b":"2","org.example.key":"value"}' ]
}

@test "state of a stopped container has pid 0" {
	update_config '.process.args = ["true"]'
	cove -0 create "$CT"
	cove -0 start "$CT"
	wait_for_container 50 0.1 "$CT" stopped
	cove -0 state "$CT"
	[ "$(jq -r .pid <<<"$output")" = 0 ]
	[ "$(jq -r .status <<<"$output")" = stopped ]
}

@test "created container has not run the process yet" {
	update_config '.process.args = ["touch", "/started"] | .root.readonly = false'
	cove -0 create "$CT"
	[ ! -e rootfs/started ]
	cove -0 start "$CT"
	retry 50 0.1 test -e rootfs/started
}

@test "create --bundle from another directory" {
	cd /
	cove -0 create --bundle "$BUNDLE" "$CT"
	cove -0 state "$CT"
	[ "$(jq -r .bundle <<<"$output")" = "$BUNDLE" ]
}

@test "create with a relative --bundle records the absolute path" {
	cd "$COVE_TESTDIR"
	cove -0 create --bundle bundle "$CT"
	cove -0 state "$CT"
	[ "$(jq -r .bundle <<<"$output")" = "$BUNDLE" ]
}

@test "create --pid-file writes the init pid" {
	cove -0 create --pid-file "$COVE_TESTDIR/pid" "$CT"
	[ -s "$COVE_TESTDIR/pid" ]
	# No trailing newline, like runc.
	[ "$(wc -l <"$COVE_TESTDIR/pid")" -eq 0 ]
	[ "$(cat "$COVE_TESTDIR/pid")" = "$(container_pid "$CT")" ]
}

@test "create twice with the same id fails" {
	cove -0 create "$CT"
	cove ! create "$CT"
	[[ "$output" == *"$CT"* || "$output" == *exist* ]]
	testcontainer "$CT" created
}

@test "start twice fails" {
	cove -0 create "$CT"
	cove -0 start "$CT"
	cove ! start "$CT"
	testcontainer "$CT" running
}

@test "start, state, delete of a missing container fail" {
	cove -1 start nonexistent
	[[ "$output" == *"does not exist"* ]]
	cove -1 state nonexistent
	[[ "$output" == *"does not exist"* ]]
	cove -1 delete nonexistent
	[[ "$output" == *"does not exist"* ]]
}

@test "invalid container ids are refused" {
	cove ! create "../escape"
	cove ! create "a/b"
	cove ! create ""
	[ ! -e "$COVE_TESTDIR/escape" ]
	[ -z "$(ls -A "$COVE_ROOT")" ]
}

@test "delete of a created container (no --force) kills its init" {
	# runc deletes a created container without --force.
	cove -0 create "$CT"
	local pid
	pid=$(container_pid "$CT")
	cove -0 delete "$CT"
	retry 20 0.05 eval '! __pid_alive '"$pid"
	cove -1 state "$CT"
}

@test "the container runs in its cgroup" {
	cove -0 run -d "$CT"
	local pid
	pid=$(container_pid "$CT")
	grep -q ":pids:$CGROUPS_PATH\$" "/proc/$pid/cgroup"
	grep -qx "$pid" "$(cgroup_dir pids)/cgroup.procs"
	cove -0 delete --force "$CT"
	[ ! -d "$(cgroup_dir pids)" ]
	[ ! -d "$(cgroup_dir memory)" ]
}

@test "default cgroup (no cgroupsPath) is named after the id and removed" {
	update_config 'del(.linux.cgroupsPath)'
	cove -0 run -d "$CT"
	local pid
	pid=$(container_pid "$CT")
	grep -q ":pids:.*/$CT\$" "/proc/$pid/cgroup"
	cove -0 delete --force "$CT"
	[ -z "$(find /sys/fs/cgroup -maxdepth 6 -type d -name "$CT")" ]
}

@test "created container is in its own namespaces, runtime is not" {
	cove -0 create "$CT"
	local pid
	pid=$(container_pid "$CT")
	local ns
	for ns in pid mnt net ipc uts; do
		[ "$(readlink "/proc/$pid/ns/$ns")" != "$(readlink "/proc/self/ns/$ns")" ]
	done
}
