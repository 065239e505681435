#!/bin/bash
# Shared helpers for cove's black-box CLI suite, in the vocabulary of runc's
# tests/integration/helpers.bash (cove(), update_config, requires,
# wait_for_container, testcontainer), written for cove.
#
# Every test gets its own temp dir holding the state root ($COVE_ROOT) and the
# bundle ($BUNDLE, the cwd of the test). teardown_bundle force-deletes every
# container the test made, then checks that nothing was left behind: no state
# dir, no cgroup dir, no process, no mount referencing the test dir.
#
# The suite also runs against runc (COVE=/usr/sbin/runc bats bats/), which is
# how the tests themselves are validated.

bats_require_minimum_version 1.5.0

if [ -z "$BATS_RUN_TMPDIR" ]; then
	echo "bats >= 1.2.1 is required" >&2
	exit 1
fi

BATS_DIR=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
COVE=${COVE:-$(dirname "$BATS_DIR")/build/cove}
# runc, to compare `spec` output with; empty when not installed.
REF_RUNC=${REF_RUNC:-$(command -v runc || true)}
BUSYBOX=${BUSYBOX:-/bin/busybox}
# The real interpreter, not a pyenv shim (those are slow and env-dependent).
PYTHON=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3 || true)}

# Name of the runtime under test ("cove", "runc", "crun").
RUNTIME_NAME=$(basename "$COVE")

# ---------------------------------------------------------------------------
# Running the runtime.

# Raw wrapper: the runtime with this test's state root.
function __cove() {
	"$COVE" --root "$COVE_ROOT" "$@"
}

# Records the container id of create/run/exec so that teardown can delete it
# even if `list` is broken. The id is the last argument in this suite.
function __record_id() {
	local a cmd="" last=""
	for a in "$@"; do
		case "$a" in
		create | run) [ -z "$cmd" ] && cmd=$a ;;
		esac
		last=$a
	done
	if [ -n "$cmd" ] && [ -n "$COVE_TESTDIR" ] && [[ "$last" != -* ]]; then
		echo "$last" >>"$COVE_TESTDIR/ids"
	fi
}

# True when the command leaves a process behind that inherits the runtime's
# stdio: create, run -d, exec -d. Options end at the first positional arg.
function __is_detaching() {
	local cmd="" a
	while [ $# -gt 0 ]; do
		a=$1
		shift
		if [ -z "$cmd" ]; then
			case "$a" in
			--root | --log | --log-format | --criu) shift ;;
			create) cmd=create && return 0 ;;
			run | exec) cmd=$a ;;
			-*) ;;
			*) return 1 ;;
			esac
			continue
		fi
		case "$a" in
		-d | --detach | -d=true | --detach=true) return 0 ;;
		-b | --bundle | --console-socket | --pid-file | -p | --process | --cwd | -e | --env | \
			-u | --user | -g | --additional-gids | -c | --cap | --apparmor | --process-label | \
			--preserve-fds) shift ;;
		-*) ;;
		*) return 1 ;;
		esac
	done
	return 1
}

# Runs a detaching command with its stdio on files, so that the container,
# which inherits them, does not keep bats' `run` pipe open. The runtime's
# output is replayed; the container's later output stays in $CONTAINER_OUT
# (and $CONTAINER_ERR).
function __cove_detached() {
	local n
	n=$(find "$COVE_TESTDIR" -maxdepth 1 -name 'detached.*.out' | wc -l)
	CONTAINER_OUT="$COVE_TESTDIR/detached.$n.out"
	CONTAINER_ERR="$COVE_TESTDIR/detached.$n.err"
	local rc=0
	__cove "$@" </dev/null >"$CONTAINER_OUT" 2>"$CONTAINER_ERR" || rc=$?
	cat "$CONTAINER_OUT"
	cat "$CONTAINER_ERR" >&2
	return $rc
}

