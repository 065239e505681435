#!/usr/bin/env bats
# docker 20.10 (Debian 12 docker.io) on the suite's containerd, with $COVE registered as runtime
# "cove" (daemon.json "runtimes", reloaded by SIGHUP when $COVE changes) and `docker run
# --runtime cove`. dockerd drives the io.containerd.runc.v2 shim with BinaryName=$COVE and
# Root=<exec-root>/runtime-runc. With "bridge": "none" (the host's network is left alone) the
# default network is disabled; the test on a user-defined network covers libnetwork's prestart
# hook (`dockerd libnetwork-setkey`, run through /proc/<dockerd>/exe).

load helpers
bats_require_minimum_version 1.5.0

docker_ready() { DOCKER_HOST="unix://$STATE/docker/docker.sock" "$DOCKER_CLI" version; }

setup_file() {
    require_runtime
    require_client docker docker_ready
    runtime_for docker
    docker_use_runtime "$COVE_RT"
    ensure_image_archive
    dk image inspect "$IMAGE" >/dev/null 2>&1 || dk load -q -i "$IMAGE_ARCHIVE" >/dev/null
}

setup() {
    require_client docker docker_ready
    runtime_for docker
    # dockerd 20.10 gives every runc-like runtime the root of its default runtime, runc
    RUNC_ROOT=$STATE/docker/exec/runtime-runc/cove-docker
    IDS=()
}

teardown() {
    local rc=0 left
    left=$(dk ps -aq --no-trunc)
    if [[ -n $left ]]; then
        echo "containers left behind: $left" >&2
        dk rm -f $left >/dev/null 2>&1
        rc=1
    fi
    [[ -z ${NET:-} ]] || dk network rm "$NET" >/dev/null 2>&1
    no_leftovers "$RUNC_ROOT" "${IDS[@]}" || rc=1
    return $rc
}

drun() { dk run --runtime cove "$@"; }
track() { IDS+=("$(dk inspect --format '{{.Id}}' "$1")"); }
logs_say_ready() { dk logs "$1" 2>&1 | grep -q ready; }

@test "docker run: output and exit code" {
    run -3 drun --rm "$IMAGE" sh -c 'echo hi; echo err >&2; exit 3'
    echo "$output"
    [[ $output == *hi* ]]
    [[ $output == *err* ]]
}

@test "docker run: a missing binary is exit 127 with the runtime's error" {
    run -127 drun --rm "$IMAGE" /no/such/binary
    echo "$output"
    [[ $output == *"/no/such/binary"* ]]
}

@test "docker run -it: the process has a terminal" {
    run -4 in_pty dk run --runtime cove --rm -it "$IMAGE" \
        sh -c "tty; test -t 0 && test -t 1 && echo TTY-OK; $WAIT_SIZE; exit 4"
    echo "$output"
    [[ $output == *"/dev/pts/0"* ]]
    [[ $output == *TTY-OK* ]]
    [[ $output == *"size=24 80"* ]] # the client's window size reached the container's terminal
}

@test "docker run -i: stdin is piped; env, user, workdir, hostname" {
    run with_stdin piped-data drun --rm -i -e FOO=bar -u 1000:1000 -w /tmp \
        --hostname cove-host "$IMAGE" \
        sh -c 'cat; echo $FOO $(id -u):$(id -g) $(pwd) $(hostname); test -t 0 || echo no-tty'
    echo "$output"
    [ "$status" -eq 0 ]
    [[ $output == *piped-data* ]]
    [[ $output == *"bar 1000:1000 /tmp cove-host"* ]]
    [[ $output == *no-tty* ]]
}

@test "docker exec into a detached container, top, stop, rm" {
    local c
    c=$(cname)
    drun -d --name "$c" "$IMAGE" "${LONG_RUNNING[@]}"
    track "$c"
    retry 50 0.1 logs_say_ready "$c"
    # the runtime knows it, under the root the shim gave it
    "$COVE" --root "$RUNC_ROOT" state "${IDS[0]}" | grep -q '"status": *"running"'

    run -5 dk exec "$c" sh -c 'echo from-exec; exit 5'
    echo "$output"
    [[ $output == *from-exec* ]]

    run dk exec -u 1000 -e X=y -w /tmp "$c" sh -c 'echo $(id -u) $X $(pwd)'
    [ "$status" -eq 0 ]
    [ "$output" = "1000 y /tmp" ]

    run in_pty dk exec -it "$c" sh -c "tty; test -t 0 && echo TTY-OK; $WAIT_SIZE"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ $output == *"/dev/pts/"* ]]
    [[ $output == *TTY-OK* ]]
    [[ $output == *"size=24 80"* ]]

    # docker top goes through the shim's Pids, i.e. `runc ps --format json`
    run dk top "$c"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ $output == *trap* ]]

    dk stop -t 10 "$c"
    run dk inspect --format '{{.State.Status}} {{.State.ExitCode}}' "$c"
    [ "$output" = "exited 7" ]
    dk rm "$c"
}

