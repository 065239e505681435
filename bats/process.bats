#!/usr/bin/env bats
# The process object: env, cwd, user, umask, rlimits, noNewPrivileges,
# capabilities, oomScoreAdj.

load helpers

# cap_hex CAP_NUMBER...: the /proc/PID/status mask with these bits set.
function cap_hex() {
	local m=0 b
	for b in "$@"; do
		m=$((m | (1 << b)))
	done
	printf '%016x\n' "$m"
}

# status_field OUTPUT NAME: the value of "NAME:" in /proc/self/status output.
function status_field() {
	awk -v f="$2:" '$1 == f { print $2 }' <<<"$1"
}

@test "env: exactly the configured environment (plus HOME from /etc/passwd)" {
	update_config '.process.env = ["FOO=bar", "EMPTY=", "WITH_EQ=a=b"]'
	# busybox env, without a shell that would add its own variables.
	set_args /bin/env
	cove -0 run "$CT"
	[ "$(sort <<<"$output")" = "$(printf '%s\n' EMPTY= FOO=bar HOME=/root WITH_EQ=a=b)" ]
}

@test "env: HOME from the config wins" {
	update_config '.process.env = ["PATH=/bin", "HOME=/elsewhere"]'
	run_sh -0 'echo $HOME'
	[ "$output" = /elsewhere ]
}

@test "env: HOME of a non-root user" {
	update_config '.process.env = ["PATH=/bin"] | .process.user = {"uid": 1000, "gid": 1000}'
	run_sh -0 'echo $HOME'
	[ "$output" = /home/bats ]
}

@test "cwd" {
	mkdir -p rootfs/work/dir
	update_config '.process.cwd = "/work/dir"'
	run_sh -0 'pwd'
	[ "$output" = /work/dir ]
}

@test "cwd that does not exist is created" {
	update_config '.process.cwd = "/new/cwd" | .root.readonly = false'
	run_sh -0 'pwd'
	[ "$output" = /new/cwd ]
}

@test "relative cwd is refused" {
	update_config '.process.cwd = "relative/dir"'
	run_sh ! 'pwd'
	[[ "$output" == *[Cc]wd* ]]
}

@test "user: uid, gid and additionalGids" {
	update_config '.process.user = {"uid": 1000, "gid": 100, "additionalGids": [10, 2000]}'
	run_sh -0 'id -u; id -g; id -G; grep -E "^(Uid|Gid|Groups):" /proc/self/status'
	[ "${lines[0]}" = 1000 ]
	[ "${lines[1]}" = 100 ]
	[ "${lines[2]}" = "100 10 2000" ]
	[[ "$(status_field "$output" Groups)" == 10 ]]
	[[ "$output" =~ Groups:[[:space:]]+10\ 2000 ]]
	[[ "$output" =~ Uid:[[:space:]]+1000[[:space:]]+1000[[:space:]]+1000[[:space:]]+1000 ]]
}

@test "user: no supplementary groups unless configured" {
	update_config '.process.user = {"uid": 1000, "gid": 1000}'
	run_sh -0 'grep ^Groups: /proc/self/status'
	[[ "$output" =~ ^Groups:[[:space:]]*$ ]]
}

@test "user: a uid without a passwd entry works" {
	update_config '.process.user = {"uid": 4242, "gid": 4343}'
	run_sh -0 'id -u; id -g'
	[ "${lines[0]}" = 4242 ]
	[ "${lines[1]}" = 4343 ]
}

@test "umask" {
	update_config '.process.user.umask = 23'
	run_sh -0 'umask'
	[ "$output" = 0027 ]
}

@test "default umask is 0022" {
	run_sh -0 'umask'
	[ "$output" = 0022 ]
}

@test "rlimits: the default RLIMIT_NOFILE 1024 of the spec" {
	run_sh -0 'ulimit -Sn; ulimit -Hn'
	[ "${lines[0]}" = 1024 ]
	[ "${lines[1]}" = 1024 ]
}

@test "rlimits: soft and hard set separately" {
	update_config '.process.rlimits = [
		{"type": "RLIMIT_NOFILE", "soft": 500, "hard": 600},
		{"type": "RLIMIT_CORE", "soft": 0, "hard": 0},
		{"type": "RLIMIT_NPROC", "soft": 300, "hard": 400}]'
	run_sh -0 'ulimit -Sn; ulimit -Hn; ulimit -c; ulimit -Su; ulimit -Hu'
	[ "$output" = "$(printf '%s\n' 500 600 0 300 400)" ]
}

@test "rlimits: raising a hard limit above the host's fails clearly" {
	local host_hard
	host_hard=$(ulimit -Hn)
	[ "$host_hard" = unlimited ] && skip "host nofile is unlimited"
	grep -q '^CapBnd:.*' /proc/self/status
	# Only when CAP_SYS_RESOURCE is missing from the bounding set (bit 24).
	local bnd
	bnd=$(awk '/^CapBnd:/ {print $2}' /proc/self/status)
	(((0x$bnd >> 24) & 1)) && skip "CAP_SYS_RESOURCE is available"
	update_config '.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 1024, "hard": '"$((host_hard + 1000))"'}]'
	run_sh ! 'true'
	[[ "$output" == *[Rr][Ll][Ii][Mm][Ii][Tt]* ]]
}

