#!/usr/bin/env bash
# .ci/clients-setup.sh: make the real clients of bats/clients/ ready on a fresh Debian 12 machine
# (root, no systemd, no internet but apt). Idempotent: run it as often as you like.
#
#  1. apt-get installs what is missing (podman and its helpers, containerd, docker.io, jq, ...).
#  2. Writes podman's containers.conf (cgroupfs, file events, rlimits this host allows, no
#     network by default so the host's iptables are left alone).
#  3. Starts a private containerd and a private dockerd (on containerd) in the background, unless
#     they already run: sockets, configs, logs and pid files under $COVE_CLIENTS_STATE, stores
#     under $COVE_CLIENTS_DATA. dockerd gets the runtime under test as runtime "cove".
#  4. Removes containers an interrupted earlier run left in those stores.
#  5. Builds the busybox image archive the tests load (nothing downloaded).
#
# A daemon that cannot start here is recorded in $STATE/<client>.unavailable with the reason; the
# tests then skip with that reason. .ci/clients-teardown.sh stops what this script started.
#
# Environment: COVE (runtime under test; default <repo>/build/cove), COVE_CLIENTS_STATE
# (default /run/cove-clients), COVE_CLIENTS_DATA (default /var/lib/cove-clients).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
COVE="$(realpath -m "${COVE:-$REPO_ROOT/build/cove}")"
STATE="${COVE_CLIENTS_STATE:-/run/cove-clients}"
DATA="${COVE_CLIENTS_DATA:-/var/lib/cove-clients}"
DOCKER_CLI=/usr/bin/docker

log() { echo "clients-setup: $*" >&2; }

[[ $(id -u) == 0 ]] || {
    log "must run as root"
    exit 1
}

