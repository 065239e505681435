#!/usr/bin/env bats
# podman (Debian 12: 4.3, conmon, cgroupfs) with `--runtime $COVE`.
# podman calls the runtime through conmon for create (+ --console-socket for -t) and exec
# (--process, --detach, --pid-file), and directly for start, kill, pause, resume, update, delete.

load helpers
bats_require_minimum_version 1.5.0

setup_file() {
    require_runtime
    require_client podman test -f "$STATE/podman/containers.conf"
    runtime_for podman
    ensure_image_archive
    pm image exists "$IMAGE" || pm load -q -i "$IMAGE_ARCHIVE" >/dev/null
}

setup() {
    require_client podman test -f "$STATE/podman/containers.conf"
    runtime_for podman
    IDS=()
}

teardown() {
    local left rc=0
    left=$(pm ps -aq --no-trunc)
    if [[ -n $left ]]; then
        echo "containers left behind: $left" >&2
        pm rm -f -t 0 $left >/dev/null 2>&1
        rc=1
    fi
    if [[ -n $(pm pod ps -q) ]]; then
        echo "pods left behind: $(pm pod ps -q)" >&2
        pm pod rm -fa -t 0 >/dev/null 2>&1
        rc=1
    fi
    [[ -z ${NETNS:-} ]] || ip netns delete "$NETNS" 2>/dev/null
    no_leftovers "" "${IDS[@]}" || rc=1
    return $rc
}

logs_say_ready() { pm logs "$1" 2>&1 | grep -q ready; }

# track NAME: remember the full ID of a container, for the leftover checks in teardown.
track() { IDS+=("$(pm inspect --format '{{.Id}}' "$1")"); }

@test "podman run: output and exit code" {
    run pm run --rm "$IMAGE" sh -c 'echo hi; echo err >&2; exit 3'
    echo "$output"
    [ "$status" -eq 3 ]
    [[ $output == *hi* ]]
    [[ $output == *err* ]]
}

@test "podman run: a failing command reports the runtime's error (exit 127 for a missing binary)" {
    run -127 pm run --rm "$IMAGE" /no/such/binary
    echo "$output"
    [ "$status" -eq 127 ]
    [[ $output == *"/no/such/binary"* ]]
}

@test "podman run -it: the process has a terminal" {
    run in_pty pm run --rm -it "$IMAGE" \
        sh -c "tty; test -t 0 && test -t 1 && echo TTY-OK; $WAIT_SIZE; exit 4"
    echo "$output"
    [ "$status" -eq 4 ]
    [[ $output == *"/dev/pts/0"* ]]
    [[ $output == *TTY-OK* ]]
    [[ $output == *"size=24 80"* ]] # the client's window size reached the container's terminal
}

@test "podman run -i: stdin is piped; env, user, workdir, hostname" {
    run with_stdin piped-data pm run --rm -i -e FOO=bar -u 1000:1000 -w /tmp \
        --hostname cove-host "$IMAGE" \
        sh -c 'cat; echo $FOO $(id -u):$(id -g) $(pwd) $(hostname); test -t 0 || echo no-tty'
    echo "$output"
    [ "$status" -eq 0 ]
    [[ $output == *piped-data* ]]
    [[ $output == *"bar 1000:1000 /tmp cove-host"* ]]
    [[ $output == *no-tty* ]]
}

@test "podman exec into a detached container, then stop and rm" {
    local c
    c=$(cname)
    pm run -d --name "$c" "$IMAGE" "${LONG_RUNNING[@]}"
    track "$c"
    retry 50 0.1 logs_say_ready "$c"
    # the runtime knows it (podman passes no --root: the runtime's default root)
    "$COVE" state "${IDS[0]}" | grep -q '"status": *"running"'

    run pm exec "$c" sh -c 'echo from-exec; exit 5'
    echo "$output"
    [ "$status" -eq 5 ]
    [[ $output == *from-exec* ]]

    run pm exec -u 1000 -e X=y -w /tmp "$c" sh -c 'echo $(id -u) $X $(pwd)'
    [ "$status" -eq 0 ]
    [[ $output == *"1000 y /tmp"* ]]

    run in_pty pm exec -it "$c" sh -c "tty; test -t 0 && echo TTY-OK; $WAIT_SIZE"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ $output == *"/dev/pts/"* ]]
    [[ $output == *TTY-OK* ]]
    [[ $output == *"size=24 80"* ]]

    # the exec'd processes are in the container's pid namespace: init is PID 1
    run pm exec "$c" cat /proc/1/cmdline
    [[ $output == *trap* ]]

    run pm stop -t 10 "$c"
    [ "$status" -eq 0 ]
    run pm inspect --format '{{.State.Status}} {{.State.ExitCode}}' "$c"
    echo "$output"
    [ "$output" = "exited 7" ]
    pm rm "$c"
}

