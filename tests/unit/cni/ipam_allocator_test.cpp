// host-local IPAM against a temp dataDir: config forms (ranges, legacy subnet), range checks,
// exclusions (gateway, network, broadcast), round robin from last_reserved_ip, requested IPs,
// exhaustion, dual stack, the reference's on-disk format, release by id.
#include <fstream>
#include <set>
#include <sstream>

#include <catch2/catch.hpp>

#include "cni/ipam/allocator.hpp"
#include "cni/ipam/config.hpp"
#include "cni/ipam/store.hpp"
#include "tests/helpers/temp_dir.hpp"

using namespace cove::cni;
using namespace cove::cni::ipam;
using cove::test::TempDir;

namespace {

Request request(const std::string& ipam,
                const std::string& cni_args = "",
                const std::string& extra = "") {
    Request r;
    std::string conf = R"({"cniVersion":"1.0.0","name":"net","type":"x","ipam":)" + ipam +
                       (extra.empty() ? "" : "," + extra) + "}";
    auto st = parse_config(conf, &r);
    REQUIRE(st);
    r.cni_args = *parse_cni_args(cni_args);
    return r;
}

std::string read(const std::string& path) {
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

Range range(const std::string& json) {
    auto r = parse_range(cove::json::Json::parse(json));
    REQUIRE(r);
    return *r;
}

}  // namespace

TEST_CASE("ipam config: legacy subnet form and defaults") {
    auto c = load_config(request(R"({"type":"h","subnet":"10.1.0.0/24"})"));
    REQUIRE(c);
    CHECK(c->data_dir == kDefaultDataDir);
    REQUIRE(c->range_sets.size() == 1);
    const Range& r = c->range_sets[0][0];
    CHECK(r.start.to_string() == "10.1.0.1");
    CHECK(r.end.to_string() == "10.1.0.254");
    CHECK(r.gateway.to_string() == "10.1.0.1");
    auto v6 = range(R"({"subnet":"fd00::/120"})");
    CHECK(v6.end.to_string() == "fd00::ff");
}

TEST_CASE("ipam config: ranges, routes, requested IPs") {
    auto c = load_config(request(
        R"({"type":"h","ranges":[[{"subnet":"10.1.0.0/24","rangeStart":"10.1.0.10","rangeEnd":"10.1.0.20","gateway":"10.1.0.254"}],[{"subnet":"fd00::/64"}]],
            "routes":[{"dst":"0.0.0.0/0"},{"dst":"192.168.0.0/16","gw":"10.1.0.254"}],"dataDir":"/x"})",
        "IgnoreUnknown=1;IP=10.1.0.15,fd00::9;K8S_POD_NAME=p",
        R"("args":{"cni":{"ips":["10.1.0.16"]}})"));
    REQUIRE(c);
    CHECK(c->data_dir == "/x");
    REQUIRE(c->range_sets.size() == 2);
    CHECK(c->range_sets[0][0].gateway.to_string() == "10.1.0.254");
    REQUIRE(c->routes.size() == 2);
    CHECK(c->routes[1].gw->to_string() == "10.1.0.254");
    REQUIRE(c->requested.size() == 3);
    CHECK(c->requested[1].to_string() == "fd00::9");
}

TEST_CASE("ipam config: invalid ranges are code 7 naming the field") {
    auto bad = [](const std::string& ipam, const std::string& needle) {
        auto c = load_config(request(ipam));
        REQUIRE_FALSE(c);
        CHECK(cni_code_of(c.error()) == kErrInvalidNetworkConfig);
        INFO(c.error().message());
        CHECK(c.error().message().find(needle) != std::string::npos);
    };
    bad(R"({"type":"h"})", "no IP ranges");
    bad(R"({"type":"h","subnet":"10.1.0.0/31"})", "too small");
    bad(R"({"type":"h","subnet":"10.1.0.5/24"})", "host bits");
    bad(R"({"type":"h","subnet":"10.1.0.0/24","rangeStart":"10.2.0.1"})", "rangeStart");
    bad(R"({"type":"h","subnet":"10.1.0.0/24","rangeStart":"10.1.0.9","rangeEnd":"10.1.0.3"})",
        "after rangeEnd");
    bad(R"({"type":"h","subnet":"nope"})", "subnet");
    bad(R"({"type":"h","ranges":[[{"subnet":"10.1.0.0/24"},{"subnet":"fd00::/64"}]]})", "mixed");
    bad(R"({"type":"h","ranges":[[{"subnet":"10.1.0.0/24"}],[{"subnet":"10.1.0.0/25"}]]})",
        "overlaps");
    bad(R"({"type":"h","ranges":[[{"subnet":"10.1.0.0/24"},{"subnet":"10.1.0.0/24"}]]})",
        "overlap");
    bad(R"({"type":"h","ranges":"x"})", "ranges");
    bad(R"({"type":"h","subnet":"10.1.0.0/24","routes":[{"dst":"x"}]})", "routes");
    auto unknown = load_config(request(R"({"type":"h","subnet":"10.1.0.0/24"})", "FOO=1"));
    REQUIRE_FALSE(unknown);
    CHECK(cni_code_of(unknown.error()) == kErrInvalidEnv);
}

