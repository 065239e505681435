#!/usr/bin/env bats
# Hooks: each kind gets the state on stdin, in order; env and args;
# timeouts; failures.

load helpers

function setup() {
	setup_busybox
	HOOKS="$COVE_TESTDIR/hooks"
	mkdir -p "$HOOKS"
	# hook.sh KIND: log KIND, save stdin as KIND.json and the env as KIND.env.
	cat >"$COVE_TESTDIR/hook.sh" <<-EOF
		#!/bin/sh
		echo "\$1" >>"$HOOKS/order"
		env >"$HOOKS/\$1.env"
		cat >"$HOOKS/\$1.json"
	EOF
	chmod 755 "$COVE_TESTDIR/hook.sh"
	update_config '.root.readonly = false'
}

# hook KIND: a hook entry that runs hook.sh KIND.
function hook() {
	echo '{"path": "'"$COVE_TESTDIR/hook.sh"'", "args": ["hook.sh", "'"$1"'"]}'
}

# The startContainer hook runs in the container, after pivot_root: its
# path resolves in the rootfs.
START_HOOK='{"path": "/bin/sh", "args": ["sh", "-c", "cat > /tmp/startContainer.json"]}'

# Every kind but createContainer, which has its own test.
function all_hooks() {
	update_config '.hooks = {
		"prestart": ['"$(hook prestart)"'],
		"createRuntime": ['"$(hook createRuntime)"'],
		"startContainer": ['"$START_HOOK"'],
		"poststart": ['"$(hook poststart)"'],
		"poststop": ['"$(hook poststop)"']}'
}

@test "hooks: create runs prestart, then createRuntime, with state on stdin" {
	all_hooks
	cove -0 create "$CT"
	[ "$(head -n2 "$HOOKS/order")" = "$(printf '%s\n' prestart createRuntime)" ]
	local pid kind
	pid=$(container_pid "$CT")
	for kind in prestart createRuntime; do
		local s
		s=$(cat "$HOOKS/$kind.json")
		[ "$(jq -r .id <<<"$s")" = "$CT" ] || fail "$kind: id"
		[ "$(jq -r .status <<<"$s")" = creating ] || fail "$kind: status"
		[ "$(jq -r .bundle <<<"$s")" = "$BUNDLE" ] || fail "$kind: bundle"
		[[ "$(jq -r .ociVersion <<<"$s")" =~ ^1\. ]] || fail "$kind: ociVersion"
	done
	# Runtime-namespace hooks see the host pid of the init.
	[ "$(jq -r .pid "$HOOKS/prestart.json")" = "$pid" ]
	[ "$(jq -r .pid "$HOOKS/createRuntime.json")" = "$pid" ]
	# The user process has not started.
	[ ! -e rootfs/tmp/startContainer.json ]
}

@test "hooks: createContainer runs after createRuntime, its path and files resolve on the host" {
	# Like runc: in the container's mount namespace before pivot_root, so a
	# host path works (nvidia-container-toolkit's hook relies on this).
	update_config '.hooks.createRuntime = ['"$(hook createRuntime)"']
		| .hooks.createContainer = ['"$(hook createContainer)"']'
	cove -0 create "$CT"
	[ "$(cat "$HOOKS/order")" = "$(printf '%s\n' createRuntime createContainer)" ]
	local s
	s=$(cat "$HOOKS/createContainer.json")
	[ "$(jq -r .id <<<"$s")" = "$CT" ]
	[ "$(jq -r .status <<<"$s")" = creating ]
	[ "$(jq -r .bundle <<<"$s")" = "$BUNDLE" ]
}

@test "hooks: createContainer runs in the container's namespaces" {
	update_config '.hooks.createContainer = [{"path": "/bin/sh", "args": ["sh", "-c",
		"cat >/dev/null; readlink /proc/self/ns/mnt > '"$HOOKS"'/mnt;"]}]'
	cove -0 create "$CT"
	local pid
	pid=$(container_pid "$CT")
	[ "$(cat "$HOOKS/mnt")" = "$(readlink "/proc/$pid/ns/mnt")" ]
}

