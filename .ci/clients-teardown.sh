#!/usr/bin/env bash
# .ci/clients-teardown.sh [--purge | --containers-only]: undo .ci/clients-setup.sh. Removes the
# containers of the suite's stores, then stops the dockerd and containerd that the setup started
# (by the PIDs it recorded, and only if those PIDs still run that daemon). --purge also deletes
# the stores ($COVE_CLIENTS_DATA) and the state dir ($COVE_CLIENTS_STATE); --containers-only
# stops nothing (the setup script uses it to start from empty stores). Packages stay installed.
set -uo pipefail

STATE="${COVE_CLIENTS_STATE:-/run/cove-clients}"
DATA="${COVE_CLIENTS_DATA:-/var/lib/cove-clients}"
PURGE=0 ONLY_CONTAINERS=0
case ${1:-} in
    --purge) PURGE=1 ;;
    --containers-only) ONLY_CONTAINERS=1 ;;
    "") ;;
    *)
        echo "usage: $0 [--purge | --containers-only]" >&2
        exit 2
        ;;
esac

log() { echo "clients-teardown: $*" >&2; }

# our_pid PIDFILE NAME: the recorded PID, if it is still that program.
our_pid() {
    local pid
    [[ -s $1 ]] || return 1
    pid=$(cat "$1")
    [[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$2" ]] && echo "$pid"
}

# stop_pid PID NAME: SIGTERM, wait up to 20 s, then SIGKILL.
stop_pid() {
    local pid=$1
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 200); do
        kill -0 "$pid" 2>/dev/null || {
            log "$2 ($pid) stopped"
            return 0
        }
        sleep 0.1
    done
    log "$2 ($pid) did not stop on SIGTERM; SIGKILL"
    kill -KILL "$pid" 2>/dev/null
}

DOCKER=(env DOCKER_HOST="unix://$STATE/docker/docker.sock" /usr/bin/docker)
CTR=(ctr --address "$STATE/containerd/containerd.sock")

# 1. containers. The runtime they were made with must still be there to delete them; a
#    container that cannot be deleted is reported, and left.
if dpid=$(our_pid "$STATE/docker/pid" dockerd); then
    ids=$("${DOCKER[@]}" ps -aq 2>/dev/null)
    # shellcheck disable=SC2086 # one ID per word
    [[ -z $ids ]] || "${DOCKER[@]}" rm -f $ids >/dev/null || log "could not remove docker containers: $ids"
fi
if cpid=$(our_pid "$STATE/containerd/pid" containerd); then
    ns=cove-test # the namespace of bats/clients/containerd.bats (docker cleans up its own)
    for t in $("${CTR[@]}" -n "$ns" tasks ls -q 2>/dev/null); do
        "${CTR[@]}" -n "$ns" tasks kill -s KILL "$t" >/dev/null 2>&1
        sleep 0.2
        "${CTR[@]}" -n "$ns" tasks rm -f "$t" >/dev/null 2>&1
    done
    ids=$("${CTR[@]}" -n "$ns" containers ls -q 2>/dev/null)
    # shellcheck disable=SC2086 # one ID per word
    [[ -z $ids ]] || "${CTR[@]}" -n "$ns" containers rm $ids >/dev/null ||
        log "could not remove containerd containers: $ids"
fi
if [[ -f $STATE/podman/containers.conf ]] && command -v podman >/dev/null; then
    pm=(env CONTAINERS_CONF="$STATE/podman/containers.conf" podman --root "$DATA/podman/storage"
        --runroot "$STATE/podman/run")
    "${pm[@]}" pod rm -fa -t 0 >/dev/null 2>&1
    "${pm[@]}" rm -fa -t 0 >/dev/null 2>&1 || log "could not remove all podman containers"
fi

((ONLY_CONTAINERS)) && exit 0

# 2. daemons: dockerd first (it uses containerd), then containerd, then the shims that our
#    containerd started and that outlived their containers (found by our socket path).
[[ -n ${dpid:-} ]] && stop_pid "$dpid" dockerd
[[ -n ${cpid:-} ]] && stop_pid "$cpid" containerd
for shim in $(pgrep -f -- "containerd-shim-runc-v2 .*-address $STATE/containerd/containerd.sock"); do
    log "stopping leftover shim $shim"
    stop_pid "$shim" containerd-shim
done
rm -f "$STATE/docker/pid" "$STATE/containerd/pid"

# 3. --purge: the stores and the state, without crossing into any mount left below them.
if ((PURGE)); then
    for dir in "$DATA" "$STATE"; do
        findmnt -rn -o TARGET | grep -F "$dir/" | sort -r | while read -r m; do
            umount "$m" 2>/dev/null || umount -l "$m"
        done
        rm -rf --one-file-system "$dir"
    done
    log "purged $DATA and $STATE"
fi
