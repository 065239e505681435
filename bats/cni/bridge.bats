#!/usr/bin/env bats
# cove-bridge in network namespaces made by the tests: connectivity (IPv4, IPv6, dual stack),
# the result, CHECK, DEL, ipMasq/macspoofchk rules, port flags, failed ADDs leaving nothing.
#   COVE_BUILD=/path/to/build bats bats/cni/bridge.bats

load helpers
load bridge_helpers

function setup() {
	cni_requires_netns
	cni_requires bridge host-local
	command -v nft >/dev/null || skip "needs nft"
	command -v busybox >/dev/null || skip "needs busybox (ping)"
	bridge_setup
}

function teardown() {
	bridge_teardown
}

@test "bridge: two containers ping each other and the gateway (IPv4); the result names all three interfaces" {
	CONF=$(bridge_conf "$(cni_ipam_json 10.201.0.0/24)" '"isGateway":true')
	add_two
	[ "$(jq -r '.interfaces | length' <<<"$r1")" = 3 ]
	[ "$(jq -r '.interfaces[0].name' <<<"$r1")" = "$BR" ]
	[[ $(jq -r '.interfaces[1].name' <<<"$r1") == veth* ]]
	[ "$(jq -r '.interfaces[2].name' <<<"$r1")" = eth0 ]
	[ "$(jq -r '.interfaces[2].sandbox' <<<"$r1")" = "$ns1" ]
	[ "$(jq -r '.ips[0].interface' <<<"$r1")" = 2 ]
	[ "$(jq -r '.ips[0].gateway' <<<"$r1")" = 10.201.0.1 ]
	ip1=$(jq -r '.ips[0].address' <<<"$r1")
	ip2=$(jq -r '.ips[0].address' <<<"$RES")
	# what the result says is what the container has
	ip -n "${ns1##*/}" -o addr show eth0 | grep -q "inet $ip1"
	[ "$(ip -n "${ns1##*/}" -j link show eth0 | jq -r '.[0].address')" = "$(jq -r '.interfaces[2].mac' <<<"$r1")" ]
	ip -o link show "$(jq -r '.interfaces[1].name' <<<"$r1")" | grep -q "master $BR"
	ip -o addr show "$BR" | grep -q "inet 10.201.0.1/24"
	nsping "$ns1" "${ip2%/*}"
	nsping "$ns2" "${ip1%/*}"
	nsping "$ns1" 10.201.0.1
	[ "$(bridge_ports)" = 2 ]
}

@test "bridge: IPv6 containers ping each other and the gateway; isDefaultGateway adds ::/0" {
	CONF=$(bridge_conf "$(cni_ipam_json fd42:cb::/64)" '"isDefaultGateway":true')
	add_two
	ip1=$(jq -r '.ips[0].address' <<<"$r1")
	ip2=$(jq -r '.ips[0].address' <<<"$RES")
	[[ $ip1 == fd42:cb::* ]]
	gw=$(jq -r '.ips[0].gateway' <<<"$r1")
	[ "$(jq -r '.routes[0].dst' <<<"$r1")" = "::/0" ]
	ip -n "${ns1##*/}" -6 route show default | grep -q "via $gw dev eth0"
	nsping "$ns1" "${ip2%/*}"
	nsping "$ns2" "${ip1%/*}"
	nsping "$ns1" "$gw"
}

@test "bridge: dual stack gets one address per family and reaches both gateways" {
	ipam=$(printf '{"type":"cove-host-local","dataDir":"%s/ipam","ranges":[[{"subnet":"10.202.0.0/24"}],[{"subnet":"fd42:cc::/64"}]]}' "$CNI_TMP")
	CONF=$(bridge_conf "$ipam" '"isDefaultGateway":true')
	add_two
	[ "$(jq -r '.ips | length' <<<"$RES")" = 2 ]
	v4=$(jq -r '.ips[] | select(.address | contains(".")) | .address' <<<"$RES")
	v6=$(jq -r '.ips[] | select(.address | contains(":")) | .address' <<<"$RES")
	nsping "$ns1" "${v4%/*}"
	nsping "$ns1" "${v6%/*}"
	nsping "$ns2" 10.202.0.1
	nsping "$ns2" fd42:cc::1
	ip -n "${ns2##*/}" route show default | grep -q "via 10.202.0.1"
	ip -n "${ns2##*/}" -6 route show default | grep -q "via fd42:cc::1"
}

@test "bridge: CHECK passes, then fails clearly after the interface is deleted by hand" {
	CONF=$(bridge_conf "$(cni_ipam_json 10.203.0.0/24)" '"isGateway":true,"ipMasq":true')
	ns=$(cni_make_netns)
	add "$ns" c1
	cconf=$(with_prev "$CONF" "$RES")
	NETNS=$ns CID=c1 run cni_exec bridge CHECK "$cconf"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	ip -n "${ns##*/}" link del eth0
	fails CHECK "$ns" c1 "$cconf" 'interface eth0 not found in netns'
}

@test "bridge: CHECK notices a missing address and a missing masquerade rule" {
	CONF=$(bridge_conf "$(cni_ipam_json 10.204.0.0/24)" '"isGateway":true,"ipMasq":true')
	ns=$(cni_make_netns)
	add "$ns" c1
	cconf=$(with_prev "$CONF" "$RES")
	addr=$(jq -r '.ips[0].address' <<<"$RES")
	ip -n "${ns##*/}" addr del "$addr" dev eth0
	fails CHECK "$ns" c1 "$cconf" 'lacks address'
	ip -n "${ns##*/}" addr add "$addr" dev eth0
	ip -n "${ns##*/}" route add default via 10.204.0.1 2>/dev/null || true
	bridge_nft_cleanup "$NET"
	fails CHECK "$ns" c1 "$cconf" 'masquerade rule'
}

@test "bridge: CHECK without prevResult is a config error" {
	CONF=$(bridge_conf "$(cni_ipam_json 10.205.0.0/24)")
	ns=$(cni_make_netns)
	add "$ns" c1
	NETNS=$ns CID=c1 run cni_exec bridge CHECK "$CONF"
	cni_expect_error 7
}

@test "bridge: DEL removes veth, lease and rules; twice is fine; so is DEL without ADD and with the netns gone" {
	CONF=$(bridge_conf "$(cni_ipam_json 10.206.0.0/24)" '"isGateway":true,"ipMasq":true')
	add_two
	[ "$(bridge_rules ip | wc -l)" = 2 ]
	[ "$(bridge_leases)" = 2 ]
	NETNS=$ns1 CID=c1 run cni_exec bridge DEL "$(with_prev "$CONF" "$RES")"
	[ "$status" -eq 0 ]
	[ "$(bridge_ports)" = 1 ]
	[ "$(bridge_leases)" = 1 ]
	[ "$(bridge_rules ip)" = "$NET/c2/eth0" ]
	run ! ip -n "${ns1##*/}" link show eth0
	NETNS=$ns1 CID=c1 run cni_exec bridge DEL "$CONF"
	[ "$status" -eq 0 ]
	NETNS=$ns1 CID=never-added run cni_exec bridge DEL "$CONF"
	[ "$status" -eq 0 ]
	# netns gone: the kernel removed the pair; DEL still frees lease and rule
	cni_remove_netns "$ns2"
	NETNS=$ns2 CID=c2 run cni_exec bridge DEL "$CONF"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(bridge_leases)" = 0 ]
	[ -z "$(bridge_rules ip)" ]
	[ "$(bridge_ports)" = 0 ]
	NETNS= CID=c2 run cni_exec bridge DEL "$CONF"
	[ "$status" -eq 0 ]
}

@test "bridge: ipMasq adds a masquerade rule per container (IPv4 and IPv6) and DEL removes exactly it" {
	ipam=$(printf '{"type":"cove-host-local","dataDir":"%s/ipam","ranges":[[{"subnet":"10.207.0.0/24"}],[{"subnet":"fd42:cd::/64"}]]}' "$CNI_TMP")
	CONF=$(bridge_conf "$ipam" '"isGateway":true,"ipMasq":true')
	ns=$(cni_make_netns)
	add "$ns" c1
	nft list chain ip cove-cni postrouting | grep -q "ip saddr 10.207.0.2 ip daddr != 10.207.0.0/24 ip daddr != 224.0.0.0/4 masquerade comment \"$NET/c1/eth0\""
	nft list chain ip6 cove-cni postrouting | grep -q "ip6 saddr fd42:cd::2 ip6 daddr != fd42:cd::/64 .*masquerade comment \"$NET/c1/eth0\""
	[ "$(cat /proc/sys/net/ipv4/ip_forward)" = 1 ]
	NETNS=$ns CID=c1 run cni_exec bridge DEL "$CONF"
	[ "$status" -eq 0 ]
	[ -z "$(bridge_rules ip)" ]
	[ -z "$(bridge_rules ip6)" ]
}

@test "bridge: macspoofchk drops frames with another source MAC from the container's veth" {
	CONF=$(bridge_conf "$(cni_ipam_json 10.208.0.0/24)" '"isGateway":true,"macspoofchk":true')
	ns=$(cni_make_netns)
	add "$ns" c1
	veth=$(jq -r '.interfaces[1].name' <<<"$RES")
	mac=$(jq -r '.interfaces[2].mac' <<<"$RES")
	nft list chain bridge cove-cni prerouting | grep -q "iifname \"$veth\" ether saddr != $mac drop comment \"$NET/c1/eth0\""
	nsping "$ns" 10.208.0.1
	ip -n "${ns##*/}" link set eth0 address 0a:58:00:00:00:99
	ip netns exec "${ns##*/}" ip neigh flush all
	run ! nsping "$ns" 10.208.0.1
	NETNS=$ns CID=c1 run cni_exec bridge DEL "$CONF"
	[ -z "$(bridge_rules bridge)" ]
}

@test "bridge: hairpinMode, portIsolation, promiscMode, mtu and a requested MAC are applied" {
	CONF=$(bridge_conf "$(cni_ipam_json 10.209.0.0/24)" '"hairpinMode":true,"portIsolation":true,"promiscMode":true,"mtu":1400,"runtimeConfig":{"mac":"0a:58:0a:d1:00:42"}')
	ns=$(cni_make_netns)
	add "$ns" c1
	veth=$(jq -r '.interfaces[1].name' <<<"$RES")
	d=$(ip -d link show "$veth")
	[[ $d == *"hairpin on"* ]]
	[[ $d == *"isolated on"* ]]
	[[ $d == *"mtu 1400"* ]]
	[[ $(ip link show "$BR") == *PROMISC* ]]
	[ "$(jq -r '.interfaces[2].mac' <<<"$RES")" = 0a:58:0a:d1:00:42 ]
	[ "$(ip -n "${ns##*/}" -j link show eth0 | jq -r '.[0].address')" = 0a:58:0a:d1:00:42 ]
	[ "$(ip -n "${ns##*/}" -j link show eth0 | jq -r '.[0].mtu')" = 1400 ]
}

@test "bridge: L2 only (no ipam) gives interfaces and no IPs; disableContainerInterface leaves it down" {
	CONF=$(cni_conf "$NET" cove-bridge '{}' 1.1.0 "\"bridge\":\"$BR\"")
	ns=$(cni_make_netns)
	add "$ns" c1
	[ "$(jq -r '.ips // [] | length' <<<"$RES")" = 0 ]
	[ "$(jq -r '.interfaces | length' <<<"$RES")" = 3 ]
	ip -n "${ns##*/}" link show eth0 | grep -q "state UP\|,UP"
	CONF=$(cni_conf "$NET" cove-bridge '{}' 1.1.0 "\"bridge\":\"$BR\",\"disableContainerInterface\":true")
	add "$ns" c2 eth1
	[[ $(ip -n "${ns##*/}" link show eth1) != *",UP"* ]]
}

@test "bridge: a failed ADD (IPAM exhausted) leaves no veth, no lease and no nft rule" {
	# a /30 has one address left once the gateway is taken
	CONF=$(bridge_conf "$(cni_ipam_json 10.210.0.0/30)" '"isGateway":true,"ipMasq":true')
	ns1=$(cni_make_netns)
	ns2=$(cni_make_netns)
	add "$ns1" c1
	fails ADD "$ns2" c2 "$CONF" '.'
	[ "$(bridge_ports)" = 1 ]
	run ! ip -n "${ns2##*/}" link show eth0
	[ "$(bridge_leases)" = 1 ]
	[ "$(bridge_rules ip)" = "$NET/c1/eth0" ]
}

@test "bridge: a bad ipam config fails with its error and leaves nothing" {
	CONF=$(bridge_conf "$(printf '{"type":"cove-host-local","subnet":"not-a-subnet","dataDir":"%s/ipam"}' "$CNI_TMP")" '"ipMasq":true')
	ns=$(cni_make_netns)
	fails ADD "$ns" c1 "$CONF" 'subnet'
	[ "$(bridge_ports)" = 0 ]
	run ! ip -n "${ns##*/}" link show eth0
	[ "$(bridge_leases)" = 0 ]
	[ -z "$(bridge_rules ip)" ]
}

@test "bridge: an interface name taken in the container fails clearly and leaves nothing" {
	CONF=$(bridge_conf "$(cni_ipam_json 10.211.0.0/24)")
	ns=$(cni_make_netns)
	add "$ns" c1
	fails ADD "$ns" c2 "$CONF" 'eth0 already exists in netns'
	[ "$(bridge_ports)" = 1 ]
	[ "$(bridge_leases)" = 1 ]
}

@test "bridge: invalid config values are code 7 errors naming the key" {
	ns=$(cni_make_netns)
	for extra in '"vlan":5000' '"mtu":-1' '"hairpinMode":"yes"' '"vlanTrunk":[{"minID":10}]' '"isGateway":true,"vlan":10' '"bridge":"a-very-long-bridge-name"'; do
		CONF=$(cni_conf "$NET" cove-bridge "$(cni_ipam_json 10.212.0.0/24)" 1.1.0 "$extra")
		NETNS=$ns CID=c1 run cni_exec bridge ADD "$CONF"
		echo "$extra -> $output"
		cni_expect_error 7
	done
	[ "$(bridge_leases)" = 0 ]
}

@test "bridge: a missing netns fails ADD and leaves nothing" {
	CONF=$(bridge_conf "$(cni_ipam_json 10.213.0.0/24)")
	fails ADD "/run/netns/cove-no-such-netns" c1 "$CONF" 'cove-no-such-netns'
	[ "$(bridge_leases)" = 0 ]
}

@test "bridge: GC removes rules and leases of attachments not in cni.dev/valid-attachments" {
	CONF=$(bridge_conf "$(cni_ipam_json 10.214.0.0/24)" '"isGateway":true,"ipMasq":true')
	add_two
	gconf=$(jq -c '. + {"cni.dev/valid-attachments":[{"containerID":"c2","ifname":"eth0"}]}' <<<"$CONF")
	run cni_exec bridge GC "$gconf" CNI_CONTAINERID= CNI_NETNS= CNI_IFNAME=
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(bridge_rules ip)" = "$NET/c2/eth0" ]
	[ "$(bridge_leases)" = 1 ]
}

@test "bridge: STATUS delegates to IPAM" {
	CONF=$(bridge_conf "$(cni_ipam_json 10.215.0.0/24)")
	run cni_exec bridge STATUS "$CONF" CNI_CONTAINERID= CNI_NETNS= CNI_IFNAME=
	echo "$output"
	[ "$status" -eq 0 ]
	CONF=$(bridge_conf '{"type":"cove-no-such-ipam"}')
	run cni_exec bridge STATUS "$CONF" CNI_CONTAINERID= CNI_NETNS= CNI_IFNAME=
	[ "$status" -ne 0 ]
}

@test "bridge: old result versions (0.3.1, 0.4.0) and the reference host-local IPAM" {
	[ -x "$CNI_REF_DIR/host-local" ] || skip "reference host-local not installed"
	ipam=$(printf '{"type":"host-local","subnet":"10.216.0.0/24","dataDir":"%s/ipam"}' "$CNI_TMP")
	CONF=$(bridge_conf "$ipam" '"isGateway":true' 0.3.1)
	ns=$(cni_make_netns)
	add "$ns" c1
	[ "$(jq -r .cniVersion <<<"$RES")" = 0.3.1 ]
	[ "$(jq -r '.ips[0].version' <<<"$RES")" = 4 ]
	nsping "$ns" 10.216.0.1
	NETNS=$ns CID=c1 run cni_exec bridge DEL "$CONF"
	[ "$status" -eq 0 ]
	[ "$(bridge_leases)" = 0 ]
	CONF=$(bridge_conf "$ipam" '"isGateway":true' 0.4.0)
	add "$ns" c2
	[ "$(jq -r .cniVersion <<<"$RES")" = 0.4.0 ]
	NETNS=$ns CID=c2 run cni_exec bridge CHECK "$(with_prev "$CONF" "$RES")"
	[ "$status" -eq 0 ]
}

@test "bridge: vlan and vlanTrunk tag the port, or fail clearly on a kernel without VLAN filtering" {
	CONF=$(bridge_conf "$(cni_ipam_json 10.217.0.0/24)" '"vlan":100,"vlanTrunk":[{"minID":200,"maxID":210}],"preserveDefaultVlan":false')
	ns=$(cni_make_netns)
	NETNS=$ns CID=c1 run cni_exec bridge ADD "$CONF"
	echo "$output"
	if [ "$status" -ne 0 ]; then
		jq -e '.msg | test("CONFIG_BRIDGE_VLAN_FILTERING")' <<<"$output"
		[ "$(bridge_ports)" = 0 ]
		[ "$(bridge_leases)" = 0 ]
		run ! ip -n "${ns##*/}" link show eth0
		skip "kernel without bridge VLAN filtering; the failure was clean"
	fi
	veth=$(jq -r '.interfaces[1].name' <<<"$output")
	v=$(bridge vlan show dev "$veth")
	[[ $v == *"100 PVID Egress Untagged"* ]]
	[[ $v == *200* ]]
	ip -d link show "$BR" | grep -q "vlan_filtering 1"
}
