#!/usr/bin/env bats
# linux.resources and the cgroup commands: limits reach the container's cgroup at create,
# `update` (flags and -r) changes them and keeps them, `pause`/`resume` freeze and thaw,
# `events` reports stats and OOM kills, device rules confine mknod and open, and bad values
# fail before anything is made. Files are read on the host, under the test's cgroupsPath;
# the teardown checks that no cgroup of the test is left.

load helpers

function teardown() {
	# A backgrounded `events` of this test, if a test failed before reaping it.
	[ -n "$EVENTS_PID" ] && kill -9 "$EVENTS_PID" 2>/dev/null
	EVENTS_PID=""
	teardown_bundle
}

function is_v2() {
	[ "$(stat -f -c %t /sys/fs/cgroup)" = 63677270 ]
}

# cg_file V1_CONTROLLER V1_FILE V2_FILE: the container's control file on this host.
function cg_file() {
	if is_v2; then
		echo "/sys/fs/cgroup$CGROUPS_PATH/$3"
	else
		echo "/sys/fs/cgroup/$1$CGROUPS_PATH/$2"
	fi
}

# The value of a control file, or fail naming it.
function cg_read() {
	local f
	f=$(cg_file "$@")
	cat "$f" || fail "cannot read $f"
}

# The container's saved linux.resources field (runc keeps its own config shape).
function saved_resource() {
	if is_runc; then
		jq -r "$2" "$COVE_ROOT/$CT/state.json"
	else
		jq -r "$1" "$COVE_ROOT/$CT/state.json"
	fi
}

@test "memory and pids limits from linux.resources are in place when the process starts" {
	update_config '.linux.resources.memory = {"limit": 33554432, "reservation": 16777216}
		| .linux.resources.pids = {"limit": 42}'
	cove -0 run -d "$CT"
	[ "$(cg_read memory memory.limit_in_bytes memory.max)" = 33554432 ]
	[ "$(cg_read memory memory.soft_limit_in_bytes memory.low)" = 16777216 ]
	[ "$(cg_read pids pids.max pids.max)" = 42 ]
	# The init itself is in that cgroup.
	grep -qx "$(container_pid "$CT")" "$(cg_file memory cgroup.procs cgroup.procs)"
}

@test "cpu quota, period and shares reach the cpu controller" {
	update_config '.linux.resources.cpu = {"quota": 50000, "period": 100000, "shares": 512}'
	cove -0 run -d "$CT"
	if is_v2; then
		[ "$(cg_read cpu - cpu.max)" = "50000 100000" ]
	else
		[ "$(cg_read cpu cpu.cfs_quota_us -)" = 50000 ]
		[ "$(cg_read cpu cpu.cfs_period_us -)" = 100000 ]
		[ "$(cg_read cpu cpu.shares -)" = 512 ]
	fi
}

@test "pids limit stops a (bounded) fork loop" {
	update_config '.linux.resources.pids = {"limit": 10}'
	cove -0 run -d "$CT"
	# Gate: the loop below runs only once the limit is known to be in place.
	local max
	max=$(cg_read pids pids.max pids.max)
	[ "$max" = 10 ] || fail "pids.max is '$max', not 10: not starting the fork loop"
	# At most 40 children even if the limit did not hold; ash exits at the first failed fork.
	cove ! exec "$CT" sh -c 'i=0; while [ $i -lt 40 ]; do sleep 30 & i=$((i + 1)); done; echo all-forked'
	[[ "$output" != *all-forked* ]]
	[[ "$output" == *"can't fork"* ]] || [[ "$output" == *"Resource temporarily unavailable"* ]]
	local current
	current=$(cg_read pids pids.current pids.current)
	[ "$current" -le 10 ]
	# The limit is counted per cgroup: the init is still there.
	testcontainer "$CT" running
}

