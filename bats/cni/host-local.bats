#!/usr/bin/env bats
# cove-host-local: allocation, release, CHECK, GC, STATUS, parallel ADDs on a small pool,
# and lease-store compatibility with the reference host-local.

load helpers

function setup() {
	cni_setup
	cni_requires host-local
	cni_requires_netns
	NETNS=$(cni_make_netns)
	DATA=$CNI_TMP/ipam
}

function teardown() {
	cni_teardown
}

# The lease files of network $1 (IP-named files only).
function leases() {
	ls "$DATA/${1:-net1}" 2>/dev/null | grep -v -e '^lock$' -e '^last_reserved' || true
}

# A config for network net1 with ipam members $1 and version $2.
function conf() {
	printf '{"cniVersion":"%s","name":"net1","type":"cove-host-local","ipam":{"type":"cove-host-local","dataDir":"%s",%s}%s}' \
		"${2:-1.1.0}" "$DATA" "$1" "${3:+,$3}"
}

@test "ADD allocates, writes the reference's lease file, DEL releases" {
	local c
	c=$(conf '"subnet":"10.80.0.0/24","routes":[{"dst":"0.0.0.0/0"}]')
	run cni_exec host-local ADD "$c"
	[ "$status" -eq 0 ]
	[ "$(jq -r '.ips[0].address' <<<"$output")" = "10.80.0.2/24" ]
	[ "$(jq -r '.ips[0].gateway' <<<"$output")" = "10.80.0.1" ]
	[ "$(jq -r '.routes[0].dst' <<<"$output")" = "0.0.0.0/0" ]
	[ "$(cat "$DATA/net1/10.80.0.2")" = "$(printf '%s\r\n%s' "$CID" eth0)" ]
	[ "$(cat "$DATA/net1/last_reserved_ip.0")" = "10.80.0.2" ]

	run cni_exec host-local CHECK "$(conf '"subnet":"10.80.0.0/24"' 1.1.0 "\"prevResult\":$output")"
	[ "$status" -eq 0 ]

	run cni_exec host-local DEL "$c"
	[ "$status" -eq 0 ]
	[ -z "$(leases)" ]
	# CHECK after DEL fails.
	run cni_exec host-local CHECK "$c"
	[ "$status" -ne 0 ]
}

@test "DEL twice, DEL without ADD, DEL without netns all succeed" {
	local c
	c=$(conf '"subnet":"10.81.0.0/24"')
	run cni_exec host-local DEL "$c"
	[ "$status" -eq 0 ]
	[ ! -e "$DATA/net1" ]
	run cni_exec host-local ADD "$c"
	[ "$status" -eq 0 ]
	run cni_exec host-local DEL "$c" CNI_NETNS=
	[ "$status" -eq 0 ]
	run cni_exec host-local DEL "$c" CNI_NETNS=
	[ "$status" -eq 0 ]
	[ -z "$(leases)" ]
}

@test "DEL frees only the given container and interface" {
	local c
	c=$(conf '"subnet":"10.82.0.0/24"')
	CID=a IFNAME=eth0 run cni_exec host-local ADD "$c"
	CID=a IFNAME=net1 run cni_exec host-local ADD "$c"
	CID=b IFNAME=eth0 run cni_exec host-local ADD "$c"
	[ "$(leases | wc -l)" -eq 3 ]
	CID=a IFNAME=net1 run cni_exec host-local DEL "$c"
	[ "$status" -eq 0 ]
	[ "$(leases | wc -l)" -eq 2 ]
	run ! grep -l net1 "$DATA"/net1/10.* 
}

@test "dual stack: one address per range set" {
	run cni_exec host-local ADD "$(conf '"ranges":[[{"subnet":"10.83.0.0/24"}],[{"subnet":"fd00:83::/64"}]]')"
	[ "$status" -eq 0 ]
	[ "$(jq -r '[.ips[].address] | join(" ")' <<<"$output")" = "10.83.0.2/24 fd00:83::2/64" ]
	[ "$(cat "$DATA/net1/last_reserved_ip.1")" = "fd00:83::2" ]
}

@test "requested addresses: CNI_ARGS IP=, args.cni.ips, runtimeConfig.ips" {
	local base='"subnet":"10.84.0.0/24"'
	CID=a CNI_ARGS_VAL="IP=10.84.0.50" run cni_exec host-local ADD "$(conf "$base")"
	[ "$status" -eq 0 ]
	[ "$(jq -r '.ips[0].address' <<<"$output")" = "10.84.0.50/24" ]
	CID=b run cni_exec host-local ADD "$(conf "$base" 1.1.0 '"args":{"cni":{"ips":["10.84.0.51"]}}')"
	[ "$(jq -r '.ips[0].address' <<<"$output")" = "10.84.0.51/24" ]
	CID=c run cni_exec host-local ADD "$(conf "$base" 1.1.0 '"runtimeConfig":{"ips":["10.84.0.52/24"]}')"
	[ "$(jq -r '.ips[0].address' <<<"$output")" = "10.84.0.52/24" ]
	# Taken, the gateway, and outside every range: refused, nothing held.
	CID=d CNI_ARGS_VAL="IP=10.84.0.50" run cni_exec host-local ADD "$(conf "$base")"
	[ "$status" -ne 0 ]
	CID=d CNI_ARGS_VAL="IP=10.84.0.1" run cni_exec host-local ADD "$(conf "$base")"
	[ "$status" -ne 0 ]
	CID=d CNI_ARGS_VAL="IP=10.99.0.1" run cni_exec host-local ADD "$(conf "$base")"
	[ "$status" -ne 0 ]
	[ "$(leases | wc -l)" -eq 3 ]
}

