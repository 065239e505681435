// cni/netlink against the real kernel, in throwaway network namespaces made by the test
// (`ip netns add`) and removed at the end of each test case, also when it fails.
#include "cni/netlink/netlink.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <catch2/catch.hpp>

#include "cni/netlink/netns.hpp"
#include "cni/netlink/nft.hpp"
#include "cni/netlink/sysctl.hpp"

using namespace cove;
using namespace cove::nl;

namespace {

bool have_root() {
    return ::geteuid() == 0;
}

std::string sh(const std::string& cmd) {
    std::string out;
    FILE* p = ::popen(cmd.c_str(), "r");  // NOLINT(cert-env33-c)
    if (p == nullptr) {
        return out;
    }
    std::array<char, 512> buf{};
    while (std::fgets(buf.data(), buf.size(), p) != nullptr) {
        out += buf.data();
    }
    ::pclose(p);
    return out;
}

struct TestNetns {
    std::string name;
    std::string path;
    explicit TestNetns(const std::string& tag) {
        name = "cvnl" + tag + std::to_string(::getpid());
        path = "/run/netns/" + name;
        REQUIRE(std::system(("ip netns add " + name).c_str()) == 0);  // NOLINT(cert-env33-c)
    }
    ~TestNetns() {
        if (std::system(("ip netns del " + name + " 2>/dev/null").c_str()) != 0) {  // NOLINT
            WARN("could not delete netns " + name);
        }
    }
    TestNetns(const TestNetns&) = delete;
    TestNetns& operator=(const TestNetns&) = delete;
};

ino_t netns_inode(const char* path) {
    struct stat st = {};
    REQUIRE(::stat(path, &st) == 0);
    return st.st_ino;
}

Netlink open_in(const TestNetns& ns) {
    auto scope = ScopedNetns::enter(ns.path);
    REQUIRE(scope.ok());
    auto nl = Netlink::open();
    REQUIRE(nl.ok());
    return std::move(nl).value();
}

#define REQUIRE_OK(expr)                                          \
    do {                                                          \
        const auto& r_ = (expr);                                  \
        INFO((r_.ok() ? std::string() : r_.error().to_string())); \
        REQUIRE(r_.ok());                                         \
    } while (0)

}  // namespace

TEST_CASE("ScopedNetns enters a namespace and returns on scope exit", "[priv][netns]") {
    if (!have_root()) {
        WARN("skipped: needs root");
        return;
    }
    TestNetns ns("a");
    ino_t host = netns_inode("/proc/thread-self/ns/net");
    {
        auto scope = ScopedNetns::enter(ns.path);
        REQUIRE_OK(scope);
        CHECK(netns_inode("/proc/thread-self/ns/net") == netns_inode(ns.path.c_str()));
        CHECK(netns_inode("/proc/thread-self/ns/net") != host);
    }
    CHECK(netns_inode("/proc/thread-self/ns/net") == host);
}

TEST_CASE("open_netns rejects what is not a network namespace", "[priv][netns]") {
    auto r = open_netns("/etc/hostname");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().to_string().find("not a network namespace") != std::string::npos);
    auto missing = open_netns("/run/netns/cove-no-such-netns");
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().code() == ENOENT);
    CHECK(missing.error().to_string().find("/run/netns/cove-no-such-netns") != std::string::npos);
    if (have_root()) {
        auto mnt = open_netns("/proc/self/ns/mnt");
        REQUIRE_FALSE(mnt.ok());
        CHECK(mnt.error().to_string().find("not a network namespace") != std::string::npos);
    }
}

