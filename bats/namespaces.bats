#!/usr/bin/env bats
# Namespaces: uts (hostname, domainname), sysctl, net (new, joined by path,
# none), pid, ipc, cgroup, user (uid/gid mappings), time.

load helpers

@test "hostname" {
	update_config '.hostname = "cove-host"'
	run_sh -0 'hostname; cat /proc/sys/kernel/hostname'
	[ "${lines[0]}" = cove-host ]
	[ "${lines[1]}" = cove-host ]
	# The host's is unchanged.
	[ "$(hostname)" != cove-host ]
}

@test "domainname" {
	skip_if_runc "runc 1.1 ignores domainname"
	update_config '.hostname = "h" | .domainname = "example.org"'
	run_sh -0 'cat /proc/sys/kernel/domainname'
	[ "$output" = example.org ]
	[ "$(cat /proc/sys/kernel/domainname)" != example.org ]
}

@test "hostname without a uts namespace is refused" {
	update_config '.hostname = "h" | .linux.namespaces |= map(select(.type != "uts"))'
	run_sh ! 'hostname'
	[[ "$output" == *[Hh]ostname* || "$output" == *uts* || "$output" == *UTS* ]]
}

@test "sysctl in the container's namespaces" {
	update_config '.linux.sysctl = {"net.ipv4.ip_forward": "1", "kernel.msgmax": "4096", "net.ipv4.ping_group_range": "0 0"}'
	run_sh -0 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/msgmax'
	[ "${lines[0]}" = 1 ]
	[ "${lines[1]}" = 4096 ]
}

@test "sysctl that is not namespaced is refused" {
	update_config '.linux.sysctl = {"vm.swappiness": "10"}'
	local before
	before=$(cat /proc/sys/vm/swappiness)
	run_sh ! 'true'
	[[ "$output" == *vm.swappiness* ]]
	[ "$(cat /proc/sys/vm/swappiness)" = "$before" ]
}

@test "net sysctl without a network namespace is refused" {
	update_config '.linux.namespaces |= map(select(.type != "network"))
		| .linux.sysctl = {"net.ipv4.ip_forward": "1"}'
	local before
	before=$(cat /proc/sys/net/ipv4/ip_forward)
	run_sh ! 'true'
	[[ "$output" == *net.ipv4.ip_forward* ]]
	[ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$before" ]
}

@test "new network namespace: only lo, and it is up" {
	run_sh -0 'ls /sys/class/net; ip -o link show lo'
	[ "${lines[0]}" = lo ]
	[[ "${lines[1]}" == *UP* ]]
}

@test "join a network namespace by path" {
	requires ip
	local ns="cove-bats-$CT"
	ip netns add "$ns"
	defer ip netns del "$ns"
	ip netns exec "$ns" ip link set lo up
	ip netns exec "$ns" ip addr add 10.199.1.1/32 dev lo
	update_config '.linux.namespaces |= map(if .type == "network" then .path = "/var/run/netns/'"$ns"'" else . end)'
	run_sh -0 'readlink /proc/self/ns/net; ip -o addr show lo'
	[ "${lines[0]}" = "$(ip netns exec "$ns" readlink /proc/self/ns/net)" ]
	[[ "$output" == *10.199.1.1/32* ]]
	# The netns outlives the container.
	[ -e "/var/run/netns/$ns" ]
}

@test "join a namespace path that does not exist fails" {
	update_config '.linux.namespaces |= map(if .type == "network" then .path = "/var/run/netns/cove-no-such-ns" else . end)'
	run_sh ! 'true'
	[[ "$output" == *cove-no-such-ns* ]]
}

@test "join a namespace path of the wrong type fails" {
	update_config '.linux.namespaces |= map(if .type == "network" then .path = "/proc/self/ns/uts" else . end)'
	run_sh ! 'true'
}

@test "no network namespace: the host's" {
	update_config '.linux.namespaces |= map(select(.type != "network"))'
	run_sh -0 'readlink /proc/self/ns/net'
	[ "$output" = "$(readlink /proc/self/ns/net)" ]
}

@test "pid namespace: the process is pid 1" {
	run_sh -0 'echo $$; readlink /proc/self/ns/pid'
	[ "${lines[0]}" = 1 ]
	[ "${lines[1]}" != "$(readlink /proc/self/ns/pid)" ]
}

@test "join another container's pid and ipc namespaces by path" {
	cove -0 run -d "$CT"
	local pid
	pid=$(container_pid "$CT")
	set_cgroups_path second
	update_config '.linux.namespaces |= map(
		if .type == "pid" then .path = "/proc/'"$pid"'/ns/pid"
		elif .type == "ipc" then .path = "/proc/'"$pid"'/ns/ipc"
		else . end)'
	set_args sh -c 'ps -o pid,args; readlink /proc/self/ns/ipc'
	cove -0 run "$CT-2"
	[[ "$output" == *"1 sleep 100"* ]]
	[ "${lines[-1]}" = "$(readlink "/proc/$pid/ns/ipc")" ]
}

@test "ipc namespace is new" {
	run_sh -0 'readlink /proc/self/ns/ipc'
	[ "$output" != "$(readlink /proc/self/ns/ipc)" ]
}

