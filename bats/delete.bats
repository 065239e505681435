#!/usr/bin/env bats
# `delete`: stopped, --force on running and created, twice, and that all
# resources go away.

load helpers

@test "delete a stopped container" {
	update_config '.process.args = ["true"]'
	cove -0 run -d "$CT"
	wait_for_container 50 0.1 "$CT" stopped
	cove -0 delete "$CT"
	cove -1 state "$CT"
	[ ! -e "$COVE_ROOT/$CT" ]
	[ ! -d "$(cgroup_dir pids)" ]
}

@test "delete a running container without --force fails" {
	cove -0 run -d "$CT"
	cove -1 delete "$CT"
	[[ "$output" == *running* ]]
	testcontainer "$CT" running
}

@test "delete --force a running container" {
	cove -0 run -d "$CT"
	local pid
	pid=$(container_pid "$CT")
	cove -0 delete --force "$CT"
	cove -1 state "$CT"
	retry 20 0.05 eval '! __pid_alive '"$pid"
	[ ! -e "$COVE_ROOT/$CT" ]
	local d
	for d in /sys/fs/cgroup/*"$CGROUPS_PATH"; do
		[ ! -d "$d" ] || fail "cgroup left: $d"
	done
}

@test "delete -f a created container" {
	cove -0 create "$CT"
	local pid
	pid=$(container_pid "$CT")
	cove -0 delete -f "$CT"
	cove -1 state "$CT"
	retry 20 0.05 eval '! __pid_alive '"$pid"
}

@test "delete --force kills exec'd processes too" {
	cove -0 run -d "$CT"
	cove -0 exec -d --pid-file "$COVE_TESTDIR/exec.pid" "$CT" sleep 100
	local pid
	pid=$(cat "$COVE_TESTDIR/exec.pid")
	cove -0 delete --force "$CT"
	retry 20 0.05 eval '! __pid_alive '"$pid"
	[ ! -d "$(cgroup_dir pids)" ]
}

@test "delete --force without a pid namespace kills every process" {
	# Without its own pid namespace, killing the init does not kill the
	# others: the runtime must kill the whole cgroup.
	update_config '.linux.namespaces |= map(select(.type != "pid"))'
	cove -0 run -d "$CT"
	cove -0 exec -d --pid-file "$COVE_TESTDIR/exec.pid" "$CT" sleep 100
	local pid
	pid=$(cat "$COVE_TESTDIR/exec.pid")
	cove -0 delete --force "$CT"
	retry 20 0.05 eval '! __pid_alive '"$pid"
	[ ! -d "$(cgroup_dir pids)" ]
}

@test "delete twice: the second fails" {
	update_config '.process.args = ["true"]'
	cove -0 run -d "$CT"
	wait_for_container 50 0.1 "$CT" stopped
	cove -0 delete "$CT"
	cove -1 delete "$CT"
	[[ "$output" == *"does not exist"* ]]
}

@test "delete --force of a missing container succeeds" {
	cove -0 delete --force nonexistent
}

@test "delete needs exactly one id" {
	cove -1 delete
	cove -1 delete a b
}

@test "delete runs while the container is being waited on by run" {
	(
		rc=0
		__cove run "$CT" </dev/null >"$COVE_TESTDIR/run.out" 2>&1 || rc=$?
		echo "$rc" >"$COVE_TESTDIR/run.rc"
	) &
	wait_for_container 50 0.1 "$CT" running
	cove -0 delete --force "$CT"
	wait_for_file 100 "$COVE_TESTDIR/run.rc"
	[ "$(cat "$COVE_TESTDIR/run.rc")" = 137 ]
}