# --- 1. packages ------------------------------------------------------------------------------
PACKAGES=(
    podman conmon catatonit netavark aardvark-dns slirp4netns fuse-overlayfs uidmap
    containerd docker.io tini iptables runc
    busybox-static bats jq util-linux procps iproute2
)
install_packages() {
    local missing=() p
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
            missing+=("$p")
    done
    ((${#missing[@]} == 0)) && return 0
    log "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # Package scripts try to start services; there is no init to start them here, and we start
    # the daemons ourselves below with private paths.
    apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confdef \
        -o Dpkg::Options::=--force-confold "${missing[@]}" >"$STATE/apt.log" 2>&1 || {
        tail -20 "$STATE/apt.log" >&2
        log "apt-get install failed"
        exit 1
    }
}

# --- helpers ----------------------------------------------------------------------------------
pid_alive() { [[ -s $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# wait_for SECONDS CMD...: poll CMD every 0.1 s.
wait_for() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || return 1
        sleep 0.1
    done
}

unavailable() { # CLIENT REASON
    printf '%s\n' "$2" >"$STATE/$1.unavailable"
    log "$1 UNAVAILABLE: $2"
}

# --- 2. podman --------------------------------------------------------------------------------
setup_podman() {
    rm -f "$STATE/podman.unavailable"
    mkdir -p "$STATE/podman/run" "$STATE/podman/tmp" "$DATA/podman/storage" "$DATA/podman/networks"
    # Hard rlimits cannot be raised here (no CAP_SYS_RESOURCE); podman's defaults (nofile 1048576,
    # nproc 4194304) fail with any runtime, so ask for what this host allows. podman lowers its own
    # nproc to kernel.pid_max, so cap nproc there.
    local nofile nproc pidmax
    nofile=$(ulimit -Hn)
    nproc=$(ulimit -Hu)
    pidmax=$(cat /proc/sys/kernel/pid_max)
    if [[ $nproc == unlimited ]] || ((nproc > pidmax)); then nproc=$pidmax; fi
    if [[ $nofile == unlimited ]]; then nofile=1048576; fi
    cat >"$STATE/podman/containers.conf.tmp" <<EOF
# written by .ci/clients-setup.sh for bats/clients (CONTAINERS_CONF)
[containers]
log_driver = "k8s-file"
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
# no bridge by default: netavark would add iptables rules and turn on ip_forward on the host
netns = "none"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$STATE/podman/events.log"
tmp_dir = "$STATE/podman/tmp"
volume_path = "$DATA/podman/volumes"

[network]
network_backend = "netavark"
network_config_dir = "$DATA/podman/networks"
EOF
    mv -f "$STATE/podman/containers.conf.tmp" "$STATE/podman/containers.conf"
    CONTAINERS_CONF="$STATE/podman/containers.conf" podman --root "$DATA/podman/storage" \
        --runroot "$STATE/podman/run" info >"$STATE/podman/info.log" 2>&1 ||
        unavailable podman "podman info failed: $(tail -3 "$STATE/podman/info.log")"
}

# --- 3. containerd ----------------------------------------------------------------------------
CTRD_SOCK="$STATE/containerd/containerd.sock"
ctrd_ok() { ctr --address "$CTRD_SOCK" version; }

setup_containerd() {
    rm -f "$STATE/containerd.unavailable"
    mkdir -p "$STATE/containerd" "$DATA/containerd"
    if pid_alive "$STATE/containerd/pid" && ctrd_ok >/dev/null 2>&1; then
        log "containerd already running (pid $(cat "$STATE/containerd/pid"))"
        return 0
    fi
    cat >"$STATE/containerd/config.toml" <<EOF
# written by .ci/clients-setup.sh for bats/clients
version = 2
root = "$DATA/containerd"
state = "$STATE/containerd/state"

[grpc]
  address = "$CTRD_SOCK"

[ttrpc]
  address = "$CTRD_SOCK.ttrpc"

[plugins."io.containerd.grpc.v1.cri"]
  # no negative oom_score_adj can be set here (no CAP_SYS_RESOURCE in the bounding set)
  restrict_oom_score_adj = true

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.cove]
  runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.cove.options]
    BinaryName = "$COVE"
EOF
    log "starting containerd"
    (cd / && exec setsid containerd --config "$STATE/containerd/config.toml" \
        </dev/null >>"$STATE/containerd/containerd.log" 2>&1) &
    echo $! >"$STATE/containerd/pid"
    if ! wait_for 30 ctrd_ok; then
        unavailable containerd "containerd did not answer on $CTRD_SOCK within 30 s: $(tail -5 "$STATE/containerd/containerd.log")"
        return 0
    fi
    log "containerd running (pid $(cat "$STATE/containerd/pid"))"
}

# --- 3b. dockerd ------------------------------------------------------------------------------
DOCKER_SOCK="$STATE/docker/docker.sock"
docker_ok() { DOCKER_HOST="unix://$DOCKER_SOCK" "$DOCKER_CLI" version; }

write_daemon_json() {
    local nofile
    nofile=$(ulimit -Hn)
    if [[ $nofile == unlimited ]]; then nofile=1048576; fi
    # bridge none, no iptables, no ip_forward: dockerd leaves the host's network alone (the
    # containers still get their own netns from libnetwork, passed to the runtime by path).
    jq -n --arg data "$DATA/docker" --arg exec "$STATE/docker/exec" \
        --arg pid "$STATE/docker/dockerd.pid" --arg sock "unix://$DOCKER_SOCK" \
        --arg ctrd "$CTRD_SOCK" --arg cove "$COVE" --argjson nofile "$nofile" '{
        "data-root": $data, "exec-root": $exec, "pidfile": $pid, "hosts": [$sock],
        "containerd": $ctrd,
        "containerd-namespace": "cove-docker",
        "containerd-plugins-namespace": "cove-docker-plugins",
        "storage-driver": "overlay2",
        "iptables": false, "ip6tables": false, "ip-forward": false, "ip-masq": false,
        "bridge": "none",
        "default-ulimits": {"nofile": {"Name": "nofile", "Hard": $nofile, "Soft": $nofile}},
        "runtimes": {"cove": {"path": $cove}}
    }' >"$STATE/docker/daemon.json.tmp"
    mv -f "$STATE/docker/daemon.json.tmp" "$STATE/docker/daemon.json"
}

setup_docker() {
    rm -f "$STATE/docker.unavailable"
    mkdir -p "$STATE/docker" "$DATA/docker"
    if [[ -f $STATE/containerd.unavailable ]]; then
        unavailable docker "needs containerd, which could not start"
        return 0
    fi
    if pid_alive "$STATE/docker/pid" && docker_ok >/dev/null 2>&1; then
        # Already running: point runtime "cove" at $COVE (runtimes reload on SIGHUP).
        local have
        have=$(jq -r '.runtimes.cove.path' "$STATE/docker/daemon.json")
        if [[ $have != "$COVE" ]]; then
            write_daemon_json
            kill -HUP "$(cat "$STATE/docker/pid")"
            log "dockerd reloaded with runtime cove=$COVE"
        fi
        log "dockerd already running (pid $(cat "$STATE/docker/pid"))"
        return 0
    fi
    write_daemon_json
    log "starting dockerd"
    (cd / && exec setsid dockerd --config-file "$STATE/docker/daemon.json" \
        </dev/null >>"$STATE/docker/dockerd.log" 2>&1) &
    echo $! >"$STATE/docker/pid"
    if ! wait_for 60 docker_ok; then
        unavailable docker "dockerd did not answer on $DOCKER_SOCK within 60 s: $(tail -5 "$STATE/docker/dockerd.log")"
        return 0
    fi
    log "dockerd running (pid $(cat "$STATE/docker/pid"))"
}

# --- main -------------------------------------------------------------------------------------
mkdir -p "$STATE" "$DATA"
install_packages
setup_podman
setup_containerd
setup_docker

# 4. start from empty stores: remove containers an earlier, interrupted run left behind
COVE_CLIENTS_STATE="$STATE" COVE_CLIENTS_DATA="$DATA" "$REPO_ROOT/.ci/clients-teardown.sh" --containers-only

# 5. the image archive (the tests load it into each client's store on first use)
# shellcheck source=../bats/clients/helpers.bash
COVE_CLIENTS_STATE="$STATE" COVE_CLIENTS_DATA="$DATA" bash -c \
    "source '$REPO_ROOT/bats/clients/helpers.bash' && ensure_image_archive"

[[ -x $COVE ]] || log "note: runtime under test $COVE does not exist yet"
log "ready: state $STATE, data $DATA, runtime $COVE"
