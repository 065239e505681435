#!/usr/bin/env bats
# Global flags: --version, --help, --root, --log, --log-format, --debug,
# --systemd-cgroup.

load helpers

# The commands every client uses.
COMMANDS=(create start run state kill delete list exec ps spec features)
# runc's other commands (no checkpoint/restore in cove).
MORE_COMMANDS=(pause resume update events)

# Long flags in a help text's options section (runc "OPTIONS:", CLI11 "Options:").
function long_flags() {
	sed -n '/[Oo][Pp][Tt][Ii][Oo][Nn][Ss]:/,$p' | grep -oE '(^|[ ,])--[a-z][a-z0-9-]*' | tr -d ' ,' | sort -u
}

@test "--version and -v" {
	cove -0 --version
	[[ "${lines[0]}" =~ ^$RUNTIME_NAME\ version\ [0-9] ]]
	# The runtime-spec version, like runc's "spec: 1.0.2-dev" line.
	[[ "$output" =~ (^|$'\n')spec:\ 1\.[0-9]+\.[0-9]+ ]]
	local v=$output
	cove -0 -v
	[ "$output" = "$v" ]
}

@test "--help lists the commands" {
	cove -0 --help
	local c
	for c in "${COMMANDS[@]}"; do
		[[ "$output" =~ (^|$'\n')\ +$c\ + ]] || fail "command $c not in --help"
	done
	[[ "$output" == *--root* ]]
	[[ "$output" == *--log-format* ]]
}

@test "--help on every command" {
	local c
	for c in "${COMMANDS[@]}"; do
		cove -0 "$c" --help
		[[ "$output" == *"$c"* ]] || fail "$c --help does not name the command"
		[[ "$output" == *[Uu][Ss][Aa][Gg][Ee]* ]] || fail "$c --help has no usage"
		cove -0 "$c" -h
	done
}

@test "pause, resume, update and events exist" {
	local c
	for c in "${MORE_COMMANDS[@]}"; do
		cove -0 "$c" --help
		[[ "$output" == *"$c"* ]] || fail "$c --help does not name the command"
		[[ "$output" != *"Subcommands:"* ]] || fail "$c --help is the top-level help"
	done
}

