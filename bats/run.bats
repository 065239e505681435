#!/usr/bin/env bats
# `run`: foreground exit codes, stdio, -d, --keep, --pid-file.

load helpers

@test "run: exit code 0, and the container is gone afterwards" {
	update_config '.process.args = ["true"]'
	cove -0 run "$CT"
	cove -1 state "$CT"
	[ ! -e "$COVE_ROOT/$CT" ]
}

@test "run: a process that exits at once, ten times in a row" {
	# Catches races between start and the process exiting.
	update_config '.process.args = ["sh", "-c", "exit 3"]'
	local i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		cove -3 run "$CT"
	done
}

@test "run: exit code of sh -c 'exit 42'" {
	update_config '.process.args = ["sh", "-c", "exit 42"]'
	cove -42 run "$CT"
	cove -1 state "$CT"
}

@test "run: exit code 1 of false" {
	update_config '.process.args = ["false"]'
	cove -1 run "$CT"
}

@test "run: stdout and stderr of the process are the runtime's" {
	update_config '.process.args = ["sh", "-c", "echo to-stdout; echo to-stderr >&2"]'
	cove -0 --separate-stderr run "$CT"
	[ "$output" = to-stdout ]
	[ "$stderr" = to-stderr ]
}

@test "run: stdin of the process is the runtime's" {
	update_config '.process.args = ["sh", "-c", "read line; echo got:$line"]'
	local out
	out=$(echo hello | __cove run "$CT")
	[ "$out" = got:hello ]
}

@test "run: killed by SIGKILL exits 128+9" {
	(
		rc=0
		__cove run "$CT" </dev/null >"$COVE_TESTDIR/run.out" 2>&1 || rc=$?
		echo "$rc" >"$COVE_TESTDIR/run.rc"
	) &
	wait_for_container 50 0.1 "$CT" running
	cove -0 kill "$CT" KILL
	wait_for_file 100 "$COVE_TESTDIR/run.rc"
	[ "$(cat "$COVE_TESTDIR/run.rc")" = 137 ]
}

@test "run: process killing itself with SIGTERM exits 128+15" {
	# Without a pid namespace sh is not pid 1, so its own SIGTERM kills it.
	update_config '.linux.namespaces |= map(select(.type != "pid"))
		| .process.args = ["sh", "-c", "kill -TERM $$; sleep 5"]'
	cove -143 run "$CT"
}

@test "run: process killing itself with SIGHUP exits 128+1" {
	update_config '.linux.namespaces |= map(select(.type != "pid"))
		| .process.args = ["sh", "-c", "kill -HUP $$; sleep 5"]'
	cove -129 run "$CT"
}

@test "run: missing executable exits 127 and names it" {
	update_config '.process.args = ["no-such-program", "arg"]'
	cove ! run "$CT"
	[[ "$output" == *no-such-program* ]]
	# runc 1.1 exits 1 here; cove follows the shell's convention.
	is_runc || [ "$status" -eq 127 ]
	cove -1 state "$CT"
}

@test "run: missing absolute executable exits 127 and names it" {
	update_config '.process.args = ["/bin/nope"]'
	cove ! run "$CT"
	[[ "$output" == */bin/nope* ]]
	is_runc || [ "$status" -eq 127 ]
}

@test "run: non-executable file exits 126 and names it" {
	update_config '.process.args = ["/etc/passwd"]'
	cove ! run "$CT"
	[[ "$output" == */etc/passwd* ]]
	[[ "$output" == *"permission denied"* || "$output" == *EACCES* || "$output" == *"ermission"* ]]
	is_runc || [ "$status" -eq 126 ]
}

@test "run: a directory as executable exits 126" {
	update_config '.process.args = ["/etc"]'
	cove ! run "$CT"
	[[ "$output" == */etc* ]]
	is_runc || [ "$status" -eq 126 ]
}

@test "run: executable is looked up in the container's PATH" {
	update_config '.process.args = ["mytool"] | .process.env = ["PATH=/opt/tools"]'
	mkdir -p rootfs/opt/tools
	printf '#!/bin/sh\necho mytool ran\n' >rootfs/opt/tools/mytool
	chmod +x rootfs/opt/tools/mytool
	cove -0 run "$CT"
	[ "$output" = "mytool ran" ]
}

@test "run -d: detaches, the container runs" {
	cove -0 run -d "$CT"
	testcontainer "$CT" running
	local pid
	pid=$(container_pid "$CT")
	[ "$(tr '\0' ' ' <"/proc/$pid/cmdline")" = "sleep 100 " ]
}

@test "run --detach: exit status of the process does not matter" {
	update_config '.process.args = ["sh", "-c", "exit 3"]'
	cove -0 run --detach "$CT"
	wait_for_container 50 0.1 "$CT" stopped
}

@test "run -d: output goes to the runtime's stdio" {
	update_config '.process.args = ["sh", "-c", "echo detached-out"]'
	cove -0 run -d "$CT"
	retry 50 0.1 grep -q detached-out "$CONTAINER_OUT"
}

@test "run -d --pid-file" {
	cove -0 run -d --pid-file "$COVE_TESTDIR/ct.pid" "$CT"
	[ "$(cat "$COVE_TESTDIR/ct.pid")" = "$(container_pid "$CT")" ]
}

@test "run --pid-file with a relative path is relative to the cwd" {
	cove -0 run -d --pid-file ct.pid "$CT"
	[ "$(cat "$BUNDLE/ct.pid")" = "$(container_pid "$CT")" ]
}

@test "run --keep: the stopped container stays until deleted" {
	update_config '.process.args = ["sh", "-c", "exit 7"]'
	cove -7 run --keep "$CT"
	testcontainer "$CT" stopped
	cove -0 delete "$CT"
	cove -1 state "$CT"
}

@test "run with --bundle" {
	update_config '.process.args = ["echo", "from-bundle"]'
	cd /
	cove -0 run --bundle "$BUNDLE" "$CT"
	[ "$output" = from-bundle ]
}

@test "run with a missing id is a usage error" {
	cove ! run
	[[ "$output" == *"container id"* || "$output" == *"container-id"* || "$output" == *"requires"* || "$output" == *[Uu]sage* ]]
}