@test "docker pause, unpause, restart, kill" {
    local c
    c=$(cname)
    drun -d --name "$c" "$IMAGE" "${LONG_RUNNING[@]}"
    track "$c"
    dk pause "$c"
    [ "$(dk inspect --format '{{.State.Status}}' "$c")" = paused ]
    dk unpause "$c"
    run dk exec "$c" echo alive
    [ "$output" = alive ]
    dk restart -t 10 "$c"
    [ "$(dk inspect --format '{{.State.Status}}' "$c")" = running ]
    dk kill "$c"
    run dk wait "$c"
    [ "$output" = 137 ]
    dk rm "$c"
}

@test "docker update: memory and pids limits reach the container's cgroup" {
    local c
    c=$(cname)
    drun -d --name "$c" --memory 64m --pids-limit 100 "$IMAGE" "${LONG_RUNNING[@]}"
    track "$c"
    run dk exec "$c" cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max
    echo "$output"
    [ "${lines[0]}" = 67108864 ]
    [ "${lines[1]}" = 100 ]
    dk update --memory 128m --memory-swap 256m --pids-limit 200 "$c"
    run dk exec "$c" cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max
    echo "$output"
    [ "${lines[0]}" = 134217728 ]
    [ "${lines[1]}" = 200 ]
    dk rm -f "$c"
}

@test "docker security options: read-only rootfs, cap-drop, no-new-privileges, tmpfs, bind mount" {
    local host=$BATS_TEST_TMPDIR/vol
    mkdir -p "$host"
    run drun --rm --read-only --cap-drop all --security-opt no-new-privileges \
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

# docker 20.10's --privileged asks for every capability, CAP_SYS_RESOURCE included, which this
# host's bounding set lacks (runc fails with "unable to apply caps: operation not permitted" too).
# So: the same features one by one, minus that capability.
@test "docker privileged-like: all caps but SYS_RESOURCE, no seccomp, no masked paths, a device" {
    run drun --rm --cap-add ALL --cap-drop SYS_RESOURCE --security-opt seccomp=unconfined \
        --security-opt systempaths=unconfined --device /dev/loop-control "$IMAGE" sh -c '
        grep -E "^(CapEff|Seccomp):" /proc/self/status
        test -c /dev/loop-control && echo has-device
        grep -q "Timer List" /proc/timer_list && echo timer_list-unmasked'
    echo "$output"
    [ "$status" -eq 0 ]
    [[ $output == *"Seccomp:	0"* ]]
    [[ $output == *has-device* ]]
    [[ $output == *timer_list-unmasked* ]]
    local capeff
    capeff=$(awk '/^CapEff:/ {print $2}' <<<"$output")
    (((0x$capeff >> 21) & 1)) # CAP_SYS_ADMIN
    (((0x$capeff >> 24) & 1 ^ 1)) # no CAP_SYS_RESOURCE
}

@test "docker --init: docker-init is PID 1" {
    run drun --rm --init "$IMAGE" cat /proc/1/cmdline
    echo "$output"
    [ "$status" -eq 0 ]
    [[ $output == *init* ]]
}

@test "docker run on a user-defined network: libnetwork's prestart hook sets up the netns" {
    NET=$(cname net)
    # TEST-NET-1 (documentation range), internal: no NAT, no iptables, no traffic leaves
    dk network create --internal --subnet 192.0.2.0/24 "$NET" >/dev/null
    run drun --rm --network "$NET" "$IMAGE" sh -c 'ip -4 addr show eth0; cat /etc/hosts'
    echo "$output"
    dk network rm "$NET" >/dev/null
    NET=
    [ "$status" -eq 0 ]
    [[ $output == *"inet 192.0.2."* ]]
}

@test "docker --network/--pid/--ipc container:X: namespaces joined by /proc path" {
    local c
    c=$(cname)
    drun -d --name "$c" --ipc shareable "$IMAGE" "${LONG_RUNNING[@]}"
    track "$c"
    local want
    want=$(dk exec "$c" sh -c "$SHOW_NS" | grep -v uts)
    [[ $want == *net:* ]]
    run drun --rm --network "container:$c" --pid "container:$c" --ipc "container:$c" "$IMAGE" \
        sh -c "$SHOW_NS"
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$(grep -v uts <<<"$output")" = "$want" ]
    dk rm -f "$c"
}