# cove [-N|!|--separate-stderr]... ARGS: run the runtime and set $status,
# $output and $lines like bats' `run` (and $stderr, $stderr_lines with
# --separate-stderr). -N expects exit code N, ! any non-zero code. Like
# runc's wrapper, it prints the command and its output to stderr, which bats
# shows only when the test fails. (Not bats' `run` itself: that one warns
# about exit code 127, which cove uses on purpose.)
function cove() {
	local expect="" separate=""
	while [[ "$1" =~ ^(-[0-9]+|!|--separate-stderr)$ ]]; do
		case "$1" in
		--separate-stderr) separate=1 ;;
		!) expect='!' ;;
		*) expect=${1#-} ;;
		esac
		shift
	done
	__record_id "$@"
	local raw=__cove
	if __is_detaching "$@"; then
		raw=__cove_detached
		# Set here, not in the command substitution's subshell.
		local n
		n=$(find "$COVE_TESTDIR" -maxdepth 1 -name 'detached.*.out' | wc -l)
		CONTAINER_OUT="$COVE_TESTDIR/detached.$n.out"
		CONTAINER_ERR="$COVE_TESTDIR/detached.$n.err"
	fi
	stderr=""
	stderr_lines=()
	if [ -n "$separate" ]; then
		local errf="$COVE_TESTDIR/stderr.capture"
		output=$("$raw" "$@" 2>"$errf") && status=0 || status=$?
		stderr=$(cat "$errf")
		rm -f "$errf"
		IFS=$'\n' read -d '' -r -a stderr_lines <<<"$stderr" || true
	else
		output=$("$raw" "$@" 2>&1) && status=0 || status=$?
	fi
	lines=()
	IFS=$'\n' read -d '' -r -a lines <<<"$output" || true

	echo "cove $* (status=$status):" >&2
	echo "$output" >&2
	[ -n "$separate" ] && echo "stderr: $stderr" >&2
	if [ "$expect" = '!' ] && [ "$status" -eq 0 ]; then
		fail "expected a non-zero exit code, got 0"
		return 1
	elif [ -n "$expect" ] && [ "$expect" != '!' ] && [ "$status" -ne "$expect" ]; then
		fail "expected exit code $expect, got $status"
		return 1
	fi
	return 0
}

# True when the runtime under test is runc (tests use it to skip where runc
# legitimately differs from what cove promises).
function is_runc() {
	[ "$RUNTIME_NAME" = runc ]
}

function skip_if_runc() {
	is_runc && skip "runc differs: $*"
	return 0
}

function fail() {
	echo "$@" >&2
	return 1
}

# ---------------------------------------------------------------------------
# Bundles.

# A busybox-static rootfs, built once per bats run and copied per test.
function __busybox_template() {
	local tpl="$BATS_RUN_TMPDIR/busybox-rootfs"
	[ -d "$tpl" ] && return 0
	local tmp
	tmp=$(mktemp -d "$BATS_RUN_TMPDIR/busybox-rootfs.XXXXXX")
	chmod 755 "$tmp"
	mkdir -p "$tmp"/{bin,etc,dev,proc,sys,tmp,root,run,var,home/bats}
	chmod 1777 "$tmp/tmp"
	cp "$BUSYBOX" "$tmp/bin/busybox"
	local applet
	for applet in $("$BUSYBOX" --list); do
		[ -e "$tmp/bin/$applet" ] || ln -s busybox "$tmp/bin/$applet"
	done
	# Some programs are looked up in /usr/bin or /sbin.
	mkdir -p "$tmp/usr"
	ln -s ../bin "$tmp/usr/bin"
	ln -s bin "$tmp/sbin"
	cat >"$tmp/etc/passwd" <<-'EOF'
		root:x:0:0:root:/root:/bin/sh
		bats:x:1000:1000:bats:/home/bats:/bin/sh
		nobody:x:65534:65534:nobody:/nonexistent:/bin/false
	EOF
	cat >"$tmp/etc/group" <<-'EOF'
		root:x:0:
		users:x:100:bats
		bats:x:1000:
		nogroup:x:65534:
	EOF
	echo "cove-bats" >"$tmp/etc/hostname"
	# Another (parallel) file may have won the race; either copy is fine.
	mv -T "$tmp" "$tpl" 2>/dev/null || rm -rf "$tmp"
}

