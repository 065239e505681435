#!/usr/bin/env bats
# `exec`: args, --process, -e, --cwd, -u, -g, -d, --pid-file, exit codes,
# and that the new process joins the container's namespaces.

load helpers

function setup() {
	setup_busybox
	update_config '.hostname = "exec-host"'
	mkdir -p rootfs/work
	cove -0 run -d "$CT"
	testcontainer "$CT" running
}

@test "exec: args, output and exit code 0" {
	cove -0 exec "$CT" echo hello world
	[ "$output" = "hello world" ]
}

@test "exec: exit code of the process" {
	cove -5 exec "$CT" sh -c 'exit 5'
	cove -1 exec "$CT" false
	testcontainer "$CT" running
}

@test "exec: options after the id belong to the process" {
	cove -0 exec "$CT" ls -d /work
	[ "$output" = /work ]
}

@test "exec: killed by a signal exits 128+N" {
	cove -137 exec "$CT" sh -c 'kill -KILL $$'
	cove -143 exec "$CT" sh -c 'kill -TERM $$'
}

@test "exec: stdout and stderr are separate" {
	cove -0 --separate-stderr exec "$CT" sh -c 'echo out; echo err >&2'
	[ "$output" = out ]
	[ "$stderr" = err ]
}

@test "exec: stdin is passed" {
	local out
	out=$(echo piped | __cove exec "$CT" cat)
	[ "$out" = piped ]
}

@test "exec: missing executable fails and names it" {
	cove ! exec "$CT" no-such-cmd
	[[ "$output" == *no-such-cmd* ]]
	# runc: 255 for any failure to start the process.
	if is_runc; then
		[ "$status" -eq 255 ]
	else
		[ "$status" -eq 127 ] || [ "$status" -eq 255 ]
	fi
	testcontainer "$CT" running
}

@test "exec: non-executable file fails and names it" {
	cove ! exec "$CT" /etc/group
	[[ "$output" == */etc/group* ]]
	if is_runc; then
		[ "$status" -eq 255 ]
	else
		[ "$status" -eq 126 ] || [ "$status" -eq 255 ]
	fi
}

@test "exec -e sets and overrides env" {
	cove -0 exec -e FOO=bar -e HOME=/work "$CT" sh -c 'echo $FOO $HOME; echo $PATH'
	[ "${lines[0]}" = "bar /work" ]
	# The config's env is kept.
	[[ "${lines[1]}" == */bin* ]]
}

@test "exec: env comes from the config" {
	cove -0 exec "$CT" env
	[[ "$output" == *"TERM=xterm"* ]]
	[[ "$output" == *"PATH="* ]]
}

@test "exec --cwd" {
	cove -0 exec --cwd /work "$CT" pwd
	[ "$output" = /work ]
}

@test "exec --cwd to a missing directory fails and names it" {
	cove ! exec --cwd /no-such-dir "$CT" pwd
	[[ "$output" == */no-such-dir* ]]
}

@test "exec -u uid:gid" {
	cove -0 exec -u 1000:1000 "$CT" id
	[[ "$output" == "uid=1000(bats) gid=1000(bats)"* ]]
	cove -0 exec --user 65534 "$CT" id -u
	[ "$output" = 65534 ]
}

@test "exec -g adds supplementary groups" {
	cove -0 exec -u 1000:1000 -g 100 -g 2000 "$CT" id -G
	[ "$output" = "1000 100 2000" ]
}

@test "exec --process FILE" {
	cat >"$COVE_TESTDIR/process.json" <<-'EOF'
		{
			"terminal": false,
			"user": {"uid": 1000, "gid": 100},
			"args": ["sh", "-c", "echo $WHO in $(pwd) as $(id -u):$(id -g); exit 3"],
			"env": ["PATH=/bin", "WHO=proc-json"],
			"cwd": "/work"
		}
	EOF
	cove -3 exec --process "$COVE_TESTDIR/process.json" "$CT"
	[ "$output" = "proc-json in /work as 1000:100" ]
}

@test "exec --process with a malformed file fails" {
	echo '{"args": ["true"' >"$COVE_TESTDIR/bad.json"
	cove ! exec --process "$COVE_TESTDIR/bad.json" "$CT"
	cove ! exec --process "$COVE_TESTDIR/missing.json" "$CT"
}

@test "exec -d and --pid-file" {
	cove -0 exec -d --pid-file "$COVE_TESTDIR/exec.pid" "$CT" sleep 30
	local pid
	pid=$(cat "$COVE_TESTDIR/exec.pid")
	__pid_alive "$pid"
	[ "$(tr '\0' ' ' <"/proc/$pid/cmdline")" = "sleep 30 " ]
	# Same namespaces and cgroup as the init.
	local init
	init=$(container_pid "$CT")
	[ "$(readlink "/proc/$pid/ns/pid")" = "$(readlink "/proc/$init/ns/pid")" ]
	grep -q ":pids:$CGROUPS_PATH\$" "/proc/$pid/cgroup"
}

@test "exec joins the container's namespaces" {
	local init ns
	init=$(container_pid "$CT")
	for ns in pid mnt net ipc uts; do
		cove -0 exec "$CT" readlink "/proc/self/ns/$ns"
		[ "$output" = "$(readlink "/proc/$init/ns/$ns")" ]
	done
}

@test "exec: same hostname" {
	cove -0 exec "$CT" hostname
	[ "$output" = exec-host ]
}

@test "exec: same pid namespace, the init is pid 1" {
	cove -0 exec "$CT" ps -o pid,comm
	[[ "$output" == *"1 sleep"* ]]
	cove -0 exec "$CT" sh -c 'echo $$'
	[ "$output" -gt 1 ]
}

@test "exec: same mounts as the init" {
	local init
	init=$(container_pid "$CT")
	cove -0 exec "$CT" cat /proc/self/mountinfo
	local mine theirs
	mine=$(awk '{print $5}' <<<"$output" | sort)
	theirs=$(awk '{print $5}' "/proc/$init/mountinfo" | sort)
	[ "$mine" = "$theirs" ]
	# And the rootfs is the container's.
	cove -0 exec "$CT" ls /work
}

@test "exec: the process is in the container's cgroup" {
	cove -0 exec "$CT" cat /proc/self/cgroup
	[[ "$output" == *":pids:$CGROUPS_PATH"* || "$output" == *":pids:/"* ]]
}

@test "exec into a created container works" {
	set_cgroups_path second
	cove -0 create "$CT-2"
	cove -0 exec "$CT-2" echo works
	[ "$output" = works ]
	testcontainer "$CT-2" created
}

@test "exec into a stopped container fails" {
	cove -0 kill "$CT" KILL
	wait_for_container 50 0.1 "$CT" stopped
	cove ! exec "$CT" true
	[[ "$output" == *stopped* ]]
}

@test "exec into a missing container fails" {
	cove ! exec nonexistent true
	[[ "$output" == *"does not exist"* ]]
}

@test "exec without a command fails" {
	cove ! exec "$CT"
}