@test "every command has runc's flags" {
	requires ref_runc
	local c missing=()
	for c in "${COMMANDS[@]}" "${MORE_COMMANDS[@]}"; do
		local want have f
		want=$("$REF_RUNC" "$c" --help | long_flags)
		have=$(__cove "$c" --help | long_flags)
		for f in $want; do
			grep -qx -- "$f" <<<"$have" || missing+=("$c $f")
		done
	done
	[ ${#missing[@]} -eq 0 ] || fail "missing: ${missing[*]}"
}

@test "runc's global flags are there" {
	requires ref_runc
	local want have f missing=()
	want=$("$REF_RUNC" --help | sed -n '/GLOBAL OPTIONS:/,$p' | long_flags)
	have=$(__cove --help | long_flags)
	for f in $want; do
		# No checkpoint/restore in cove.
		[ "$f" = --criu ] && continue
		grep -qx -- "$f" <<<"$have" || missing+=("$f")
	done
	[ ${#missing[@]} -eq 0 ] || fail "missing: ${missing[*]}"
}

@test "unknown command fails" {
	cove ! no-such-command
	[[ "$output" == *no-such-command* ]]
}

@test "unknown flag fails" {
	cove ! list --no-such-flag
	[[ "$output" == *no-such-flag* ]]
	cove ! --no-such-global list
}

@test "--root: containers live under the given root" {
	cove -0 create "$CT"
	[ -d "$COVE_ROOT/$CT" ]
	# Another root does not see it.
	run -0 "$COVE" --root "$COVE_TESTDIR/other" list -q
	[ -z "$output" ]
	run -1 "$COVE" --root "$COVE_TESTDIR/other" state "$CT"
}

@test "--root is created if missing, with mode 0700" {
	local r="$COVE_TESTDIR/new/root"
	echo "$CT" >>"$COVE_TESTDIR/ids"
	# Not through `run`: the container would hold its output pipe.
	"$COVE" --root "$r" create --bundle "$BUNDLE" "$CT" </dev/null >/dev/null 2>&1
	[ -d "$r/$CT" ]
	[ "$(stat -c %a "$r")" = 700 ]
	"$COVE" --root "$r" delete --force "$CT"
	[ ! -e "$r/$CT" ]
}

@test "--log --log-format json: one JSON object per line with level, msg, time" {
	cove -1 --log "$COVE_TESTDIR/log.json" --log-format json delete nonexistent
	[ -s "$COVE_TESTDIR/log.json" ]
	local line
	while read -r line; do
		[ "$(jq -r 'type' <<<"$line")" = object ] || fail "not a JSON object: $line"
		[ "$(jq -r '.level | type' <<<"$line")" = string ] || fail "no level: $line"
		[ "$(jq -r '.msg | type' <<<"$line")" = string ] || fail "no msg: $line"
		[[ "$(jq -r '.time' <<<"$line")" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2} ]] || fail "bad time: $line"
	done <"$COVE_TESTDIR/log.json"
	# containerd's shim reads the last error from here.
	local last
	last=$(tail -n1 "$COVE_TESTDIR/log.json")
	[ "$(jq -r .level <<<"$last")" = error ]
	[[ "$(jq -r .msg <<<"$last")" == *"does not exist"* ]]
	# stderr still has the error.
	[[ "$output" == *"does not exist"* ]]
}

@test "--log --log-format text" {
	cove -1 --log "$COVE_TESTDIR/log.txt" --log-format text delete nonexistent
	grep -q 'level=error' "$COVE_TESTDIR/log.txt"
	grep -q 'msg=".*does not exist' "$COVE_TESTDIR/log.txt"
	grep -q '^time="' "$COVE_TESTDIR/log.txt"
}

@test "--log without --log-format is text" {
	cove -1 --log "$COVE_TESTDIR/log.txt" delete nonexistent
	grep -q 'level=error' "$COVE_TESTDIR/log.txt"
}

@test "--log appends" {
	echo '{"level":"info","msg":"before","time":"2020-01-01T00:00:00Z"}' >"$COVE_TESTDIR/log.json"
	cove -1 --log "$COVE_TESTDIR/log.json" --log-format json delete nonexistent
	[ "$(head -n1 "$COVE_TESTDIR/log.json" | jq -r .msg)" = before ]
	[ "$(wc -l <"$COVE_TESTDIR/log.json")" -ge 2 ]
}

@test "--log-format with a bad value fails" {
	cove -1 --log-format xml list
	[[ "$output" == *xml* ]]
}

@test "--debug --log --log-format json: debug lines in the log, not on stderr" {
	update_config '.process.args = ["true"]'
	cove -0 --debug --log "$COVE_TESTDIR/debug.json" --log-format json run "$CT"
	[[ "$output" != *debug* ]]
	grep -q '"level":"debug"' "$COVE_TESTDIR/debug.json"
	local line
	while read -r line; do
		jq -e '.level and .msg and .time' <<<"$line" >/dev/null || fail "bad line: $line"
	done <"$COVE_TESTDIR/debug.json"
}

@test "--debug without --log: debug lines on stderr" {
	update_config '.process.args = ["true"]'
	cove -0 --separate-stderr --debug run "$CT"
	# runc: logrus text, "level=debug"; cove may word it its own way.
	[[ "$stderr" == *[Dd][Ee][Bb][Uu][Gg]* ]]
	[ -z "$output" ]
}

@test "--systemd-cgroup without systemd: a clear error, nothing left" {
	if [ -d /run/systemd/system ]; then
		skip "systemd is running here"
	fi
	update_config '.linux.cgroupsPath = "system.slice:cove-bats:'"$CT"'"'
	cove -1 --systemd-cgroup run "$CT"
	[[ "$output" == *systemd* ]]
	[ -z "$(ls -A "$COVE_ROOT")" ]
	[ -z "$(find /sys/fs/cgroup -maxdepth 3 -name "*$CT*")" ]
}