TEST_CASE("bridge, veth into another netns, port flags, vlans", "[priv][netlink]") {
    if (!have_root()) {
        WARN("skipped: needs root");
        return;
    }
    TestNetns host("h");
    TestNetns cont("c");
    Netlink nl = open_in(host);

    BridgeOptions bo;
    bo.name = "cvbr0";
    bo.mtu = 1400;
    auto br = nl.ensure_bridge(bo);
    REQUIRE_OK(br);
    CHECK(br->kind == "bridge");
    CHECK(br->up);
    CHECK(br->mtu == 1400);
    // Reuse: same index.
    BridgeOptions bo2;
    bo2.name = "cvbr0";
    bo2.promisc = true;
    auto again = nl.ensure_bridge(bo2);
    REQUIRE_OK(again);
    CHECK(again->index == br->index);
    CHECK(again->promisc);
    // Some kernels are built without CONFIG_BRIDGE_VLAN_FILTERING (this CI host's is).
    auto vf = nl.set_vlan_filtering(br->index, true);
    bool have_vlans = vf.ok();
    if (have_vlans) {
        CHECK(sh("ip -n " + host.name + " -d link show cvbr0").find("vlan_filtering 1") !=
              std::string::npos);
    } else {
        CHECK(vf.error().code() == EOPNOTSUPP);
        WARN("vlan part skipped: " + vf.error().to_string());
    }

    auto fd = open_netns(cont.path);
    REQUIRE_OK(fd);
    VethOptions vo;
    vo.peer_name = "eth7";
    vo.peer_mac = "0a:58:0a:01:00:05";
    vo.mtu = 1400;
    vo.peer_netns_fd = fd->get();
    vo.peer_netns_name = cont.path;
    auto veth = nl.add_veth(vo);
    REQUIRE_OK(veth);
    CHECK(veth->name.rfind("veth", 0) == 0);
    CHECK(veth->name.size() == 12);
    CHECK(veth->kind == "veth");
    CHECK(veth->mtu == 1400);

    Netlink cnl = open_in(cont);
    auto peer = cnl.link("eth7");
    REQUIRE_OK(peer);
    CHECK(peer->mac == "0a:58:0a:01:00:05");
    CHECK(peer->index == veth->peer_index);
    CHECK_FALSE(nl.find_link("eth7")->has_value());

    // The same peer name again: the kernel's EEXIST, with the names in the message.
    vo.peer_mac.clear();
    auto dup = nl.add_veth(vo);
    REQUIRE_FALSE(dup.ok());
    CHECK(dup.error().code() == EEXIST);
    CHECK(dup.error().to_string().find("peer eth7 in netns " + cont.path) != std::string::npos);

    REQUIRE_OK(nl.set_master(veth->index, br->index));
    REQUIRE_OK(nl.set_up(veth->index, true));
    BridgePortFlags pf;
    pf.hairpin = true;
    pf.isolated = true;
    REQUIRE_OK(nl.set_bridge_port(veth->index, pf));
    std::string d = sh("ip -n " + host.name + " -d link show " + veth->name);
    CHECK(d.find("hairpin on") != std::string::npos);
    CHECK(d.find("isolated on") != std::string::npos);
    CHECK(nl.link(veth->index)->master == br->index);

    if (have_vlans) {
        REQUIRE_OK(nl.bridge_vlan_add(veth->index, 10, 10, true, true));
        REQUIRE_OK(nl.bridge_vlan_add(veth->index, 20, 25, false, false));
        REQUIRE_OK(nl.bridge_vlan_del(veth->index, 1, 1));
        std::string v = sh("bridge -n " + host.name + " vlan show dev " + veth->name);
        CHECK(v.find("10 PVID Egress Untagged") != std::string::npos);
        CHECK(v.find("20") != std::string::npos);
        CHECK(v.find("25") != std::string::npos);
        CHECK(v.find(" 1 PVID") == std::string::npos);
    }
    auto bad = nl.bridge_vlan_add(veth->index, 5000, 5000, false, false);
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().to_string().find("1..4094") != std::string::npos);

    // A non-bridge with the bridge's name is refused.
    BridgeOptions bo3;
    bo3.name = veth->name;
    auto notbr = nl.ensure_bridge(bo3);
    REQUIRE_FALSE(notbr.ok());
    CHECK(notbr.error().to_string().find("is not a bridge") != std::string::npos);

    // Deleting one end removes the pair; deleting again is fine.
    REQUIRE_OK(nl.del_link(veth->index));
    CHECK_FALSE(cnl.find_link("eth7")->has_value());
    REQUIRE_OK(nl.del_link(veth->name));
    auto gone = nl.link(veth->name);
    REQUIRE_FALSE(gone.ok());
    CHECK(gone.error().code() == ENODEV);
}