@test "a process over the memory limit is OOM-killed and events reports oom" {
	local limit=33554432
	update_config '.linux.resources.memory = {"limit": '"$limit"'}'
	# Without a memory+swap limit the hog would swap rather than be killed.
	if ! is_v2 && [ -e /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes ]; then
		update_config '.linux.resources.memory.swap = '"$limit"
	elif is_v2; then
		update_config '.linux.resources.memory.swap = '"$limit"
	fi
	cove -0 run -d "$CT"
	local out="$COVE_TESTDIR/events.out"
	__cove events --interval 100ms "$CT" >"$out" 2>"$COVE_TESTDIR/events.err" &
	EVENTS_PID=$!
	# events has read the OOM count once it has printed its first stats.
	retry 100 0.1 grep -q '"type":"stats"' "$out" || fail "no stats from events: $(cat "$COVE_TESTDIR/events.err")"
	# A string that doubles until the cgroup's limit stops it.
	cove ! exec "$CT" sh -c 'x=0123456789abcdef; while true; do x=$x$x; done'
	[ "$status" -eq 137 ]
	retry 100 0.1 grep -q '"type":"oom"' "$out" || fail "no oom event: $(cat "$out")"
	grep '"type":"oom"' "$out" | head -1 | jq -e --arg id "$CT" '.id == $id and (has("data") | not)'
	# The init survived; the container runs on.
	testcontainer "$CT" running
	# events exits 0 once the container is gone (cove: when it stops; runc: at delete).
	cove -0 kill "$CT" KILL
	wait_for_container 50 0.1 "$CT" stopped
	cove -0 delete "$CT"
	local rc=0
	wait "$EVENTS_PID" || rc=$?
	EVENTS_PID=""
	[ "$rc" -eq 0 ] || fail "events exited $rc: $(cat "$COVE_TESTDIR/events.err")"
	# Every line is one JSON event.
	jq -e -s 'all(.[]; .type == "stats" or .type == "oom")' "$out"
}

@test "events --stats prints one stats event in runc's shape" {
	update_config '.linux.resources.memory = {"limit": 67108864} | .linux.resources.pids = {"limit": 50}'
	cove -0 run -d "$CT"
	cove -0 --separate-stderr events --stats "$CT"
	[ "${#lines[@]}" -eq 1 ]
	jq -e --arg id "$CT" '.type == "stats" and .id == $id
		and (.data.cpu.usage.total | type) == "number"
		and (.data.memory.usage.usage | type) == "number"
		and .data.memory.usage.limit == 67108864
		and .data.pids.current >= 1 and .data.pids.limit == 50
		and (.data | has("blkio")) and (.data | has("hugetlb"))' <<<"$output"
}

@test "events: a stopped container, a missing one, a zero interval" {
	cove ! events --stats "nosuch-$CT"
	[[ "$output" == *"does not exist"* ]]
	update_config '.process.args = ["true"]'
	cove -0 run -d "$CT"
	wait_for_container 50 0.1 "$CT" stopped
	cove ! events --stats "$CT"
	[[ "$output" == *"is not running"* ]]
	set_cgroups_path 2
	update_config '.process.args = ["sleep", "100"]'
	cove -0 run -d "$CT-2"
	cove ! events --interval 0s "$CT-2"
	[[ "$output" == *"greater than 0"* ]]
}

@test "pause freezes the container and resume thaws it" {
	update_config '.root.readonly = false'
	update_config '.process.args = ["sh", "-c", "i=0; while true; do i=$((i + 1)); echo $i > /tmp/count; sleep 0.05; done"]'
	cove -0 run -d "$CT"
	retry 100 0.1 test -s rootfs/tmp/count
	cove -0 pause "$CT"
	testcontainer "$CT" paused
	cove -0 list --format json
	[ "$(jq -r --arg id "$CT" '.[] | select(.id == $id) | .status' <<<"$output")" = paused ]
	if is_v2; then
		grep -qx 'frozen 1' "$(cg_file - - cgroup.events)"
	else
		[ "$(cg_read freezer freezer.state -)" = FROZEN ]
	fi
	# Frozen: the counter cannot move, however long we look.
	local before after
	before=$(cat rootfs/tmp/count)
	sleep 0.5
	after=$(cat rootfs/tmp/count)
	[ "$before" = "$after" ]
	# ps still lists the frozen processes.
	cove -0 ps --format json "$CT"
	jq -e 'length >= 1' <<<"$output"
	# Twice is an error, as is resume of a running container.
	cove ! pause "$CT"
	[[ "$output" == *"not running"* ]]
	cove ! exec "$CT" true
	[[ "$output" == *"paused"* ]]

	cove -0 resume "$CT"
	testcontainer "$CT" running
	retry 100 0.1 eval '[ "$(cat rootfs/tmp/count)" != "$after" ]'
	cove ! resume "$CT"
	[[ "$output" == *"not paused"* ]]
}

