#!/usr/bin/env bats
# The CVE classes of runc and crun: the runtime binary and its fds out of the container's
# reach, cwd through a leaked fd, symlinks in the image where the runtime mounts or writes.

load helpers

function setup() {
	setup_busybox
}

@test "CVE-2019-5736: the init before start is out of reach of /proc/1/exe" {
	local before after
	before=$(sha256sum "$COVE" | cut -d' ' -f1)
	cove -0 create "$CT"
	# pid 1 is still the runtime binary, waiting for start.
	cove ! exec "$CT" sh -c 'cat /proc/1/exe >/dev/null'
	# Its fds can be listed (we are root) but none can be resolved or opened.
	cove ! exec "$CT" sh -c 'for f in /proc/1/fd/*; do readlink "$f" && exit 0; done; exit 1'
	cove ! exec "$CT" sh -c 'echo x >>/proc/1/exe'
	after=$(sha256sum "$COVE" | cut -d' ' -f1)
	[ "$before" = "$after" ]
}

@test "CVE-2016-9962: no runtime fd reaches the process (run and exec)" {
	set_args ls /proc/self/fd
	cove -0 run "$CT"
	[ "$(echo $output)" = "0 1 2 3" ] || fail "init fds: $output"
	set_args sleep 100
	cove -0 run -d "$CT-2"
	cove -0 exec "$CT-2" ls /proc/self/fd
	[ "$(echo $output)" = "0 1 2 3" ] || fail "exec fds: $output"
}

@test "CVE-2024-21626: a cwd through /proc/self/fd cannot leave the rootfs" {
	local n
	for n in 3 4 5 6 7 8 9 10; do
		update_config ".process.cwd = \"/proc/self/fd/$n\""
		set_args sh -c 'pwd; ls ..'
		cove run "$CT-$n"
		# Either refused, or (an fd of the container's own) somewhere inside it.
		if [ "$status" -eq 0 ]; then
			[[ "$output" != *sys/fs/cgroup* && "$output" != *"$COVE_TESTDIR"* ]] ||
				fail "fd $n: $output"
		fi
	done
	update_config '.process.cwd = "/"'
	set_args sleep 100
	cove -0 run -d "$CT"
	for n in 3 4 5 6 7 8 9 10; do
		cove exec --cwd "/proc/self/fd/$n" "$CT" sh -c 'pwd; ls ..'
		if [ "$status" -eq 0 ]; then
			[[ "$output" != *sys/fs/cgroup* ]] || fail "exec fd $n: $output"
		fi
	done
}

@test "CVE-2019-19921: proc is not mounted through a symlinked /proc" {
	rmdir rootfs/proc
	mkdir rootfs/fakeproc
	ln -s /fakeproc rootfs/proc
	cove --separate-stderr create "$CT"
	[ "$status" -ne 0 ]
	[[ "$stderr" == *symlink* ]] || fail "$stderr"
	assert_nothing_left
}

@test "CVE-2025-31133: masking does not follow an image's /dev/null symlink" {
	# No tmpfs on /dev: the image's own /dev is used, with /dev/null a symlink to a host-ish
	# target; masked paths must still be covered by the real null device.
	update_config '.mounts |= map(select(.destination != "/dev"))'
	mkdir -p rootfs/dev
	ln -sf /proc/sys/kernel/core_pattern rootfs/dev/null
	local before
	before=$(cat /proc/sys/kernel/core_pattern)
	# /proc/keys and /proc/timer_list are masked files in the default spec.
	set_args sh -c 'ls -l /dev/null; cat /proc/keys /proc/timer_list | wc -c; echo x >/proc/keys; true'
	cove -0 run "$CT"
	[[ "${lines[0]}" == c* ]] || fail "/dev/null is not a char device: ${lines[0]}"
	[ "${lines[1]}" = 0 ] || fail "masked files are readable: ${lines[1]}"
	[ "$(cat /proc/sys/kernel/core_pattern)" = "$before" ]
}

@test "CVE-2025-52565: /dev/console that is a symlink is refused" {
	update_config '.mounts |= map(select(.destination != "/dev")) | .process.terminal = true'
	mkdir -p rootfs/dev/pts
	echo secret >rootfs/secret
	ln -sf /secret rootfs/dev/console
	setup_recvtty
	cove --separate-stderr create --console-socket "$CONSOLE_SOCKET" "$CT"
	[ "$status" -ne 0 ]
	[[ "$stderr" == *console* ]] || fail "$stderr"
	[ "$(cat rootfs/secret)" = secret ]
	assert_nothing_left
}

@test "mount destinations through symlinks stay inside the rootfs" {
	mkdir -p "$COVE_TESTDIR/outside"
	ln -s "$COVE_TESTDIR/outside" rootfs/escape
	ln -s ../../../../../../.. rootfs/up
	update_config '.mounts += [
		{"destination": "/escape/a", "type": "tmpfs", "source": "tmpfs"},
		{"destination": "/up/tmp/b", "type": "tmpfs", "source": "tmpfs"}]'
	set_args true
	# Refusing the dangling absolute link is fine; following it out of the rootfs is not.
	cove run "$CT"
	[ ! -e "$COVE_TESTDIR/outside/a" ]
	[ -z "$(grep -F "$COVE_TESTDIR/outside" /proc/self/mountinfo)" ]
}