@test "podman pause, unpause, kill, restart" {
    local c
    c=$(cname)
    pm run -d --name "$c" "$IMAGE" "${LONG_RUNNING[@]}"
    track "$c"
    pm pause "$c"
    run pm inspect --format '{{.State.Status}}' "$c"
    [ "$output" = paused ]
    pm unpause "$c"
    run pm exec "$c" echo alive
    [ "$output" = alive ]

    pm restart -t 10 "$c"
    run pm inspect --format '{{.State.Status}}' "$c"
    [ "$output" = running ]
    track "$c"

    pm kill -s KILL "$c"
    run pm wait "$c"
    [ "$output" = 137 ]
    pm rm "$c"
}

@test "podman update and cgroup limits: memory and pids reach the container's cgroup" {
    local c
    c=$(cname)
    pm run -d --name "$c" --memory 64m --pids-limit 100 "$IMAGE" "${LONG_RUNNING[@]}"
    track "$c"
    run pm exec "$c" cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max
    echo "$output"
    [ "${lines[0]}" = 67108864 ]
    [ "${lines[1]}" = 100 ]
    pm update --memory 128m "$c"
    run pm exec "$c" cat /sys/fs/cgroup/memory/memory.limit_in_bytes
    [ "$output" = 134217728 ]
    pm rm -f -t 0 "$c"
}

@test "podman security options: read-only rootfs, cap-drop, no-new-privileges, tmpfs, bind mount" {
    local host=$BATS_TEST_TMPDIR/vol
    mkdir -p "$host"
    run pm run --rm --read-only --cap-drop all --security-opt no-new-privileges \
        --tmpfs /scratch -v "$host:/data" "$IMAGE" sh -c '
        grep -E "^(CapEff|NoNewPrivs|Seccomp):" /proc/self/status
        touch /ro 2>/dev/null && echo rootfs-writable
        touch /scratch/f && echo tmpfs-ok
        echo from-container > /data/out'
    echo "$output"
    [ "$status" -eq 0 ]
    [[ $output == *"CapEff:	0000000000000000"* ]]
    [[ $output == *"NoNewPrivs:	1"* ]]
    [[ $output == *"Seccomp:	2"* ]]
    [[ $output != *rootfs-writable* ]]
    [[ $output == *tmpfs-ok* ]]
    [ "$(cat "$host/out")" = from-container ]
}

@test "podman --privileged: all devices and the host's capabilities" {
    run pm run --rm --privileged "$IMAGE" sh -c 'grep -E "^(CapEff|Seccomp):" /proc/self/status; test -e /dev/loop-control && echo has-devices'
    echo "$output"
    [ "$status" -eq 0 ]
    [[ $output == *"Seccomp:	0"* ]]
    [[ $output == *has-devices* ]]
}

@test "podman --init: catatonit is PID 1" {
    run pm run --rm --init "$IMAGE" cat /proc/1/cmdline
    echo "$output"
    [ "$status" -eq 0 ]
    [[ $output == *init* ]]
}

@test "podman pod: containers join the infra container's namespaces by /proc path" {
    local p
    p=$(cname pod)
    pm pod create --name "$p" >/dev/null
    pm pod start "$p" >/dev/null
    IDS+=("$(pm pod inspect --format '{{.InfraContainerID}}' "$p")")
    # (a pod shares net, uts and ipc; each container has its own pid namespace)
    run pm run --rm --pod "$p" "$IMAGE" sh -c "$SHOW_NS | grep -v pid; hostname"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ $output == *net:* ]]
    local first=$output
    run pm run --rm --pod "$p" "$IMAGE" sh -c "$SHOW_NS | grep -v pid; hostname"
    echo "$output"
    [ "$output" = "$first" ]
    # and they are the infra container's
    local infra_pid
    infra_pid=$(pm inspect --format '{{.State.Pid}}' "${IDS[0]}")
    [[ $first == *"$(readlink /proc/$infra_pid/ns/net)"* ]]
    [[ $first == *"$(readlink /proc/$infra_pid/ns/uts)"* ]]
    pm pod rm -f -t 0 "$p" >/dev/null
}

@test "podman --network ns:PATH: the container joins a named network namespace" {
    NETNS=$(cname)
    ip netns add "$NETNS"
    local want
    want=$(ip netns exec "$NETNS" readlink /proc/self/ns/net)
    run pm run --rm --network "ns:/run/netns/$NETNS" "$IMAGE" readlink /proc/self/ns/net
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$output" = "$want" ]
}
