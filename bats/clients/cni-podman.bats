#!/usr/bin/env bats
# podman (Debian 12: 4.3) as a real client of the CNI plugins: its CNI backend (libcni) runs a
# conflist whose plugin is cove-bridge with cove-host-local IPAM, for containers run with the
# runtime under test. Self-contained: its own containers.conf (CONTAINERS_CONF) with
# network_backend "cni", its own network config dir, stores under $DATA/podman-cni; teardown
# removes the containers, the bridge, the leases and the nftables rules of its network.
#   COVE=<runtime> COVE_BUILD=<dir with cove-bridge, cove-host-local> bats bats/clients/cni-podman.bats

load helpers
bats_require_minimum_version 1.5.0

COVE_BUILD="$(realpath -m "${COVE_BUILD:-$REPO_ROOT/build}")"
PCNI_STATE="$STATE/podman-cni"
PCNI_DATA="$DATA/podman-cni"
PCNI_NET="cove-cni-podman"
PCNI_BR="cvpm0"
PCNI_SUBNET_PREFIX="10.218.0"

pmc() {
    CONTAINERS_CONF="$PCNI_STATE/containers.conf" client_timeout podman \
        --root "$PCNI_DATA/storage" --runroot "$PCNI_STATE/run" --runtime "$COVE_RT" "$@"
}

write_podman_cni_config() {
    local nofile nproc pidmax
    nofile=$(ulimit -Hn)
    nproc=$(ulimit -Hu)
    pidmax=$(cat /proc/sys/kernel/pid_max)
    if [[ $nproc == unlimited ]] || ((nproc > pidmax)); then nproc=$pidmax; fi
    if [[ $nofile == unlimited ]]; then nofile=1048576; fi
    mkdir -p "$PCNI_STATE/net.d" "$PCNI_STATE/run" "$PCNI_STATE/tmp" "$PCNI_DATA/storage"
    cat >"$PCNI_STATE/containers.conf" <<CONF
# written by bats/clients/cni-podman.bats
[containers]
log_driver = "k8s-file"
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$PCNI_STATE/events.log"
tmp_dir = "$PCNI_STATE/tmp"

[network]
network_backend = "cni"
network_config_dir = "$PCNI_STATE/net.d"
cni_plugin_dirs = ["$COVE_BUILD", "/usr/lib/cni"]
default_network = "$PCNI_NET"
CONF
    # libcni in podman 4.3 speaks CNI up to 1.0.0.
    jq -n --arg net "$PCNI_NET" --arg br "$PCNI_BR" --arg dir "$PCNI_STATE/ipam" \
        --arg subnet "$PCNI_SUBNET_PREFIX.0/24" '{
        cniVersion: "1.0.0", name: $net,
        plugins: [{
            type: "cove-bridge", bridge: $br, isGateway: true, ipMasq: true,
            ipam: {type: "cove-host-local", subnet: $subnet, dataDir: $dir,
                   routes: [{dst: "0.0.0.0/0"}]}
        }]}' >"$PCNI_STATE/net.d/$PCNI_NET.conflist"
}

# Rules of our network in cove-bridge's nftables chains.
pcni_rules() {
    nft -j list chain ip cove-cni postrouting 2>/dev/null |
        jq -r --arg p "$PCNI_NET/" '.nftables[] | select(.rule) | .rule | select((.comment // "") | startswith($p)) | .handle'
}

pcni_leases() {
    find "$PCNI_STATE/ipam/$PCNI_NET" -maxdepth 1 -name "$PCNI_SUBNET_PREFIX.*" 2>/dev/null | wc -l
}

setup_file() {
    command -v podman >/dev/null || skip "podman is not installed (.ci/clients-setup.sh installs it)"
    require_runtime
    for p in cove-bridge cove-host-local; do
        [[ -x $COVE_BUILD/$p ]] || {
            echo "CNI plugin $COVE_BUILD/$p not built (ninja -C build $p)" >&2
            return 1
        }
    done
    runtime_for podman
    write_podman_cni_config
    ensure_image_archive
    pmc image exists "$IMAGE" || pmc load -q -i "$IMAGE_ARCHIVE" >/dev/null
}