TEST_CASE("allocator: round robin, gateway skipped, reference file format") {
    TempDir tmp("cove-ipam");
    auto store = Store::open(tmp.path, "net", true);
    REQUIRE(store);
    REQUIRE(store->lock());
    RangeSet set{range(R"({"subnet":"10.2.0.0/29"})")};  // .1 gw, .2-.6 usable, .7 bcast
    Allocator a(set, *store, 0);
    std::vector<std::string> got;
    for (int i = 0; i < 5; ++i) {
        auto ip = a.get("c" + std::to_string(i), "eth0", std::nullopt);
        REQUIRE(ip);
        got.push_back(ip->address.to_string());
        CHECK(ip->gateway->to_string() == "10.2.0.1");
    }
    CHECK(got == std::vector<std::string>{"10.2.0.2/29", "10.2.0.3/29", "10.2.0.4/29",
                                          "10.2.0.5/29", "10.2.0.6/29"});
    CHECK(read(tmp.path + "/net/10.2.0.2") == "c0\r\neth0");
    CHECK(read(tmp.path + "/net/last_reserved_ip.0") == "10.2.0.6");
    CHECK(a.free_count().value() == 0);
    auto full = a.get("c9", "eth0", std::nullopt);
    REQUIRE_FALSE(full);
    CHECK(full.error().message().find("no IP addresses available") != std::string::npos);

    // Round robin: a freed low address is not reused before the ones after last_reserved.
    REQUIRE(store->release_by_id("c1", "eth0").value() == 1);
    REQUIRE(store->release_by_id("c3", "eth0").value() == 1);
    CHECK(a.free_count().value() == 2);
    CHECK(a.get("n1", "eth0", std::nullopt)->address.ip.to_string() == "10.2.0.3");
    CHECK(a.get("n2", "eth0", std::nullopt)->address.ip.to_string() == "10.2.0.5");
}

TEST_CASE("allocator: last_reserved continues across ranges of a set") {
    TempDir tmp("cove-ipam");
    auto store = Store::open(tmp.path, "net", true);
    REQUIRE(store);
    RangeSet set{
        range(R"({"subnet":"10.3.0.0/24","rangeStart":"10.3.0.10","rangeEnd":"10.3.0.11"})"),
        range(R"({"subnet":"10.4.0.0/24","rangeStart":"10.4.0.20","rangeEnd":"10.4.0.20"})")};
    Allocator a(set, *store, 0);
    CHECK(a.get("a", "eth0", std::nullopt)->address.ip.to_string() == "10.3.0.10");
    CHECK(a.get("b", "eth0", std::nullopt)->address.ip.to_string() == "10.3.0.11");
    CHECK(a.get("c", "eth0", std::nullopt)->address.to_string() == "10.4.0.20/24");
    REQUIRE(store->release_by_id("a", "eth0"));
    // Wraps from the end of the last range to the first.
    CHECK(a.get("d", "eth0", std::nullopt)->address.ip.to_string() == "10.3.0.10");
}

