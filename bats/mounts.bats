#!/usr/bin/env bats
# Mounts: proc, sysfs, tmpfs, bind/rbind with options, rro, propagation,
# readonly root, maskedPaths/readonlyPaths, /dev.

load helpers

function setup() {
	setup_busybox
	HOSTDIR="$COVE_TESTDIR/host"
	mkdir -p "$HOSTDIR"
	echo host-data >"$HOSTDIR/file"
}

# add_mount JSON: append a mount to config.json.
function add_mount() {
	update_config ".mounts += [$1]"
}

# mount_line OUTPUT DEST: the last /proc/mounts line for DEST (the topmost).
function mount_line() {
	awk -v d="$2" '$2 == d { l = $0 } END { print l }' <<<"$1"
}

# has_opt "LINE" OPT: the mount options (4th field) contain OPT.
function has_opt() {
	local opts
	opts=$(awk '{print $4}' <<<"$1")
	[[ ",$opts," == *",$2,"* ]]
}

@test "proc is mounted at /proc" {
	run_sh -0 'cat /proc/mounts; echo ---; cat /proc/1/cmdline | tr "\0" " "'
	local l
	l=$(mount_line "$output" /proc)
	[[ "$l" == "proc /proc proc "* ]]
	[[ "${lines[-1]}" == "sh -c cat /proc/mounts"* ]]
}

@test "sysfs is mounted read-only" {
	run_sh -0 'cat /proc/mounts'
	local l
	l=$(mount_line "$output" /sys)
	[[ "$l" == "sysfs /sys sysfs "* ]]
	has_opt "$l" ro
	has_opt "$l" nosuid
	run_sh ! 'mkdir /sys/kernel/cove-test'
}

@test "cgroup filesystem at /sys/fs/cgroup, read-only" {
	run_sh -0 'cat /proc/mounts; ls /sys/fs/cgroup'
	[[ "$output" == *" /sys/fs/cgroup"* ]]
	run_sh ! 'mkdir /sys/fs/cgroup/pids/x || mkdir /sys/fs/cgroup/x'
}

@test "tmpfs with options" {
	add_mount '{"destination": "/scratch", "type": "tmpfs", "source": "tmpfs",
		"options": ["nosuid", "nodev", "noexec", "size=2m", "mode=1770"]}'
	run_sh -0 'cat /proc/mounts; stat -c %a /scratch; echo hi > /scratch/f && cat /scratch/f'
	local l
	l=$(mount_line "$output" /scratch)
	[[ "$l" == "tmpfs /scratch tmpfs "* ]]
	has_opt "$l" nosuid
	has_opt "$l" nodev
	has_opt "$l" noexec
	has_opt "$l" size=2048k
	has_opt "$l" mode=1770
	[ "${lines[-2]}" = 1770 ]
	[ "${lines[-1]}" = hi ]
}

@test "tmpfs ro" {
	add_mount '{"destination": "/rotmp", "type": "tmpfs", "source": "tmpfs", "options": ["ro"]}'
	run_sh -0 'cat /proc/mounts'
	has_opt "$(mount_line "$output" /rotmp)" ro
	run_sh ! 'touch /rotmp/x'
}

@test "mount destination is created if missing" {
	add_mount '{"destination": "/a/b/c", "type": "tmpfs", "source": "tmpfs"}'
	run_sh -0 'cat /proc/mounts'
	[ -n "$(mount_line "$output" /a/b/c)" ]
	[ -d rootfs/a/b/c ]
}

@test "bind mount, read-only" {
	add_mount '{"destination": "/data", "type": "bind", "source": "'"$HOSTDIR"'", "options": ["bind", "ro"]}'
	run_sh -0 'cat /data/file; cat /proc/mounts'
	[ "${lines[0]}" = host-data ]
	has_opt "$(mount_line "$output" /data)" ro
	run_sh ! 'touch /data/new'
	[ ! -e "$HOSTDIR/new" ]
	# Only the container's view is read-only.
	touch "$HOSTDIR/writable"
}