# Sets up the per-test directories and a busybox bundle as the cwd, with
# config.json from `$COVE spec`, args `sh` replaced as given (default:
# `sleep 100`), terminal=false, and a unique cgroupsPath.
function setup_busybox() {
	requires root
	[ -x "$COVE" ] || skip "no runtime at $COVE (set COVE=...)"
	COVE_TESTDIR=$(mktemp -d "$BATS_RUN_TMPDIR/cove.XXXXXX")
	COVE_ROOT="$COVE_TESTDIR/state"
	BUNDLE="$COVE_TESTDIR/bundle"
	mkdir -p "$COVE_ROOT" "$BUNDLE"
	: >"$COVE_TESTDIR/ids"
	: >"$COVE_TESTDIR/cgroups"
	# A unique id per test: cgroup dirs are checked by name, and another
	# bats run may be going on at the same time.
	CT="ct${BATS_SUITE_TEST_NUMBER:-0}-$$-$RANDOM"

	__busybox_template
	cp -a "$BATS_RUN_TMPDIR/busybox-rootfs" "$BUNDLE/rootfs"
	cd "$BUNDLE" || return 1

	"$COVE" spec || fail "$COVE spec failed" || return 1
	update_config '.process.args = ["sleep", "100"] | .process.terminal = false'
	set_cgroups_path
}

# Update config.json with a jq expression.
function update_config() {
	local cfg="${2:-$BUNDLE/config.json}"
	jq "$1" "$cfg" >"$cfg.tmp" || {
		rm -f "$cfg.tmp"
		fail "update_config: jq failed: $1"
		return 1
	}
	mv "$cfg.tmp" "$cfg"
}

# set_args ARG...: process.args of config.json, taken literally.
function set_args() {
	local a json
	json=$(for a in "$@"; do jq -n --arg v "$a" '$v'; done | jq -s -c .)
	update_config ".process.args = $json"
}

# run_sh [-N|!] SCRIPT: `run` the container in the foreground with
# sh -c SCRIPT as its process; sets $status and $output.
function run_sh() {
	local flags=()
	while [[ "$1" =~ ^(-[0-9]+|!|--separate-stderr)$ ]]; do
		flags+=("$1")
		shift
	done
	set_args sh -c "$1"
	cove "${flags[@]}" run "$CT"
}

# set_cgroups_path [SUFFIX]: a fresh, unique one-level cgroupsPath (one level,
# so that no parent dir is left behind by either runtime). Call again with a
# suffix before creating another container from the same bundle.
function set_cgroups_path() {
	local p="/cove-bats-${CT}${1:+-$1}"
	echo "$p" >>"$COVE_TESTDIR/cgroups"
	update_config ".linux.cgroupsPath = \"$p\""
	CGROUPS_PATH=$p
}

# Path of the container's cgroup for a v1 controller (or "unified").
function cgroup_dir() {
	echo "/sys/fs/cgroup/$1$CGROUPS_PATH"
}

# ---------------------------------------------------------------------------
# Requirements.

# requires FEATURE...: skip the test unless every feature is available.
function requires() {
	local var
	for var in "$@"; do
		local skip_me=""
		case $var in
		root) [ "$(id -u)" -eq 0 ] || skip_me=1 ;;
		python3) [ -n "$PYTHON" ] || skip_me=1 ;;
		ip) command -v ip >/dev/null || skip_me=1 ;;
		userns) [ -e /proc/self/ns/user ] && [ -e /proc/self/uid_map ] || skip_me=1 ;;
		timens) [ -e /proc/self/timens_offsets ] || skip_me=1 ;;
		cgroupns) [ -e /proc/self/ns/cgroup ] || skip_me=1 ;;
		seccomp) grep -q '^Seccomp:' /proc/self/status || skip_me=1 ;;
		cgroups_v1) [ "$(stat -f -c %t /sys/fs/cgroup)" != 63677270 ] || skip_me=1 ;;
		ref_runc) [ -n "$REF_RUNC" ] || skip_me=1 ;;
		*)
			fail "BUG: invalid requires $var"
			return 1
			;;
		esac
		if [ -n "$skip_me" ]; then
			skip "test requires $var"
		fi
	done
}