setup() {
    command -v podman >/dev/null || skip "podman is not installed (.ci/clients-setup.sh installs it)"
    runtime_for podman
    IDS=()
}

teardown() {
    local left h rc=0
    left=$(pmc ps -aq --no-trunc 2>/dev/null)
    if [[ -n $left ]]; then
        # shellcheck disable=SC2086
        pmc rm -f -t 0 $left >/dev/null 2>&1
    fi
    for h in $(pcni_rules); do
        echo "nft rule left behind: $h" >&2
        nft delete rule ip cove-cni postrouting handle "$h"
        rc=1
    done
    if [[ $(nft -j list chain ip cove-cni postrouting 2>/dev/null | jq '[.nftables[] | select(.rule)] | length') == 0 ]]; then
        nft delete table ip cove-cni 2>/dev/null
    fi
    if [[ -n $(ip -o link show master "$PCNI_BR" 2>/dev/null) ]]; then
        echo "ports left on $PCNI_BR: $(ip -o link show master "$PCNI_BR")" >&2
        rc=1
    fi
    ip link delete "$PCNI_BR" 2>/dev/null
    rm -rf "$PCNI_STATE/ipam"
    return $rc
}

teardown_file() {
    rm -rf "$PCNI_STATE"
}

@test "cni-podman: two containers on a cove-bridge network get addresses and ping each other" {
    local a b ipa ipb
    a=$(cname a)
    b=$(cname b)
    IDS+=("$a" "$b")
    run -0 pmc run -d --name "$a" --network "$PCNI_NET" "$IMAGE" sleep 300
    run -0 pmc run -d --name "$b" --network "$PCNI_NET" "$IMAGE" sleep 300
    ipa=$(pmc exec "$a" ip -4 -o addr show eth0 | awk '{print $4}')
    ipb=$(pmc exec "$b" ip -4 -o addr show eth0 | awk '{print $4}')
    echo "a=$ipa b=$ipb"
    [[ $ipa == "$PCNI_SUBNET_PREFIX".*/24 ]]
    [[ $ipb == "$PCNI_SUBNET_PREFIX".*/24 ]]
    [[ $ipa != "$ipb" ]]
    # podman reports what cove-bridge returned
    run -0 pmc inspect --format '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$a"
    [[ $output == "${ipa%/*}" ]]
    run -0 pmc exec "$a" ping -c 1 -W 3 "${ipb%/*}"
    run -0 pmc exec "$b" ping -c 1 -W 3 "${ipa%/*}"
    run -0 pmc exec "$a" ping -c 1 -W 3 "$PCNI_SUBNET_PREFIX.1"
    [[ $(ip -o link show master "$PCNI_BR" | wc -l) == 2 ]]
    [[ $(pcni_leases) == 2 ]]
    [[ $(pcni_rules | wc -l) == 2 ]]

    # podman rm runs CNI DEL: no veth, no lease, no rule left
    run -0 pmc rm -f -t 0 "$a" "$b"
    [[ -z $(ip -o link show master "$PCNI_BR") ]]
    [[ $(pcni_leases) == 0 ]]
    [[ -z $(pcni_rules) ]]
}

@test "cni-podman: stop releases the lease and veth (CNI DEL), start attaches again" {
    local a ip1
    a=$(cname a)
    IDS+=("$a")
    run -0 pmc run -d --name "$a" --network "$PCNI_NET" "$IMAGE" sleep 300
    ip1=$(pmc exec "$a" ip -4 -o addr show eth0 | awk '{print $4}')
    [[ -n $ip1 ]]
    run -0 pmc stop -t 0 "$a"
    # stop tears the network down (CNI DEL): lease and veth are gone
    [[ $(pcni_leases) == 0 ]]
    [[ -z $(ip -o link show master "$PCNI_BR") ]]
    run -0 pmc start "$a"
    run -0 pmc exec "$a" ping -c 1 -W 3 "$PCNI_SUBNET_PREFIX.1"
    run -0 pmc rm -f -t 0 "$a"
    [[ $(pcni_leases) == 0 ]]
    [[ -z $(pcni_rules) ]]
}
