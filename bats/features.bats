#!/usr/bin/env bats
# `features`: the OCI features document (runtime-spec features.md).

load helpers

function setup() {
	setup_busybox
	cove -0 features
	FEATURES=$output
}

@test "features: valid JSON object, exit 0" {
	[ "$(jq -r type <<<"$FEATURES")" = object ]
}

@test "features: ociVersionMin and ociVersionMax" {
	[[ "$(jq -r .ociVersionMin <<<"$FEATURES")" =~ ^1\.0\.[0-9]+$ ]]
	[[ "$(jq -r .ociVersionMax <<<"$FEATURES")" =~ ^1\.[0-9]+\.[0-9]+(-dev)?$ ]]
}

@test "features: hooks lists the six kinds" {
	local h
	for h in prestart createRuntime createContainer startContainer poststart poststop; do
		jq -e --arg h "$h" '.hooks | index($h)' <<<"$FEATURES" >/dev/null || fail "hook $h missing"
	done
}

@test "features: mountOptions" {
	local o
	for o in ro rw bind rbind nosuid nodev noexec relatime noatime rro private rprivate \
		shared rshared slave rslave unbindable runbindable remount; do
		jq -e --arg o "$o" '.mountOptions | index($o)' <<<"$FEATURES" >/dev/null || fail "mount option $o missing"
	done
	# Sorted, no duplicates.
	[ "$(jq -c '.mountOptions' <<<"$FEATURES")" = "$(jq -c '.mountOptions | unique' <<<"$FEATURES")" ]
}

@test "features: linux.namespaces" {
	local n
	for n in cgroup ipc mount network pid user uts; do
		jq -e --arg n "$n" '.linux.namespaces | index($n)' <<<"$FEATURES" >/dev/null || fail "namespace $n missing"
	done
	# Only the names the spec knows.
	[ "$(jq -r '.linux.namespaces - ["cgroup","ipc","mount","network","pid","user","uts","time"] | length' <<<"$FEATURES")" = 0 ]
}

@test "features: linux.capabilities has every kernel capability" {
	local last
	last=$(cat /proc/sys/kernel/cap_last_cap)
	[ "$(jq -r '.linux.capabilities | length' <<<"$FEATURES")" -ge "$((last + 1))" ]
	local c
	for c in CAP_CHOWN CAP_KILL CAP_NET_ADMIN CAP_SYS_ADMIN CAP_SYS_RESOURCE CAP_BPF CAP_CHECKPOINT_RESTORE; do
		jq -e --arg c "$c" '.linux.capabilities | index($c)' <<<"$FEATURES" >/dev/null || fail "$c missing"
	done
	[ "$(jq -r '[.linux.capabilities[] | select(startswith("CAP_") | not)] | length' <<<"$FEATURES")" = 0 ]
}

@test "features: linux.cgroup" {
	[ "$(jq -r '.linux.cgroup.v1 | type' <<<"$FEATURES")" = boolean ]
	[ "$(jq -r '.linux.cgroup.v2 | type' <<<"$FEATURES")" = boolean ]
	[ "$(jq -r '.linux.cgroup.v1' <<<"$FEATURES")" = true ]
}

@test "features: linux.seccomp" {
	[ "$(jq -r .linux.seccomp.enabled <<<"$FEATURES")" = true ]
	local a
	for a in SCMP_ACT_ALLOW SCMP_ACT_ERRNO SCMP_ACT_KILL SCMP_ACT_KILL_PROCESS SCMP_ACT_TRAP SCMP_ACT_LOG; do
		jq -e --arg a "$a" '.linux.seccomp.actions | index($a)' <<<"$FEATURES" >/dev/null || fail "$a missing"
	done
	for a in SCMP_CMP_EQ SCMP_CMP_NE SCMP_CMP_MASKED_EQ; do
		jq -e --arg a "$a" '.linux.seccomp.operators | index($a)' <<<"$FEATURES" >/dev/null || fail "$a missing"
	done
	jq -e '.linux.seccomp.archs | index("SCMP_ARCH_X86_64")' <<<"$FEATURES" >/dev/null
}

@test "features: apparmor and selinux are objects with enabled" {
	[ "$(jq -r '.linux.apparmor.enabled | type' <<<"$FEATURES")" = boolean ]
	[ "$(jq -r '.linux.selinux.enabled | type' <<<"$FEATURES")" = boolean ]
}

@test "features: annotations is a string map" {
	[ "$(jq -r '.annotations | type' <<<"$FEATURES")" = object ]
	[ "$(jq -r '[.annotations[] | type] | unique | join(",")' <<<"$FEATURES")" = string ]
}

@test "features: indented like runc (4 spaces, final newline)" {
	# runc prints json.MarshalIndent(..., "", "    ") and a newline.
	cove -0 features
	[ "${lines[0]}" = "{" ]
	[ "${lines[1]:0:5}" = "    \"" ]
	[ "$(__cove features | tail -c1 | od -An -tx1 | tr -d ' ')" = 0a ]
}

@test "features: takes no arguments" {
	cove ! features extra
}
