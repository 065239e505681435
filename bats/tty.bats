#!/usr/bin/env bats
# terminal: true with --console-socket; the pty master is received with
# SCM_RIGHTS by bats/recvtty.py.

load helpers

function setup() {
	requires python3
	setup_busybox
	update_config '.process.terminal = true'
}

# tty_output: what the container wrote, without the tty's CRs.
function tty_output() {
	tr -d '\r' <"$TTY_OUT"
}

@test "tty: run -d --console-socket" {
	setup_recvtty
	set_args sh -c 'tty; test -t 0 && echo stdin-is-tty; test -t 1 && echo stdout-is-tty; test -t 2 && echo stderr-is-tty'
	cove -0 run -d --console-socket "$CONSOLE_SOCKET" "$CT"
	retry 50 0.1 grep -q stderr-is-tty "$TTY_OUT"
	local out
	out=$(tty_output)
	[[ "$out" == "/dev/pts/"[0-9]* ]]
	[[ "$out" == *stdin-is-tty* ]]
	[[ "$out" == *stdout-is-tty* ]]
	# The line discipline adds CRs: this really is a terminal.
	grep -q $'\r' "$TTY_OUT"
}

@test "tty: the fd comes with a message and is a pty master" {
	setup_recvtty
	cove -0 run -d --console-socket "$CONSOLE_SOCKET" "$CT"
	wait_for_file 50 "$TTY_INFO"
	[ "$(jq -r .nfds "$TTY_INFO")" = 1 ]
	[[ "$(jq -r .target "$TTY_INFO")" == *ptmx* ]]
	# runc sends the master's name ("/dev/ptmx").
	[ -n "$(jq -r .message "$TTY_INFO")" ]
}

@test "tty: create --console-socket, then start" {
	setup_recvtty
	set_args sh -c 'echo started-on-tty'
	cove -0 create --console-socket "$CONSOLE_SOCKET" "$CT"
	# The fd is sent at create time.
	wait_for_file 50 "$TTY_INFO"
	[ ! -s "$TTY_OUT" ]
	cove -0 start "$CT"
	retry 50 0.1 grep -q started-on-tty "$TTY_OUT"
}

@test "tty: /dev/console is the container's pty" {
	setup_recvtty
	set_args sh -c 'stat -c "%t %F" /dev/console; stat -c "%t" $(tty)'
	cove -0 run -d --console-socket "$CONSOLE_SOCKET" "$CT"
	retry 50 0.1 eval '[ "$(tty_output | wc -l)" -ge 2 ]'
	local a b
	a=$(tty_output | sed -n 1p)
	b=$(tty_output | sed -n 2p)
	[ "$a" = "$b character special file" ]
}

@test "tty: input written to the master reaches the process" {
	setup_recvtty main $'hello-tty\n'
	set_args sh -c 'read line; echo "got:$line"'
	cove -0 run -d --console-socket "$CONSOLE_SOCKET" "$CT"
	retry 50 0.1 grep -q got:hello-tty "$TTY_OUT"
}

@test "tty: consoleSize" {
	setup_recvtty
	update_config '.process.consoleSize = {"height": 37, "width": 101}'
	set_args sh -c 'stty size'
	cove -0 run -d --console-socket "$CONSOLE_SOCKET" "$CT"
	retry 50 0.1 grep -q '37 101' "$TTY_OUT"
}

@test "tty: exec --tty -d --console-socket" {
	update_config '.process.terminal = false'
	cove -0 run -d "$CT"
	setup_recvtty exec
	cove -0 exec --tty -d --console-socket "$CONSOLE_SOCKET" "$CT" sh -c 'tty; echo detached-exec-tty; sleep 1'
	retry 50 0.1 grep -q detached-exec-tty "$TTY_OUT"
	[[ "$(tty_output)" == /dev/pts/* ]]
}

@test "tty: create without --console-socket is refused" {
	cove ! create "$CT"
	[[ "$output" == *console* ]]
	[ ! -e "$COVE_ROOT/$CT" ]
}

@test "tty: --console-socket without terminal is refused" {
	setup_recvtty
	update_config '.process.terminal = false'
	cove ! run -d --console-socket "$CONSOLE_SOCKET" "$CT"
	[[ "$output" == *console* ]]
	[ ! -e "$COVE_ROOT/$CT" ]
}

@test "tty: a console socket nobody listens on fails cleanly" {
	cove ! run -d --console-socket "$COVE_TESTDIR/nobody.sock" "$CT"
	[[ "$output" == *nobody.sock* || "$output" == *console* || "$output" == *"no such file"* ]]
	[ ! -e "$COVE_ROOT/$CT" ]
}