@test "a failed ADD on a dual-stack config holds no lease" {
	# The v6 set is one address, already taken: the v4 lease made first must be released.
	local c
	c=$(conf '"ranges":[[{"subnet":"10.85.0.0/24"}],[{"subnet":"fd00:85::/120","rangeStart":"fd00:85::9","rangeEnd":"fd00:85::9"}]]')
	CID=a run cni_exec host-local ADD "$c"
	[ "$status" -eq 0 ]
	CID=b run cni_exec host-local ADD "$c"
	[ "$status" -ne 0 ]
	[[ "$(jq -r .msg <<<"$output")" == *"no IP addresses available"* ]]
	[ "$(leases | wc -l)" -eq 2 ]
	run ! grep -q '^b' "$DATA"/net1/10.* "$DATA"/net1/fd00*
}

@test "50 parallel ADDs get 50 distinct addresses; the 51st fails cleanly" {
	local c i
	c=$(conf '"subnet":"10.86.0.0/24","rangeStart":"10.86.0.10","rangeEnd":"10.86.0.59"')
	for i in $(seq 1 50); do
		CID=p$i cni_exec host-local ADD "$c" >"$CNI_TMP/out.$i" 2>&1 &
	done
	wait
	for i in $(seq 1 50); do
		jq -r '.ips[0].address' "$CNI_TMP/out.$i"
	done | sort -u >"$CNI_TMP/addrs"
	[ "$(wc -l <"$CNI_TMP/addrs")" -eq 50 ]
	[ "$(leases | wc -l)" -eq 50 ]

	CID=p51 run cni_exec host-local ADD "$c"
	[ "$status" -ne 0 ]
	[ -n "$(cni_code "$output")" ]
	[ "$(leases | wc -l)" -eq 50 ]
	run ! grep -lq '^p51' "$DATA"/net1/10.*

	# STATUS: exhausted pool is "not available" (50); one DEL makes it ready again.
	run cni_exec host-local STATUS "$c"
	cni_expect_error 50
	CID=p7 run cni_exec host-local DEL "$c"
	run cni_exec host-local STATUS "$c"
	[ "$status" -eq 0 ]
	CID=p51 run cni_exec host-local ADD "$c"
	[ "$status" -eq 0 ]
}

@test "GC releases the leases of attachments that are gone" {
	local base='"subnet":"10.87.0.0/24"' i
	for i in 1 2 3; do
		CID=g$i run cni_exec host-local ADD "$(conf "$base")"
		[ "$status" -eq 0 ]
	done
	CID=g2 IFNAME=net1 run cni_exec host-local ADD "$(conf "$base")"
	[ "$(leases | wc -l)" -eq 4 ]
	run cni_exec host-local GC "$(conf "$base" 1.1.0 '"cni.dev/valid-attachments":[{"containerID":"g2","ifname":"eth0"}]')" CNI_CONTAINERID= CNI_IFNAME= CNI_NETNS=
	[ "$status" -eq 0 ]
	[ "$(leases | wc -l)" -eq 1 ]
	grep -q '^g2' "$DATA/net1/$(leases)"
	# libcni before 1.2.1 named the list cni.dev/attachments.
	run cni_exec host-local GC "$(conf "$base" 1.1.0 '"cni.dev/attachments":[{"containerID":"g2","ifname":"eth0"}]')"
	[ "$status" -eq 0 ]
	[ "$(leases | wc -l)" -eq 1 ]
	run cni_exec host-local GC "$(conf "$base" 1.1.0 '"cni.dev/valid-attachments":[]')"
	[ "$status" -eq 0 ]
	[ -z "$(leases)" ]
}

@test "STATUS on a network never used is ready; on a dual-stack set with one side full is 50" {
	local c
	c=$(conf '"ranges":[[{"subnet":"10.88.0.0/24"}],[{"subnet":"fd00:88::/120","rangeStart":"fd00:88::5","rangeEnd":"fd00:88::5"}]]')
	run cni_exec host-local STATUS "$c"
	[ "$status" -eq 0 ]
	CID=a run cni_exec host-local ADD "$c"
	run cni_exec host-local STATUS "$c"
	cni_expect_error 50
	[[ "$(jq -r .msg <<<"$output")" == *"range set 1"* ]]
}

@test "leases are shared with the reference host-local in both directions" {
	[ -x "$CNI_REF_DIR/host-local" ] || skip "reference host-local not installed"
	local c
	c=$(conf '"subnet":"10.89.0.0/24"' 1.0.0)
	CID=cove1 run cni_exec host-local ADD "$c"
	[ "$(jq -r '.ips[0].address' <<<"$output")" = "10.89.0.2/24" ]
	# The reference continues the round robin and sees our lease.
	CID=ref1 run cni_exec "$CNI_REF_DIR/host-local" ADD "$c"
	[ "$status" -eq 0 ]
	[ "$(jq -r '.ips[0].address' <<<"$output")" = "10.89.0.3/24" ]
	CID=cove2 run cni_exec host-local ADD "$c"
	[ "$(jq -r '.ips[0].address' <<<"$output")" = "10.89.0.4/24" ]
	# Each releases the other's lease.
	CID=cove1 run cni_exec "$CNI_REF_DIR/host-local" DEL "$c"
	[ "$status" -eq 0 ]
	CID=ref1 run cni_exec host-local DEL "$c"
	[ "$status" -eq 0 ]
	[ "$(leases)" = "10.89.0.4" ]
}
