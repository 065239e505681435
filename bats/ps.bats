#!/usr/bin/env bats
# `ps`: runs the host's ps and keeps the container's processes; json is the
# list of pids.

load helpers

function setup() {
	setup_busybox
	cove -0 run -d "$CT"
	testcontainer "$CT" running
}

@test "ps: table with the host's ps -ef columns" {
	cove -0 ps "$CT"
	[[ "${lines[0]}" =~ UID\ +PID\ +PPID\ +C\ +STIME\ +TTY\ +TIME\ +CMD ]]
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[1]}" == root*" $(container_pid "$CT") "*"sleep 100" ]]
}

@test "ps -f json: array of host pids" {
	cove -0 ps -f json "$CT"
	[ "$output" = "[$(container_pid "$CT")]" ]
	cove -0 ps --format json "$CT"
	[ "$output" = "[$(container_pid "$CT")]" ]
}

@test "ps: exec'd processes are listed" {
	cove -0 exec -d --pid-file "$COVE_TESTDIR/exec.pid" "$CT" sleep 50
	local init exec
	init=$(container_pid "$CT")
	exec=$(cat "$COVE_TESTDIR/exec.pid")
	cove -0 ps -f json "$CT"
	[ "$(jq -c 'sort' <<<"$output")" = "$(jq -nc "[$init, $exec] | sort")" ]
	cove -0 ps "$CT"
	[ "${#lines[@]}" -eq 3 ]
	[[ "$output" == *"sleep 50"* ]]
}

@test "ps: extra options go to ps (-e -x)" {
	cove -0 ps "$CT" -e -x
	[[ "${lines[0]}" =~ \ +PID\ +TTY\ +STAT\ +TIME\ +COMMAND ]]
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[1]}" == *"sleep 100"* ]]
}

@test "ps: extra options go to ps (-ef, the default)" {
	cove -0 ps "$CT" -ef
	[[ "${lines[0]}" =~ UID\ +PID\ +PPID\ +C\ +STIME\ +TTY\ +TIME\ +CMD ]]
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[1]}" == *"sleep 100" ]]
}

@test "ps: extra options go to ps (-o pid,comm)" {
	cove -0 ps "$CT" -o pid,comm
	[[ "${lines[0]}" =~ ^\ *PID\ +COMMAND$ ]]
	[[ "${lines[1]}" =~ ^\ *$(container_pid "$CT")\ +sleep$ ]]
}

@test "ps: options without a PID column fail" {
	cove -1 ps "$CT" -o comm
	[[ "$output" == *PID* ]]
}

@test "ps of a created container shows its init" {
	set_cgroups_path created
	cove -0 create "$CT-2"
	cove -0 ps -f json "$CT-2"
	[ "$output" = "[$(container_pid "$CT-2")]" ]
}

@test "ps after the container stopped: header only" {
	cove -0 kill "$CT" KILL
	wait_for_container 50 0.1 "$CT" stopped
	cove -0 ps "$CT"
	[ "${#lines[@]}" -eq 1 ]
	cove -0 ps -f json "$CT"
	[ "$output" = null ] || [ "$output" = "[]" ]
}

@test "ps of a missing container fails" {
	cove -1 ps nonexistent
	[[ "$output" == *"does not exist"* ]]
}

@test "ps --format with a bad value fails" {
	cove -1 ps -f xml "$CT"
}