@test "bind mount, read-write" {
	add_mount '{"destination": "/data", "type": "bind", "source": "'"$HOSTDIR"'", "options": ["rbind", "rw"]}'
	run_sh -0 'echo from-ct > /data/new'
	[ "$(cat "$HOSTDIR/new")" = from-ct ]
}

@test "bind mount with type none and options only" {
	add_mount '{"destination": "/data", "type": "none", "source": "'"$HOSTDIR"'", "options": ["rbind", "ro"]}'
	run_sh -0 'cat /data/file'
	[ "$output" = host-data ]
}

@test "bind mount nosuid, nodev, noexec" {
	printf '#!/bin/sh\necho ran\n' >"$HOSTDIR/script"
	chmod 755 "$HOSTDIR/script"
	add_mount '{"destination": "/data", "type": "bind", "source": "'"$HOSTDIR"'",
		"options": ["bind", "nosuid", "nodev", "noexec"]}'
	run_sh -0 'cat /proc/mounts'
	local l
	l=$(mount_line "$output" /data)
	has_opt "$l" nosuid
	has_opt "$l" nodev
	has_opt "$l" noexec
	run_sh -126 '/data/script'
	[[ "$output" == *"ermission denied"* ]]
}

@test "bind mount of a file" {
	add_mount '{"destination": "/etc/motd", "type": "bind", "source": "'"$HOSTDIR/file"'", "options": ["bind", "ro"]}'
	run_sh -0 'cat /etc/motd'
	[ "$output" = host-data ]
	[ -f rootfs/etc/motd ]
}

@test "bind mount of a missing source fails" {
	add_mount '{"destination": "/data", "type": "bind", "source": "'"$HOSTDIR/missing"'", "options": ["bind"]}'
	run_sh ! 'true'
	[[ "$output" == *missing* || "$output" == */data* ]]
}

# A host submount inside $HOSTDIR, unmounted at teardown.
function host_submount() {
	mkdir -p "$HOSTDIR/sub"
	mount -t tmpfs -o size=1m tmpfs "$HOSTDIR/sub"
	defer umount -l "$HOSTDIR/sub"
	echo marker >"$HOSTDIR/sub/marker"
}

@test "rbind includes submounts, bind does not" {
	host_submount
	add_mount '{"destination": "/rdata", "type": "bind", "source": "'"$HOSTDIR"'", "options": ["rbind"]}'
	add_mount '{"destination": "/data", "type": "bind", "source": "'"$HOSTDIR"'", "options": ["bind"]}'
	run_sh -0 'cat /rdata/sub/marker; ls -A /data/sub | wc -l'
	[ "${lines[0]}" = marker ]
	[ "${lines[1]}" = 0 ]
}

@test "rro makes submounts read-only too" {
	# mount_setattr(2): Linux 5.12.
	host_submount
	add_mount '{"destination": "/data", "type": "bind", "source": "'"$HOSTDIR"'", "options": ["rbind", "rro"]}'
	run_sh -0 'cat /data/sub/marker; cat /proc/mounts'
	[ "${lines[0]}" = marker ]
	has_opt "$(mount_line "$output" /data)" ro
	has_opt "$(mount_line "$output" /data/sub)" ro
	run_sh ! 'touch /data/sub/x'
	run_sh ! 'touch /data/x'
}

# Make $HOSTDIR a shared mount, so that mounts under it propagate.
function shared_hostdir() {
	mount --bind "$HOSTDIR" "$HOSTDIR"
	defer umount -l "$HOSTDIR"
	mount --make-shared "$HOSTDIR"
	mkdir -p "$HOSTDIR/later"
}

@test "propagation rslave: host mounts appear in the container" {
	shared_hostdir
	add_mount '{"destination": "/data", "type": "bind", "source": "'"$HOSTDIR"'", "options": ["rbind", "rslave"]}'
	cove -0 run -d "$CT"
	mount -t tmpfs -o size=1m tmpfs "$HOSTDIR/later"
	defer umount -l "$HOSTDIR/later"
	echo late >"$HOSTDIR/later/f"
	cove -0 exec "$CT" cat /data/later/f
	[ "$output" = late ]
	cove -0 exec "$CT" cat /proc/self/mountinfo
	[[ "$output" == *" /data/later "*master:* ]]
}