@test "hooks: start runs startContainer in the container, then poststart" {
	skip_if_runc "runc 1.1 runs poststart hooks at create time (fixed in 1.2)"
	all_hooks
	cove -0 create "$CT"
	[ ! -e "$HOOKS/poststart.json" ]
	cove -0 start "$CT"
	wait_for_file 50 "$HOOKS/poststart.json"
	local s
	s=$(cat rootfs/tmp/startContainer.json)
	[ "$(jq -r .id <<<"$s")" = "$CT" ]
	s=$(cat "$HOOKS/poststart.json")
	[ "$(jq -r .id <<<"$s")" = "$CT" ]
	[ "$(jq -r .pid <<<"$s")" = "$(container_pid "$CT")" ]
	[[ "$(jq -r .status <<<"$s")" =~ ^(created|running)$ ]]
}

@test "hooks: startContainer runs inside the container" {
	update_config '.hooks.startContainer = [{"path": "/bin/sh", "args": ["sh", "-c",
		"cat > /tmp/startContainer.json; hostname > /tmp/hook-hostname; readlink /proc/self/ns/mnt > /tmp/hook-mnt"]}]
		| .hostname = "in-container"'
	cove -0 create "$CT"
	[ ! -e rootfs/tmp/startContainer.json ]
	cove -0 start "$CT"
	wait_for_file 50 rootfs/tmp/hook-mnt
	[ "$(cat rootfs/tmp/hook-hostname)" = in-container ]
	[ "$(cat rootfs/tmp/hook-mnt)" = "$(readlink "/proc/$(container_pid "$CT")/ns/mnt")" ]
	[ "$(jq -r .id rootfs/tmp/startContainer.json)" = "$CT" ]
}

@test "hooks: poststop runs at delete with status stopped" {
	all_hooks
	cove -0 run -d "$CT"
	[ ! -e "$HOOKS/poststop.json" ]
	cove -0 kill "$CT" KILL
	wait_for_container 50 0.1 "$CT" stopped
	cove -0 delete "$CT"
	local s
	s=$(cat "$HOOKS/poststop.json")
	[ "$(jq -r .id <<<"$s")" = "$CT" ]
	[ "$(jq -r .status <<<"$s")" = stopped ]
	[ "$(tail -n1 "$HOOKS/order")" = poststop ]
}

@test "hooks: poststop runs at delete --force of a running container" {
	update_config '.hooks.poststop = ['"$(hook poststop)"']'
	cove -0 run -d "$CT"
	cove -0 delete --force "$CT"
	[ "$(jq -r .status "$HOOKS/poststop.json")" = stopped ]
}

@test "hooks: foreground run runs poststop when the process exits" {
	update_config '.process.args = ["true"] | .hooks.poststop = ['"$(hook poststop)"']'
	cove -0 run "$CT"
	[ "$(jq -r .id "$HOOKS/poststop.json")" = "$CT" ]
}

@test "hooks: several hooks of one kind run in order" {
	update_config '.hooks.createRuntime = ['"$(hook one)"', '"$(hook two)"', '"$(hook three)"']'
	cove -0 create "$CT"
	[ "$(cat "$HOOKS/order")" = "$(printf '%s\n' one two three)" ]
}

@test "hooks: env is the hook's own, args are passed with argv[0]" {
	cat >"$COVE_TESTDIR/argv.sh" <<-EOF
		#!/bin/sh
		echo "\$0|\$*" >"$HOOKS/argv"
		env >"$HOOKS/env"
	EOF
	chmod 755 "$COVE_TESTDIR/argv.sh"
	update_config '.hooks.createRuntime = [{"path": "'"$COVE_TESTDIR/argv.sh"'",
		"args": ["argv.sh", "a b", "c"], "env": ["HOOK_VAR=hook-value"]}]'
	COVE_BATS_LEAK=leaked cove -0 create "$CT"
	[ "$(cat "$HOOKS/argv")" = "$COVE_TESTDIR/argv.sh|a b c" ]
	grep -qx HOOK_VAR=hook-value "$HOOKS/env"
	run ! grep -q COVE_BATS_LEAK "$HOOKS/env"
}