TEST_CASE("addresses and routes, IPv4 and IPv6", "[priv][netlink]") {
    if (!have_root()) {
        WARN("skipped: needs root");
        return;
    }
    TestNetns ns("r");
    Netlink nl = open_in(ns);
    BridgeOptions bo;
    bo.name = "cvbr1";
    auto br = nl.ensure_bridge(bo);
    REQUIRE_OK(br);
    {
        auto scope = ScopedNetns::enter(ns.path);
        REQUIRE_OK(scope);
        REQUIRE_OK(sysctl_set("net/ipv6/conf/cvbr1/disable_ipv6", "0"));
        CHECK(*sysctl_get("net/ipv6/conf/cvbr1/disable_ipv6") == "0");
    }
    auto v4 = IpNet::parse("10.99.0.1/24");
    auto v6 = IpNet::parse("fd99::1/64");
    REQUIRE(v4);
    REQUIRE(v6);
    REQUIRE_OK(nl.add_address(br->index, *v4));
    REQUIRE_OK(nl.add_address(br->index, *v6, true));
    auto dup = nl.add_address(br->index, *v4);
    REQUIRE_FALSE(dup.ok());
    CHECK(dup.error().code() == EEXIST);
    CHECK(dup.error().to_string().find("10.99.0.1/24") != std::string::npos);

    auto addrs = nl.addresses(br->index);
    REQUIRE_OK(addrs);
    CHECK(std::find(addrs->begin(), addrs->end(), *v4) != addrs->end());
    CHECK(std::find(addrs->begin(), addrs->end(), *v6) != addrs->end());
    auto only4 = nl.addresses(br->index, AF_INET);
    REQUIRE_OK(only4);
    CHECK(only4->size() == 1);
    CHECK(sh("ip -n " + ns.name + " addr show cvbr1").find("brd 10.99.0.255") != std::string::npos);
    // nodad: not tentative even though the link is down.
    CHECK(sh("ip -n " + ns.name + " -6 addr show cvbr1").find("fd99::1/64 scope global nodad") !=
          std::string::npos);

    Route def4;
    def4.dst = *IpNet::parse("0.0.0.0/0");
    def4.gw = *IpAddr::parse("10.99.0.254");
    def4.ifindex = br->index;
    Route net6;
    net6.dst = *IpNet::parse("fd42::/48");
    net6.gw = *IpAddr::parse("fd99::fe");
    net6.ifindex = br->index;
    REQUIRE_OK(nl.add_route(def4));
    REQUIRE_OK(nl.add_route(net6));
    auto routes = nl.routes(0, br->index);
    REQUIRE_OK(routes);
    bool found4 = false;
    bool found6 = false;
    for (const auto& r : *routes) {
        found4 |= r.dst.prefix == 0 && r.gw && r.gw->to_string() == "10.99.0.254";
        found6 |= r.dst.to_string() == "fd42::/48" && r.gw && r.gw->to_string() == "fd99::fe";
    }
    CHECK(found4);
    CHECK(found6);
    REQUIRE_OK(nl.del_route(def4));
    REQUIRE_OK(nl.del_route(def4));
    REQUIRE_OK(nl.del_address(br->index, *v4));
    REQUIRE_OK(nl.del_address(br->index, *v4));
    CHECK(nl.addresses(br->index, AF_INET)->empty());
    CHECK(nl.neighbours(br->index).ok());
}

TEST_CASE("nftables tagged rules: replace, list, delete", "[priv][nft]") {
    if (!have_root()) {
        WARN("skipped: needs root");
        return;
    }
    TestNetns ns("n");
    auto scope = ScopedNetns::enter(ns.path);
    REQUIRE_OK(scope);
    auto nft = Nft::open();
    REQUIRE_OK(nft);
    NftChain c{"ip", "cove-test", "postrouting",
               "type nat hook postrouting priority srcnat; policy accept;"};
    CHECK(list_tagged_rules(*nft, c)->empty());
    REQUIRE_OK(replace_tagged_rules(*nft, c, "net/c1/eth0",
                                    {"ip saddr 10.1.0.5 ip daddr != 10.1.0.0/24 masquerade"}));
    REQUIRE_OK(replace_tagged_rules(*nft, c, "net/c1/eth0",
                                    {"ip saddr 10.1.0.5 ip daddr != 10.1.0.0/24 masquerade"}));
    REQUIRE_OK(replace_tagged_rules(*nft, c, "net/c2/eth0",
                                    {"ip saddr 10.1.0.6 ip daddr != 10.1.0.0/24 masquerade"}));
    auto rules = list_tagged_rules(*nft, c);
    REQUIRE_OK(rules);
    REQUIRE(rules->size() == 2);
    REQUIRE_OK(
        delete_tagged_rules(*nft, c, [](const std::string& t) { return t == "net/c1/eth0"; }));
    rules = list_tagged_rules(*nft, c);
    REQUIRE(rules->size() == 1);
    CHECK(rules->front().tag == "net/c2/eth0");
    REQUIRE_OK(delete_tagged_rules(*nft, c, [](const std::string&) { return true; }));
    REQUIRE_OK(delete_tagged_rules(*nft, c, [](const std::string&) { return true; }));
    auto bad = replace_tagged_rules(*nft, c, "bad\"tag", {"accept"});
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().to_string().find("not allowed") != std::string::npos);
    auto syntax = nft->run("add rule ip cove-test postrouting frobnicate", "test");
    REQUIRE_FALSE(syntax.ok());
    CHECK(syntax.error().to_string().find("nftables: test: ") == 0);
}
