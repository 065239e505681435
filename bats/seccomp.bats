#!/usr/bin/env bats
# seccomp: actions, errnoRet, argument conditions, ordering with caps.

load helpers

function setup() {
	requires seccomp
	setup_busybox
	update_config '.root.readonly = false'
}

# seccomp_profile JSON-SYSCALLS [DEFAULT]: set linux.seccomp.
function seccomp_profile() {
	update_config '.linux.seccomp = {
		"defaultAction": "'"${2:-SCMP_ACT_ALLOW}"'",
		"architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
		"syscalls": '"$1"'}'
}

@test "seccomp: mkdir denied with EPERM" {
	seccomp_profile '[{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]'
	run_sh ! 'mkdir /newdir'
	[[ "$output" == *"Operation not permitted"* ]]
	[ ! -e rootfs/newdir ]
	# Other syscalls still work.
	run_sh -0 'touch /newfile'
}

@test "seccomp: errnoRet" {
	seccomp_profile '[{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]'
	run_sh ! 'mkdir /newdir'
	[[ "$output" == *"Permission denied"* ]]
	seccomp_profile '[{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 28}]'
	run_sh ! 'mkdir /newdir'
	[[ "$output" == *"No space left"* ]]
}

@test "seccomp: the filter is in place (Seccomp: 2)" {
	seccomp_profile '[{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}]'
	run_sh -0 'grep ^Seccomp: /proc/self/status'
	[[ "$output" =~ Seccomp:[[:space:]]+2 ]]
}

@test "seccomp: no profile, no filter" {
	update_config 'del(.linux.seccomp)'
	run_sh -0 'grep ^Seccomp: /proc/self/status'
	[[ "$output" =~ Seccomp:[[:space:]]+0 ]]
}

@test "seccomp: SCMP_ACT_KILL_PROCESS kills with SIGSYS" {
	seccomp_profile '[{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_KILL_PROCESS"}]'
	run_sh -0 'mkdir /newdir; echo rc=$?'
	# 128 + SIGSYS (31)
	[[ "$output" == *rc=159* ]]
}

@test "seccomp: argument condition" {
	# personality(PER_LINUX32) denied, personality(PER_LINUX) allowed.
	seccomp_profile '[{"names": ["personality"], "action": "SCMP_ACT_ERRNO",
		"args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]}]'
	run_sh ! 'linux32 true'
	run_sh -0 'linux64 true'
}

@test "seccomp: works for a non-root user without noNewPrivileges" {
	# The filter must be loaded while the runtime still has CAP_SYS_ADMIN.
	seccomp_profile '[{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]'
	update_config '.process.user = {"uid": 1000, "gid": 1000} | .process.noNewPrivileges = false'
	run_sh ! 'mkdir /tmp/newdir'
	[[ "$output" == *"Operation not permitted"* ]]
	run_sh -0 'grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status'
	[[ "$output" =~ NoNewPrivs:[[:space:]]+0 ]]
	[[ "$output" =~ Seccomp:[[:space:]]+2 ]]
}

@test "seccomp: applies to exec'd processes too" {
	seccomp_profile '[{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]'
	cove -0 run -d "$CT"
	cove ! exec "$CT" mkdir /tmp/x
	[[ "$output" == *"Operation not permitted"* ]]
}

@test "seccomp: unknown action is refused" {
	seccomp_profile '[{"names": ["mkdir"], "action": "SCMP_ACT_BOGUS"}]'
	run_sh ! 'true'
	[[ "$output" == *SCMP_ACT_BOGUS* ]]
}

@test "seccomp: unknown syscall names are skipped" {
	seccomp_profile '[{"names": ["no_such_syscall_cove", "mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]'
	run_sh ! 'mkdir /newdir'
	[[ "$output" == *"Operation not permitted"* ]]
}