@test "propagation rprivate: host mounts do not appear in the container" {
	shared_hostdir
	add_mount '{"destination": "/data", "type": "bind", "source": "'"$HOSTDIR"'", "options": ["rbind", "rprivate"]}'
	cove -0 run -d "$CT"
	mount -t tmpfs -o size=1m tmpfs "$HOSTDIR/later"
	defer umount -l "$HOSTDIR/later"
	echo late >"$HOSTDIR/later/f"
	cove ! exec "$CT" cat /data/later/f
}

@test "container mounts do not propagate to the host" {
	shared_hostdir
	add_mount '{"destination": "/data", "type": "bind", "source": "'"$HOSTDIR"'", "options": ["rbind"]}'
	add_mount '{"destination": "/data/later", "type": "tmpfs", "source": "tmpfs"}'
	cove -0 run -d "$CT"
	cove -0 exec "$CT" cat /proc/mounts
	[ -n "$(mount_line "$output" /data/later)" ]
	run ! grep -q " $HOSTDIR/later " /proc/self/mountinfo
}

@test "readonly root" {
	run_sh ! 'touch /newfile'
	[[ "$output" == *"Read-only file system"* ]]
	run_sh -0 'cat /proc/mounts'
	has_opt "$(mount_line "$output" /)" ro
}

@test "writable root" {
	update_config '.root.readonly = false'
	run_sh -0 'touch /newfile'
	[ -e rootfs/newfile ]
}

@test "default maskedPaths: /proc/keys reads empty, /proc/acpi is empty" {
	[ -e /proc/keys ] || skip "no /proc/keys on the host"
	run_sh -0 'wc -c < /proc/keys; ls -A /proc/acpi 2>/dev/null | wc -l'
	[ "${lines[0]}" = 0 ]
	[ "${lines[1]}" = 0 ]
}

@test "maskedPaths on a file and a directory of the rootfs" {
	mkdir -p rootfs/secret-dir
	echo secret >rootfs/secret-dir/f
	echo secret >rootfs/etc/secret-file
	update_config '.linux.maskedPaths += ["/secret-dir", "/etc/secret-file", "/does/not/exist"]'
	run_sh -0 'cat /etc/secret-file | wc -c; ls -A /secret-dir | wc -l'
	[ "${lines[0]}" = 0 ]
	[ "${lines[1]}" = 0 ]
	run_sh 'echo x > /etc/secret-file; touch /secret-dir/new'
	# The rootfs itself is untouched.
	[ ! -e rootfs/secret-dir/new ]
	[ "$(cat rootfs/etc/secret-file)" = secret ]
}

@test "default readonlyPaths: /proc/sys is read-only" {
	run_sh -0 'cat /proc/mounts'
	has_opt "$(mount_line "$output" /proc/sys)" ro
	run_sh ! 'echo 1 > /proc/sys/kernel/ns_last_pid'
}

@test "readonlyPaths on a rootfs directory" {
	update_config '.root.readonly = false | .linux.readonlyPaths += ["/ro-dir"]'
	mkdir -p rootfs/ro-dir
	echo keep >rootfs/ro-dir/f
	run_sh -0 'cat /ro-dir/f; touch /elsewhere'
	[ "$output" = keep ]
	run_sh ! 'touch /ro-dir/x'
}

@test "/dev: default devices" {
	run_sh -0 'for d in null zero full random urandom tty; do echo "$d $(stat -c "%F %t:%T" /dev/$d)"; done'
	[[ "${lines[0]}" == "null character special file 1:3" ]]
	[[ "${lines[1]}" == "zero character special file 1:5" ]]
	[[ "${lines[2]}" == "full character special file 1:7" ]]
	[[ "${lines[3]}" == "random character special file 1:8" ]]
	[[ "${lines[4]}" == "urandom character special file 1:9" ]]
	[[ "${lines[5]}" == "tty character special file 5:0" ]]
}