TEST_CASE("allocator: requested IPs") {
    TempDir tmp("cove-ipam");
    auto store = Store::open(tmp.path, "net", true);
    REQUIRE(store);
    RangeSet set{range(R"({"subnet":"10.5.0.0/24"})")};
    Allocator a(set, *store, 0);
    auto ip = a.get("a", "eth0", IpAddr::parse("10.5.0.77"));
    REQUIRE(ip);
    CHECK(ip->address.to_string() == "10.5.0.77/24");
    auto taken = a.get("b", "eth0", IpAddr::parse("10.5.0.77"));
    REQUIRE_FALSE(taken);
    CHECK(taken.error().message().find("not available") != std::string::npos);
    CHECK_FALSE(a.get("b", "eth0", IpAddr::parse("10.5.0.1")));    // gateway
    CHECK_FALSE(a.get("b", "eth0", IpAddr::parse("10.5.0.255")));  // broadcast
    CHECK_FALSE(a.get("b", "eth0", IpAddr::parse("10.6.0.1")));    // outside
    // The next free address follows the requested one (it became last_reserved).
    CHECK(a.get("b", "eth0", std::nullopt)->address.ip.to_string() == "10.5.0.78");
    // A second allocation for the same attachment is refused.
    CHECK_FALSE(a.get("b", "eth0", std::nullopt));
}

TEST_CASE("allocator: a rangeStart at the network address never hands it out") {
    TempDir tmp("cove-ipam");
    auto store = Store::open(tmp.path, "net", true);
    REQUIRE(store);
    RangeSet set{range(
        R"({"subnet":"10.7.0.0/30","rangeStart":"10.7.0.0","rangeEnd":"10.7.0.3","gateway":"10.7.0.2"})")};
    Allocator a(set, *store, 0);
    CHECK(a.free_count().value() == 1);
    CHECK(a.get("a", "eth0", std::nullopt)->address.ip.to_string() == "10.7.0.1");
    CHECK_FALSE(a.get("b", "eth0", std::nullopt));
}

TEST_CASE("allocator: dual stack keeps one last_reserved per set") {
    TempDir tmp("cove-ipam");
    auto store = Store::open(tmp.path, "net", true);
    REQUIRE(store);
    RangeSet v4{range(R"({"subnet":"10.8.0.0/24"})")};
    RangeSet v6{range(R"({"subnet":"fd00:8::/64"})")};
    Allocator a4(v4, *store, 0);
    Allocator a6(v6, *store, 1);
    CHECK(a4.get("a", "eth0", std::nullopt)->address.to_string() == "10.8.0.2/24");
    CHECK(a6.get("a", "eth0", std::nullopt)->address.to_string() == "fd00:8::2/64");
    CHECK(read(tmp.path + "/net/last_reserved_ip.1") == "fd00:8::2");
    CHECK(a6.free_count().value() > 1000);
    auto leases = store->leases();
    REQUIRE(leases);
    CHECK(leases->size() == 2);
    CHECK(store->release_by_id("a", "eth0").value() == 2);
    CHECK(store->leases()->empty());
}

TEST_CASE("store: release_by_id matches ifname, and old id-only leases") {
    TempDir tmp("cove-ipam");
    auto store = Store::open(tmp.path, "net", true);
    REQUIRE(store);
    REQUIRE(store->reserve("a", "eth0", *IpAddr::parse("10.0.0.2"), 0).value());
    REQUIRE(store->reserve("a", "eth1", *IpAddr::parse("10.0.0.3"), 0).value());
    CHECK_FALSE(store->reserve("b", "eth0", *IpAddr::parse("10.0.0.2"), 0).value());
    CHECK(store->release_by_id("a", "eth1").value() == 1);
    CHECK(store->release_by_id("a", "eth1").value() == 0);
    { std::ofstream(tmp.path + "/net/10.0.0.9") << "old\n"; }
    auto leases = store->leases();
    REQUIRE(leases);
    bool found = false;
    for (const auto& l : *leases) {
        found = found || (l.container_id == "old" && l.ifname.empty());
    }
    CHECK(found);
    CHECK(store->release_by_id("old", "eth0").value() == 1);
    CHECK_FALSE(Store::open(tmp.path, "missing", false));
}

TEST_CASE("resolv.conf parsing") {
    auto d = parse_resolv_conf(
        "# c\nnameserver 1.1.1.1\nnameserver\tfd00::53\ndomain x.org\nsearch a.org b.org\n"
        "options ndots:5 edns0\n");
    CHECK(d.nameservers == std::vector<std::string>{"1.1.1.1", "fd00::53"});
    CHECK(d.domain == "x.org");
    CHECK(d.search == std::vector<std::string>{"a.org", "b.org"});
    CHECK(d.options == std::vector<std::string>{"ndots:5", "edns0"});
}