@test "hooks: timeout kills the hook and fails create, leaving nothing" {
	update_config '.hooks.createRuntime = [{"path": "/bin/sleep", "args": ["sleep", "7.731"], "timeout": 1}]'
	local start=$SECONDS
	cove ! create "$CT"
	[ $((SECONDS - start)) -lt 5 ]
	[[ "$output" == *time* ]]
	run ! pgrep -f 'sleep 7.731'
	[ ! -e "$COVE_ROOT/$CT" ]
	[ ! -d "$(cgroup_dir pids)" ]
}

@test "hooks: a hook within its timeout is fine" {
	update_config '.hooks.createRuntime = [{"path": "/bin/sh", "args": ["sh", "-c", "cat >/dev/null; sleep 0.2"], "timeout": 5}]'
	cove -0 create "$CT"
}

@test "hooks: failing createRuntime hook fails create and leaves nothing" {
	update_config '.hooks.createRuntime = [{"path": "/bin/sh", "args": ["sh", "-c", "cat >/dev/null; echo hook-said-no >&2; exit 3"]}]'
	cove ! create "$CT"
	[[ "$output" == *hook* ]]
	[ ! -e "$COVE_ROOT/$CT" ]
	[ ! -d "$(cgroup_dir pids)" ]
	cove -1 state "$CT"
	[ -z "$(pgrep -f "$BUNDLE" || true)" ]
}

@test "hooks: failing prestart hook fails create and leaves nothing" {
	update_config '.hooks.prestart = [{"path": "/bin/false"}]'
	cove ! create "$CT"
	[ ! -e "$COVE_ROOT/$CT" ]
	[ ! -d "$(cgroup_dir pids)" ]
}

@test "hooks: failing createContainer hook fails create and leaves nothing" {
	update_config '.hooks.createContainer = [{"path": "/bin/false"}]'
	cove ! create "$CT"
	[ ! -e "$COVE_ROOT/$CT" ]
	[ ! -d "$(cgroup_dir pids)" ]
}

@test "hooks: failing createRuntime hook fails run too" {
	update_config '.process.args = ["touch", "/ran"] | .hooks.createRuntime = [{"path": "/bin/false"}]'
	cove ! run "$CT"
	[ ! -e rootfs/ran ]
	[ ! -e "$COVE_ROOT/$CT" ]
}

@test "hooks: missing hook binary fails create and names it" {
	update_config '.hooks.createRuntime = [{"path": "/no/such/hook"}]'
	cove ! create "$CT"
	[[ "$output" == */no/such/hook* || "$output" == *"no such file"* ]]
	[ ! -e "$COVE_ROOT/$CT" ]
}

@test "hooks: failing poststart hook is a warning, the container runs" {
	skip_if_runc "runc 1.1 runs poststart at create and fails it"
	update_config '.hooks.poststart = [{"path": "/bin/false"}]'
	cove -0 create "$CT"
	cove start "$CT"
	testcontainer "$CT" running
}

@test "hooks: failing poststop hook is a warning, delete succeeds" {
	update_config '.hooks.poststop = [{"path": "/bin/false"}]'
	cove -0 run -d "$CT"
	cove -0 delete --force "$CT"
	cove -1 state "$CT"
	[ ! -e "$COVE_ROOT/$CT" ]
}

@test "hooks: relative hook path is refused" {
	update_config '.hooks.createRuntime = [{"path": "bin/true"}]'
	cove ! create "$CT"
	[[ "$output" == *bin/true* || "$output" == *path* ]]
	[ ! -e "$COVE_ROOT/$CT" ]
}