@test "cgroup namespace: the container's cgroup is its root" {
	requires cgroupns
	update_config '.linux.namespaces += [{"type": "cgroup"}]'
	run_sh -0 'cat /proc/self/cgroup; readlink /proc/self/ns/cgroup'
	[[ "$output" == *":pids:/"$'\n'* ]]
	[[ "$output" != *"$CGROUPS_PATH"* ]]
	[ "${lines[-1]}" != "$(readlink /proc/self/ns/cgroup)" ]
}

@test "unknown namespace type is refused" {
	update_config '.linux.namespaces += [{"type": "bogus"}]'
	run_sh ! 'true'
	[[ "$output" == *bogus* ]]
}

# A user namespace mapping 0..65535 to 100000..165535.
function userns_config() {
	requires userns
	update_config '.linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
	# The mapped root must be able to reach the rootfs.
	chmod o+x "$BATS_RUN_TMPDIR" "$COVE_TESTDIR"
}

@test "user namespace: root inside, mapped uid outside" {
	userns_config
	cove -0 run -d "$CT"
	local pid
	pid=$(container_pid "$CT")
	cove -0 exec "$CT" id
	[[ "$output" == "uid=0(root) gid=0(root)"* ]]
	cove -0 exec "$CT" cat /proc/self/uid_map /proc/self/gid_map
	[[ "${lines[0]}" =~ ^\ +0\ +100000\ +65536$ ]]
	[[ "${lines[1]}" =~ ^\ +0\ +100000\ +65536$ ]]
	# On the host the process runs as 100000.
	[ "$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")" = 100000 ]
	[ "$(awk '/^Gid:/ {print $2}' "/proc/$pid/status")" = 100000 ]
	[ "$(readlink "/proc/$pid/ns/user")" != "$(readlink /proc/self/ns/user)" ]
}

@test "user namespace: a non-root user maps too" {
	userns_config
	update_config '.process.user = {"uid": 1000, "gid": 1000}'
	cove -0 run -d "$CT"
	local pid
	pid=$(container_pid "$CT")
	cove -0 exec -u 1000:1000 "$CT" id -u
	[ "$output" = 1000 ]
	[ "$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")" = 101000 ]
}

@test "user namespace: files of unmapped host users show as nobody" {
	userns_config
	update_config '.root.readonly = false'
	touch rootfs/root-owned
	chown 100000:100000 rootfs/etc/hostname
	run_sh -0 'stat -c %u /root-owned /etc/hostname'
	[ "${lines[0]}" = 65534 ]
	[ "${lines[1]}" = 0 ]
}

@test "user namespace: a new one together with a joined network namespace" {
	requires ip
	userns_config
	local ns="cove-bats-$CT"
	ip netns add "$ns"
	defer ip netns del "$ns"
	ip netns exec "$ns" ip addr add 10.199.2.1/32 dev lo
	update_config '.linux.namespaces |= map(if .type == "network" then .path = "/var/run/netns/'"$ns"'" else . end)
		| .mounts |= map(select(.type != "sysfs" and .type != "cgroup"))'
	run_sh -0 'id -u; cat /proc/self/uid_map; readlink /proc/self/ns/net; ip -o addr show lo; echo $$'
	[ "${lines[0]}" = 0 ]
	[[ "${lines[1]}" =~ ^\ +0\ +100000\ +65536$ ]]
	[ "${lines[2]}" = "$(ip netns exec "$ns" readlink /proc/self/ns/net)" ]
	[[ "$output" == *10.199.2.1/32* ]]
	[ "${lines[-1]}" = 1 ]
}

@test "user namespace: joined by path, with new mount, pid, uts and ipc namespaces" {
	userns_config
	cove -0 run -d "$CT"
	local pid
	pid=$(container_pid "$CT")
	set_cgroups_path second
	update_config '.linux.namespaces |= map(if .type == "user" then .path = "/proc/'"$pid"'/ns/user" else . end)
		| del(.linux.uidMappings) | del(.linux.gidMappings)'
	set_args sh -c 'id -u; readlink /proc/self/ns/user; echo $$'
	cove -0 run "$CT-2"
	[ "${lines[0]}" = 0 ]
	[ "${lines[1]}" = "$(readlink "/proc/$pid/ns/user")" ]
	[ "${lines[2]}" = 1 ]
}

@test "user namespace without mappings is refused" {
	update_config '.linux.namespaces += [{"type": "user"}]'
	run_sh ! 'true'
	[[ "$output" == *[Mm]apping* ]]
}

@test "time namespace offsets" {
	requires timens
	skip_if_runc "runc 1.1 has no time namespace support"
	update_config '.linux.namespaces += [{"type": "time"}]
		| .linux.timeOffsets = {"monotonic": {"secs": 86400, "nanosecs": 0}, "boottime": {"secs": 172800, "nanosecs": 0}}'
	local host_up
	host_up=$(cut -d. -f1 /proc/uptime)
	run_sh -0 'cat /proc/self/timens_offsets; cut -d. -f1 /proc/uptime'
	[[ "$output" =~ monotonic\ +86400\ +0 ]]
	[[ "$output" =~ boottime\ +172800\ +0 ]]
	[ "${lines[-1]}" -ge $((host_up + 172800)) ]
}