@test "rlimits: unknown type is refused" {
	update_config '.process.rlimits = [{"type": "RLIMIT_BOGUS", "soft": 1, "hard": 1}]'
	run_sh ! 'true'
	[[ "$output" == *RLIMIT_BOGUS* ]]
}

@test "noNewPrivileges true" {
	update_config '.process.noNewPrivileges = true'
	run_sh -0 'grep ^NoNewPrivs: /proc/self/status'
	[ "$(status_field "$output" NoNewPrivs)" = 1 ]
}

@test "noNewPrivileges false" {
	update_config '.process.noNewPrivileges = false'
	run_sh -0 'grep ^NoNewPrivs: /proc/self/status'
	[ "$(status_field "$output" NoNewPrivs)" = 0 ]
}

@test "capabilities: the spec's default set" {
	run_sh -0 'cat /proc/self/status'
	# CAP_KILL 5, CAP_NET_BIND_SERVICE 10, CAP_AUDIT_WRITE 29.
	local want
	want=$(cap_hex 5 10 29)
	[ "$(status_field "$output" CapBnd)" = "$want" ]
	[ "$(status_field "$output" CapEff)" = "$want" ]
	[ "$(status_field "$output" CapPrm)" = "$want" ]
	[ "$(status_field "$output" CapInh)" = 0000000000000000 ]
	[ "$(status_field "$output" CapAmb)" = 0000000000000000 ]
}

@test "capabilities: CAP_SYS_ADMIN added to bounding and permitted" {
	update_config '.process.capabilities = {
		"bounding": ["CAP_SYS_ADMIN", "CAP_KILL", "CAP_CHOWN"],
		"permitted": ["CAP_SYS_ADMIN", "CAP_KILL"],
		"effective": ["CAP_KILL"],
		"inheritable": [],
		"ambient": []}'
	run_sh -0 'cat /proc/self/status'
	[ "$(status_field "$output" CapBnd)" = "$(cap_hex 0 5 21)" ]
	[ "$(status_field "$output" CapPrm)" = "$(cap_hex 5 21)" ]
	# execve as uid 0 makes the effective set the permitted set.
	[ "$(status_field "$output" CapEff)" = "$(cap_hex 5 21)" ]
}

@test "capabilities: none at all" {
	update_config '.process.capabilities = {"bounding": [], "permitted": [], "effective": [], "inheritable": [], "ambient": []}'
	run_sh -0 'cat /proc/self/status'
	[ "$(status_field "$output" CapBnd)" = 0000000000000000 ]
	[ "$(status_field "$output" CapEff)" = 0000000000000000 ]
}

@test "capabilities: ambient for a non-root user" {
	update_config '.process.user = {"uid": 1000, "gid": 1000}
		| .process.capabilities = {
		"bounding": ["CAP_NET_BIND_SERVICE"], "permitted": ["CAP_NET_BIND_SERVICE"],
		"effective": ["CAP_NET_BIND_SERVICE"], "inheritable": ["CAP_NET_BIND_SERVICE"],
		"ambient": ["CAP_NET_BIND_SERVICE"]}'
	run_sh -0 'cat /proc/self/status'
	[ "$(status_field "$output" CapAmb)" = "$(cap_hex 10)" ]
	[ "$(status_field "$output" CapEff)" = "$(cap_hex 10)" ]
}

@test "capabilities: a non-root user without ambient has none effective" {
	update_config '.process.user = {"uid": 1000, "gid": 1000}'
	run_sh -0 'cat /proc/self/status'
	[ "$(status_field "$output" CapEff)" = 0000000000000000 ]
	[ "$(status_field "$output" CapBnd)" = "$(cap_hex 5 10 29)" ]
}

@test "capabilities: a missing capability really is missing" {
	update_config '.root.readonly = false'
	run_sh ! 'chown 1000 /etc/hostname'
	update_config '.process.capabilities.bounding += ["CAP_CHOWN"] | .process.capabilities.effective += ["CAP_CHOWN"] | .process.capabilities.permitted += ["CAP_CHOWN"]'
	run_sh -0 'chown 1000 /etc/hostname'
}

@test "capabilities: an unknown name is refused or ignored, never fatal later" {
	update_config '.process.capabilities.bounding += ["CAP_BOGUS"]'
	run_sh 'grep ^CapBnd: /proc/self/status'
	if [ "$status" -ne 0 ]; then
		[[ "$output" == *CAP_BOGUS* ]]
	else
		[[ "$output" == *"$(cap_hex 5 10 29)"* ]]
	fi
}

@test "oomScoreAdj" {
	update_config '.process.oomScoreAdj = 500'
	run_sh -0 'cat /proc/self/oom_score_adj'
	[ "$output" = 500 ]
}

@test "oomScoreAdj not set: inherited" {
	run_sh -0 'cat /proc/self/oom_score_adj'
	[ "$output" = "$(cat /proc/self/oom_score_adj)" ]
}

@test "args must not be empty" {
	update_config '.process.args = []'
	cove ! run "$CT"
	[[ "$output" == *args* ]]
}