@test "pause and resume of missing and stopped containers fail" {
	cove ! pause "nosuch-$CT"
	[[ "$output" == *"does not exist"* ]]
	cove ! resume "nosuch-$CT"
	[[ "$output" == *"does not exist"* ]]
	update_config '.process.args = ["true"]'
	cove -0 run -d "$CT"
	wait_for_container 50 0.1 "$CT" stopped
	cove ! pause "$CT"
	[[ "$output" == *"not running"* ]]
	cove ! resume "$CT"
	[[ "$output" == *"not paused"* ]]
}

@test "kill KILL and delete --force of a paused container" {
	cove -0 run -d "$CT"
	cove -0 pause "$CT"
	cove -0 kill "$CT" KILL
	wait_for_container 50 0.1 "$CT" stopped
	cove -0 delete "$CT"

	set_cgroups_path 2
	cove -0 run -d "$CT-2"
	cove -0 pause "$CT-2"
	cove ! delete "$CT-2"
	[[ "$output" == *"not stopped"* ]]
	cove -0 delete --force "$CT-2"
	cove ! state "$CT-2"
}

@test "update with flags changes a running container's limits and keeps them" {
	update_config '.linux.resources.memory = {"limit": 67108864, "swap": 67108864}
		| .linux.resources.pids = {"limit": 100}'
	cove -0 run -d "$CT"
	cove -0 update --memory 128m --memory-swap 256m --pids-limit 200 \
		--cpu-period 100000 --cpu-quota 20000 --cpu-share 256 "$CT"
	[ "$(cg_read memory memory.limit_in_bytes memory.max)" = 134217728 ]
	[ "$(cg_read pids pids.max pids.max)" = 200 ]
	if is_v2; then
		[ "$(cg_read cpu - cpu.max)" = "20000 100000" ]
		[ "$(cg_read memory - memory.swap.max)" = 134217728 ]
	else
		[ "$(cg_read memory memory.memsw.limit_in_bytes -)" = 268435456 ]
		[ "$(cg_read cpu cpu.cfs_quota_us -)" = 20000 ]
		[ "$(cg_read cpu cpu.shares -)" = 256 ]
	fi
	# Kept in the container's state, as runc keeps its updated config.
	[ "$(saved_resource .config.linux.resources.memory.limit .config.cgroups.memory)" = 134217728 ]
	[ "$(saved_resource .config.linux.resources.pids.limit .config.cgroups.pids_limit)" = 200 ]
	[ "$(saved_resource .config.linux.resources.cpu.quota .config.cgroups.cpu_quota)" = 20000 ]
	# A later update of one value keeps the others.
	cove -0 update --memory 100m "$CT"
	[ "$(cg_read memory memory.limit_in_bytes memory.max)" = 104857600 ]
	[ "$(cg_read pids pids.max pids.max)" = 200 ]
	# runc 1.1 saves 0 for every flag not given (its cgroup keeps the value): a runc bug.
	is_runc || [ "$(saved_resource .config.linux.resources.pids.limit -)" = 200 ]
}

@test "update -r FILE and -r - take linux.resources JSON" {
	cove -0 run -d "$CT"
	echo '{"memory": {"limit": 50331648, "swap": 100663296}, "pids": {"limit": 77}}' >"$COVE_TESTDIR/r.json"
	cove -0 update -r "$COVE_TESTDIR/r.json" "$CT"
	[ "$(cg_read memory memory.limit_in_bytes memory.max)" = 50331648 ]
	[ "$(cg_read pids pids.max pids.max)" = 77 ]
	# Other flags are ignored with -r; stdin works.
	__cove update --resources - --pids-limit 5 "$CT" <<<'{"pids": {"limit": 88}, "cpu": {"shares": 300}}'
	[ "$(cg_read pids pids.max pids.max)" = 88 ]
	is_v2 || [ "$(cg_read cpu cpu.shares -)" = 300 ]
	[ "$(saved_resource .config.linux.resources.pids.limit .config.cgroups.pids_limit)" = 88 ]
	# runc 1.1 saves 0 for what the JSON leaves out (its cgroup keeps the value): a runc bug.
	is_runc || [ "$(saved_resource .config.linux.resources.memory.limit -)" = 50331648 ]
}