@test "/dev: default devices work" {
	run_sh -0 'echo x > /dev/null && head -c 4 /dev/zero | wc -c && head -c 4 /dev/urandom | wc -c'
	[ "${lines[0]}" = 4 ]
	[ "${lines[1]}" = 4 ]
	run_sh ! 'echo x > /dev/full'
	[[ "$output" == *"No space left"* ]]
}

@test "/dev: no host devices leak in" {
	run_sh -0 'ls /dev'
	[[ "$output" != *vda* ]]
	[[ "$output" != *loop-control* ]]
	[[ "$output" != *kmsg* ]]
}

@test "/dev/ptmx, /dev/pts, /dev/shm, /dev/mqueue" {
	run_sh -0 'readlink /dev/ptmx; cat /proc/mounts'
	[ "${lines[0]}" = pts/ptmx ]
	[[ "$(mount_line "$output" /dev/pts)" == "devpts /dev/pts devpts "* ]]
	[[ "$(mount_line "$output" /dev/shm)" == "shm /dev/shm tmpfs "* || "$(mount_line "$output" /dev/shm)" == *" /dev/shm tmpfs "* ]]
	[[ "$(mount_line "$output" /dev/mqueue)" == *" /dev/mqueue mqueue "* ]]
	[[ "$(mount_line "$output" /dev)" == *" /dev tmpfs "* ]]
}

@test "/dev/fd, /dev/stdin, /dev/stdout, /dev/stderr symlinks" {
	run_sh -0 'for l in fd stdin stdout stderr; do echo "$l $(readlink /dev/$l)"; done'
	[ "${lines[0]}" = "fd /proc/self/fd" ]
	[ "${lines[1]}" = "stdin /proc/self/fd/0" ]
	[ "${lines[2]}" = "stdout /proc/self/fd/1" ]
	[ "${lines[3]}" = "stderr /proc/self/fd/2" ]
	run_sh -0 'echo via-dev-stdout > /dev/stdout'
	[ "$output" = via-dev-stdout ]
}

@test "spec devices are created with mode and owner" {
	update_config '.linux.devices += [{"path": "/dev/mynull", "type": "c", "major": 1, "minor": 3,
		"fileMode": 438, "uid": 1000, "gid": 100}]'
	run_sh -0 'stat -c "%F %t:%T %a %u:%g" /dev/mynull; echo x > /dev/mynull'
	[ "$output" = "character special file 1:3 666 1000:100" ]
}

@test "spec device without a cgroup rule cannot be opened" {
	requires cgroups_v1
	[ -e /dev/loop-control ] || skip "no /dev/loop-control on the host"
	update_config '.linux.devices += [{"path": "/dev/loop-control", "type": "c", "major": 10, "minor": 237}]'
	run_sh ! 'cat /dev/loop-control </dev/null >/dev/null'
	[[ "$output" == *"not permitted"* ]]
	# With a rule it opens.
	update_config '.linux.resources.devices += [{"allow": true, "type": "c", "major": 10, "minor": 237, "access": "rw"}]'
	run_sh -0 'exec 3</dev/loop-control && echo opened'
	[ "$output" = opened ]
}

@test "mount through an absolute symlink stays in the rootfs" {
	local escape="/tmp/cove-bats-escape-$CT"
	ln -s "$escape" rootfs/link
	add_mount '{"destination": "/link/sub", "type": "tmpfs", "source": "tmpfs"}'
	defer rm -rf "$escape"
	run_sh 'cat /proc/mounts'
	# Either refused or resolved inside the rootfs: never on the host.
	[ ! -e "$escape" ]
	if [ "$status" -eq 0 ]; then
		[ -d "rootfs$escape/sub" ]
	fi
}

@test "mount through a relative symlink escaping with .. stays in the rootfs" {
	ln -s ../../../../../../../../tmp rootfs/up
	add_mount '{"destination": "/up/cove-bats-'"$CT"'", "type": "tmpfs", "source": "tmpfs"}'
	defer rm -rf "/tmp/cove-bats-$CT"
	run_sh 'true'
	[ ! -e "/tmp/cove-bats-$CT" ]
}
