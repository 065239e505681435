#!/usr/bin/env bats
# `kill`: signal names and numbers, the default signal, --all.

load helpers

# A pid 1 that exits when it gets SIG (pid 1 ignores signals it has no
# handler for, even SIGTERM).
function trap_init() {
	update_config '.process.args = ["sh", "-c", "trap \"exit 0\" '"$1"'; while true; do sleep 0.1; done"]'
}

@test "kill KILL" {
	cove -0 run -d "$CT"
	cove -0 kill "$CT" KILL
	wait_for_container 50 0.1 "$CT" stopped
}

@test "kill SIGKILL" {
	cove -0 run -d "$CT"
	cove -0 kill "$CT" SIGKILL
	wait_for_container 50 0.1 "$CT" stopped
}

@test "kill 9" {
	cove -0 run -d "$CT"
	cove -0 kill "$CT" 9
	wait_for_container 50 0.1 "$CT" stopped
}

@test "kill: lowercase signal names" {
	cove -0 run -d "$CT"
	cove -0 kill "$CT" sigkill
	wait_for_container 50 0.1 "$CT" stopped
}

@test "kill: default signal is SIGTERM" {
	trap_init TERM
	cove -0 run -d "$CT"
	# Give sh time to install its trap.
	sleep 0.3
	cove -0 kill "$CT"
	wait_for_container 50 0.1 "$CT" stopped
}

@test "kill USR1, SIGUSR1 and 10 reach the init's handler" {
	local sig i=0
	for sig in USR1 SIGUSR1 10; do
		i=$((i + 1))
		trap_init USR1
		set_cgroups_path "$i"
		cove -0 run -d "$CT-$i"
		sleep 0.3
		testcontainer "$CT-$i" running
		cove -0 kill "$CT-$i" "$sig"
		wait_for_container 50 0.1 "$CT-$i" stopped
	done
}

@test "kill: a signal without handler does not stop pid 1" {
	cove -0 run -d "$CT"
	cove -0 kill "$CT" TERM
	sleep 0.3
	testcontainer "$CT" running
}

@test "kill 0 checks that the process exists" {
	cove -0 run -d "$CT"
	cove -0 kill "$CT" 0
	testcontainer "$CT" running
}

@test "kill: unknown signal fails" {
	cove -0 run -d "$CT"
	cove -1 kill "$CT" NOSUCHSIG
	[[ "$output" == *NOSUCHSIG* ]]
	cove ! kill "$CT" 99999
	testcontainer "$CT" running
}

@test "kill a stopped container fails" {
	update_config '.process.args = ["true"]'
	cove -0 run -d "$CT"
	wait_for_container 50 0.1 "$CT" stopped
	cove -1 kill "$CT" KILL
	[[ "$output" == *"not running"* ]]
}

@test "kill a missing container fails" {
	cove -1 kill nonexistent KILL
	[[ "$output" == *"does not exist"* ]]
}

@test "kill a created container" {
	cove -0 create "$CT"
	cove -0 kill "$CT" KILL
	wait_for_container 50 0.1 "$CT" stopped
}

@test "kill --all signals every process of the container" {
	cove -0 run -d "$CT"
	cove -0 exec -d --pid-file "$COVE_TESTDIR/a.pid" "$CT" sleep 100
	cove -0 exec -d --pid-file "$COVE_TESTDIR/b.pid" "$CT" sleep 100
	local a b
	a=$(cat "$COVE_TESTDIR/a.pid")
	b=$(cat "$COVE_TESTDIR/b.pid")

	# TERM without --all: only the init gets it (and ignores it).
	cove -0 kill "$CT" TERM
	sleep 0.2
	__pid_alive "$a"
	__pid_alive "$b"

	# With --all, the exec'd processes die; pid 1 has no handler and lives.
	cove -0 kill --all "$CT" TERM
	retry 50 0.1 eval '! __pid_alive '"$a"
	retry 50 0.1 eval '! __pid_alive '"$b"
	testcontainer "$CT" running

	cove -0 kill -a "$CT" KILL
	wait_for_container 50 0.1 "$CT" stopped
}

@test "kill --all on a stopped container succeeds" {
	update_config '.process.args = ["true"]'
	cove -0 run -d "$CT"
	wait_for_container 50 0.1 "$CT" stopped
	cove -0 kill --all "$CT" KILL
}