@test "update: bad values, a stopped container, a missing one" {
	cove -0 run -d "$CT"
	cove ! update --memory 12x "$CT"
	[[ "$output" == *"memory"* ]]
	cove ! update --cpu-period abc "$CT"
	[[ "$output" == *"cpu-period"* ]]
	echo '{"memory": ' >"$COVE_TESTDIR/bad.json"
	cove ! update -r "$COVE_TESTDIR/bad.json" "$CT"
	cove ! update -r "$COVE_TESTDIR/missing.json" "$CT"
	cove ! update --l3-cache-schema "L3:0=f" "$CT"
	cove ! update --memory 1g "nosuch-$CT"
	[[ "$output" == *"does not exist"* ]]
	cove -0 kill "$CT" KILL
	wait_for_container 50 0.1 "$CT" stopped
	cove ! update --memory 1g "$CT"
	[[ "$output" == *"not running"* ]]
}

@test "devices: no open without a rule; runc's defaults allow mknod and the usual devices" {
	update_config '.root.readonly = false
		| .process.capabilities.bounding += ["CAP_MKNOD"]
		| .process.capabilities.effective += ["CAP_MKNOD"]
		| .process.capabilities.permitted += ["CAP_MKNOD"]'
	# runc appends "c *:* m" and "b *:* m" after the spec's rules: mknod of any device
	# works, and the device cgroup refuses to open it.
	run_sh ! 'mknod /tmp/mem c 1 1 && echo made && head -c 1 /tmp/mem'
	[[ "$output" == *made* ]]
	[[ "$output" == *"not permitted"* ]]
	run_sh ! 'mknod /tmp/blk b 7 0 && echo made && head -c 1 /tmp/blk'
	[[ "$output" == *made* ]]
	[[ "$output" == *"not permitted"* ]]
	# runc's default rules keep /dev/null, zero, full, random, urandom, tty, ptmx usable.
	run_sh -0 'echo x > /dev/null && head -c 4 /dev/zero | wc -c && head -c 4 /dev/urandom | wc -c'
	[ "${lines[0]}" = 4 ]
	# A spec rule allowing r opens it (loop0: whether or not the host has the loop driver,
	# the error is not EPERM).
	update_config '.linux.resources.devices += [{"allow": true, "type": "b", "major": 7, "minor": 0, "access": "r"}]'
	run_sh 'mknod /tmp/blk b 7 0 && head -c 1 /tmp/blk >/dev/null'
	[[ "$output" != *"not permitted"* ]]
}

# bad_config JQ FIELD: create fails naming FIELD, with one line, leaving nothing behind.
function bad_config() {
	update_config "$1"
	cove --separate-stderr ! create "$CT"
	[ -z "$output" ]
	# (runc adds a warning line here.)
	is_runc || [ "${#stderr_lines[@]}" -eq 1 ] || fail "want one line of error, got: $stderr"
	is_runc || [[ "$stderr" == *"$2"* ]] || fail "error does not name $2: $stderr"
	assert_nothing_left
}

@test "bad value: a negative memory limit other than -1" {
	bad_config '.linux.resources.memory = {"limit": -2}' memory.limit
}

@test "bad value: an unknown device type" {
	bad_config '.linux.resources.devices += [{"allow": true, "type": "x", "major": 1, "minor": 3, "access": "rwm"}]' devices
}

@test "bad value: cpus out of range" {
	bad_config '.linux.resources.cpu = {"cpus": "0-4096"}' cpus
}

@test "memory -1 is unlimited" {
	update_config '.linux.resources.memory = {"limit": -1}'
	cove -0 run -d "$CT"
	local v
	v=$(cg_read memory memory.limit_in_bytes memory.max)
	[ "$v" = max ] || [ "$v" -gt 1000000000000 ]
}

@test "a memory limit too low to start the init: OOM-killed, said so, nothing left" {
	update_config '.linux.resources.memory = {"limit": 4096, "swap": 4096}'
	cove ! run -d "$CT"
	# (runc applies limits after the init joined, and fails writing this one.)
	is_runc || [[ "$output" == *"OOM-killed"* ]]
	assert_nothing_left
}