# ---------------------------------------------------------------------------
# Waiting and state.

# retry ATTEMPTS DELAY CMD...: run CMD until it succeeds.
function retry() {
	local attempts=$1 delay=$2 i
	shift 2
	for ((i = 0; i < attempts; i++)); do
		if "$@"; then
			return 0
		fi
		sleep "$delay"
	done
	echo "command \"$*\" failed $attempts times" >&2
	return 1
}

function __state_is() {
	local st
	st=$(__cove state "$1" 2>/dev/null | jq -r .status) || return 1
	[ "$st" = "$2" ]
}

# wait_for_container ATTEMPTS DELAY ID [STATUS]
function wait_for_container() {
	if [ $# -eq 3 ]; then
		retry "$1" "$2" eval '__cove state "$3" >/dev/null 2>&1'
	elif [ $# -eq 4 ]; then
		retry "$1" "$2" __state_is "$3" "$4"
	else
		fail "usage: wait_for_container ATTEMPTS DELAY ID [STATUS]"
	fi
}

# testcontainer ID STATUS: the state JSON says STATUS.
function testcontainer() {
	local out
	out=$(__cove state "$1") || fail "state $1 failed: $out" || return 1
	local st
	st=$(jq -r .status <<<"$out")
	[ "$st" = "$2" ] || fail "container $1: status $st, want $2" || return 1
}

# Pid of the container's init process, from the state JSON.
function container_pid() {
	__cove state "$1" | jq -r .pid
}

# wait_for_file ATTEMPTS FILE: wait for FILE to exist and be non-empty
# (0.1 s between attempts).
function wait_for_file() {
	retry "$1" 0.1 test -s "$2"
}

# ---------------------------------------------------------------------------
# Console socket receiver (bats/recvtty.py).

# setup_recvtty [NAME [INPUT]]: start a console-socket receiver
# (bats/recvtty.py). CONSOLE_SOCKET is its socket; what the container
# writes to the terminal ends up in $TTY_OUT; $TTY_INFO gets the message
# sent with the fd. INPUT is written to the terminal once it arrives.
function setup_recvtty() {
	requires python3
	local dir="$COVE_TESTDIR/tty-${1:-main}"
	mkdir -p "$dir"
	CONSOLE_SOCKET="$dir/sock"
	TTY_OUT="$dir/out"
	TTY_INFO="$dir/info"
	local input_args=()
	[ $# -gt 1 ] && input_args=(--input "$2")
	("$PYTHON" "$BATS_DIR/recvtty.py" --pid-file "$dir/pid" --info "$TTY_INFO" \
		"${input_args[@]}" "$CONSOLE_SOCKET" "$TTY_OUT" </dev/null >"$dir/log" 2>&1 &)
	retry 50 0.1 test -S "$CONSOLE_SOCKET" || fail "recvtty did not start: $(cat "$dir/log")"
}

function teardown_recvtty() {
	local p
	for p in "$COVE_TESTDIR"/tty-*/pid; do
		[ -s "$p" ] && kill -9 "$(cat "$p")" 2>/dev/null
	done
	return 0
}

# ---------------------------------------------------------------------------
# Teardown.

function __pid_alive() {
	local st
	[ -r "/proc/$1/stat" ] || return 1
	st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

function __cgroup_leftovers() {
	local p d
	# The cgroupsPath of every container the test configured...
	while read -r p; do
		[ -z "$p" ] && continue
		for d in /sys/fs/cgroup/*"$p"; do
			[ -d "$d" ] && echo "$d"
		done
	done <"$COVE_TESTDIR/cgroups"
	# ...and any cgroup named after one of its containers (default paths).
	find /sys/fs/cgroup -maxdepth 6 -type d -name "${CT}*" 2>/dev/null
}

# Processes whose cwd or root is inside this test's dir (but not bats' own
# shells, which run in the bundle).
function __processes_in_testdir() {
	local link pid comm
	# From /, so that find and sort themselves are not in the test dir.
	(
		cd / || exit
		find /proc -mindepth 2 -maxdepth 2 \( -name cwd -o -name root \) \
			-lname "$COVE_TESTDIR*" 2>/dev/null |
			while read -r link; do
				pid=${link#/proc/}
				pid=${pid%%/*}
				read -r comm <"/proc/$pid/comm" 2>/dev/null || continue
				case "$comm" in
				bash | bats*) continue ;;
				esac
				echo "$pid"
			done | sort -u
	)
}

# assert_nothing_left: after a failed create/run, no state dir, cgroup dir,
# process or mount of this test may exist.
function assert_nothing_left() {
	local left
	left=$(ls -A "$COVE_ROOT" 2>/dev/null)
	[ -z "$left" ] || fail "state left under the root: $left" || return 1
	left=$(__cgroup_leftovers)
	[ -z "$left" ] || fail "cgroup left: $left" || return 1
	left=$(__processes_in_testdir)
	[ -z "$left" ] || fail "processes left: $left" || return 1
	left=$(grep -F "$COVE_TESTDIR" /proc/self/mountinfo || true)
	[ -z "$left" ] || fail "mounts left: $left" || return 1
}

# Extra cleanups registered by tests (netns, files outside the test dir):
# `defer CMD...`; run in reverse order at teardown.
function defer() {
	DEFERRED+=("$(printf '%q ' "$@")")
}

function teardown_bundle() {
	[ -z "$COVE_TESTDIR" ] && return 0
	cd "$BATS_DIR" || true
	local problems=() ids=() id pids=() pid

	teardown_recvtty

	# Every container this test made: recorded ids, state dirs, `list -q`.
	mapfile -t ids < <(
		{
			cat "$COVE_TESTDIR/ids"
			ls -1 "$COVE_ROOT" 2>/dev/null
			__cove list -q 2>/dev/null
		} | sort -u | grep -v '^$'
	)
	for id in "${ids[@]}"; do
		pid=$(__cove state "$id" 2>/dev/null | jq -r '.pid // 0' 2>/dev/null)
		[ -n "$pid" ] && [ "$pid" != 0 ] && pids+=("$pid")
		__cove delete --force "$id" >/dev/null 2>&1 || true
	done

	# Nothing may be left behind.
	for id in "${ids[@]}"; do
		if [ -e "$COVE_ROOT/$id" ]; then
			problems+=("state dir left: $COVE_ROOT/$id")
		fi
	done
	for pid in "${pids[@]}"; do
		if ! retry 20 0.05 eval '! __pid_alive '"$pid" 2>/dev/null; then
			problems+=("process left: $pid ($(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null))")
			kill -9 "$pid" 2>/dev/null || true
		fi
	done
	local left
	if ! retry 20 0.05 eval '[ -z "$(__cgroup_leftovers)" ]' 2>/dev/null; then
		for left in $(__cgroup_leftovers); do
			problems+=("cgroup left: $left")
			# Clean it up so that runs do not accumulate garbage.
			local p
			for p in $(cat "$left/cgroup.procs" 2>/dev/null); do
				kill -9 "$p" 2>/dev/null || true
			done
		done
		sleep 0.2
		for left in $(__cgroup_leftovers | sort -r); do
			rmdir "$left" 2>/dev/null || true
		done
	fi
	# The test's own cleanups (host mounts, netns...) before the mount check.
	local i
	for ((i = ${#DEFERRED[@]} - 1; i >= 0; i--)); do
		eval "${DEFERRED[$i]}" || true
	done
	DEFERRED=()

	local mounts
	mounts=$(grep -F "$COVE_TESTDIR" /proc/self/mountinfo || true)
	if [ -n "$mounts" ]; then
		problems+=("mounts left: $mounts")
		awk '{print $5}' <<<"$mounts" | grep -F "$COVE_TESTDIR" | sort -r |
			while read -r m; do umount -l "$m" 2>/dev/null || true; done
	fi

	rm -rf "$COVE_TESTDIR"
	COVE_TESTDIR=""

	if [ ${#problems[@]} -gt 0 ]; then
		printf 'teardown: %s\n' "${problems[@]}" >&2
		return 1
	fi
}

DEFERRED=()

# Default setup/teardown; files override as needed.
function setup() {
	setup_busybox
}

function teardown() {
	teardown_bundle
}
