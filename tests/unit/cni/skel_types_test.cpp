// cni/skel types: IP parsing and arithmetic, result encoding per version and decoding of every
// version (round trips), error objects.
#include <catch2/catch.hpp>

#include "cni/skel/ip.hpp"
#include "cni/skel/types.hpp"

using namespace cove::cni;
using cove::json::Json;

namespace {

CniResult sample() {
    CniResult r;
    Interface br;
    br.name = "cni0";
    br.mac = "aa:bb:cc:dd:ee:ff";
    Interface c;
    c.name = "eth0";
    c.mac = "0a:58:0a:01:00:02";
    c.sandbox = "/run/netns/x";
    c.mtu = 1450;
    c.pci_id = "0000:00:01.0";
    r.interfaces = {br, c};
    r.ips.push_back({*IpNet::parse("10.1.0.2/24"), IpAddr::parse("10.1.0.1"), 1});
    r.ips.push_back({*IpNet::parse("fd00::2/64"), IpAddr::parse("fd00::1"), 1});
    Route def;
    def.dst = *IpNet::parse("0.0.0.0/0");
    def.gw = IpAddr::parse("10.1.0.1");
    def.table = 100;
    def.mtu = 1400;
    r.routes = {def};
    r.dns.nameservers = {"10.1.0.1"};
    r.dns.search = {"example.org"};
    return r;
}

}  // namespace

TEST_CASE("ip: parse, print and arithmetic") {
    auto a = IpAddr::parse("10.0.0.255");
    REQUIRE(a);
    CHECK(a->next().to_string() == "10.0.1.0");
    CHECK(a->next().prev() == *a);
    CHECK(IpAddr::parse("::ffff:10.0.0.1")->is_v4());
    CHECK(IpAddr::parse("fd00::1")->to_string() == "fd00::1");
    CHECK_FALSE(IpAddr::parse("10.0.0"));
    CHECK_FALSE(IpAddr::parse(""));
    auto n = IpNet::parse("10.1.2.3/20");
    REQUIRE(n);
    CHECK(n->network().to_string() == "10.1.0.0");
    CHECK(n->last().to_string() == "10.1.15.255");
    CHECK(n->mask().to_string() == "255.255.240.0");
    CHECK(n->contains(*IpAddr::parse("10.1.15.1")));
    CHECK_FALSE(n->contains(*IpAddr::parse("10.1.16.1")));
    CHECK_FALSE(IpNet::parse("10.1.2.3/33"));
    CHECK_FALSE(IpNet::parse("10.1.2.3"));
    CHECK(IpNet::parse("10.1.2.3", true)->prefix == 32);
    CHECK(IpNet::parse("fd00::/64")->overlaps(*IpNet::parse("fd00::1:0/112")));
    CHECK_FALSE(IpNet::parse("10.0.0.0/24")->overlaps(*IpNet::parse("10.0.1.0/24")));
    CHECK(*IpAddr::parse("10.0.0.1") < *IpAddr::parse("10.0.0.2"));
    CHECK(*IpAddr::parse("255.0.0.1") < *IpAddr::parse("::1"));
}

TEST_CASE("versions: compare and support") {
    CHECK(compare_versions("0.4.0", "1.0.0") == -1);
    CHECK(compare_versions("1.10.0", "1.9.0") == 1);
    CHECK(compare_versions("1.1.0", "1.1.0") == 0);
    CHECK_FALSE(compare_versions("1.1", "1.1.0"));
    CHECK(is_supported_version("0.3.1"));
    CHECK_FALSE(is_supported_version("0.2.0"));
}

TEST_CASE("result: 0.3.x and 0.4.0 carry ips[].version, 1.x does not") {
    for (const char* v : {"0.3.0", "0.3.1", "0.4.0"}) {
        auto j = encode_result(sample(), v);
        REQUIRE(j);
        CHECK((*j)["cniVersion"] == v);
        CHECK((*j)["ips"][0]["version"] == "4");
        CHECK((*j)["ips"][1]["version"] == "6");
        CHECK((*j)["ips"][0]["interface"] == 1);
        CHECK_FALSE((*j)["interfaces"][1].contains("mtu"));
        CHECK_FALSE((*j)["routes"][0].contains("table"));
    }
    auto j10 = encode_result(sample(), "1.0.0");
    REQUIRE(j10);
    CHECK_FALSE((*j10)["ips"][0].contains("version"));
    CHECK_FALSE((*j10)["interfaces"][1].contains("pciID"));
    auto j11 = encode_result(sample(), "1.1.0");
    REQUIRE(j11);
    CHECK((*j11)["interfaces"][1]["mtu"] == 1450);
    CHECK((*j11)["interfaces"][1]["pciID"] == "0000:00:01.0");
    CHECK((*j11)["routes"][0]["table"] == 100);
    CHECK((*j11)["routes"][0]["mtu"] == 1400);
    CHECK((*j11)["dns"]["nameservers"][0] == "10.1.0.1");
    auto bad = encode_result(sample(), "0.2.0");
    REQUIRE_FALSE(bad);
    CHECK(cni_code_of(bad.error()) == kErrIncompatibleVersion);
}

TEST_CASE("result: round trips through every version") {
    for (auto v : kSupportedVersions) {
        auto j = encode_result(sample(), v);
        REQUIRE(j);
        auto r = decode_result(Json::parse(j->dump()));
        REQUIRE(r);
        CHECK(r->cni_version == v);
        REQUIRE(r->ips.size() == 2);
        CHECK(r->ips[1].address.to_string() == "fd00::2/64");
        CHECK(r->ips[0].gateway->to_string() == "10.1.0.1");
        CHECK(r->ips[0].interface == 1);
        REQUIRE(r->interfaces.size() == 2);
        CHECK(r->interfaces[1].sandbox == "/run/netns/x");
        CHECK(r->routes[0].gw->to_string() == "10.1.0.1");
        CHECK(r->dns.search == std::vector<std::string>{"example.org"});
        // A decoded result re-encodes identically in its own version.
        CHECK(encode_result(*r, v)->dump() == j->dump());
        // And converts to any other.
        for (auto w : kSupportedVersions) {
            CHECK(encode_result(*r, w));
        }
    }
}

TEST_CASE("result: decode failures name the field") {
    auto r = decode_result_text(R"({"cniVersion":"1.0.0","ips":[{"address":"10.0.0.1"}]})");
    REQUIRE_FALSE(r);
    CHECK(cni_code_of(r.error()) == kErrDecodingFailure);
    CHECK(r.error().message().find("address") != std::string::npos);
    auto v = decode_result_text(
        R"({"cniVersion":"0.4.0","ips":[{"version":"6","address":"10.0.0.1/24"}]})");
    REQUIRE_FALSE(v);
    auto idx = decode_result_text(
        R"({"cniVersion":"1.0.0","ips":[{"address":"10.0.0.1/24","interface":3}]})");
    REQUIRE_FALSE(idx);
    auto ver = decode_result_text(R"({"cniVersion":"0.2.0","ip4":{}})");
    REQUIRE_FALSE(ver);
    CHECK(cni_code_of(ver.error()) == kErrIncompatibleVersion);
    CHECK_FALSE(decode_result_text("{"));
    // No cniVersion in the object: the caller's version applies (prevResult of old runtimes).
    auto dflt = decode_result_text(R"({"ips":[{"address":"10.0.0.1/24"}]})", "1.0.0");
    REQUIRE(dflt);
    CHECK(dflt->cni_version == "1.0.0");
}

TEST_CASE("error objects") {
    auto e = cni_error(kErrInvalidNetworkConfig, "ipam: subnet: missing");
    auto wrapped = std::move(e).wrap("bridge");
    CHECK(cni_code_of(wrapped) == 7);
    auto j = CniError::from(wrapped, "1.0.0").to_json();
    CHECK(j["cniVersion"] == "1.0.0");
    CHECK(j["code"] == 7);
    CHECK(j["msg"] == "bridge: ipam: subnet: missing");
    CHECK_FALSE(j.contains("details"));
    CHECK(cni_code_of(cove::make_error("plain")) == kErrInternal);

    auto p = CniError::parse(R"({"code":11,"msg":"busy","details":"lock held"})");
    REQUIRE(p);
    CHECK(p->code == 11);
    auto back = p->to_error();
    CHECK(cni_code_of(back) == 11);
    CHECK(back.message() == "busy: lock held");
    CHECK_FALSE(CniError::parse(R"({"cniVersion":"1.0.0","ips":[]})"));
    CHECK_FALSE(CniError::parse("garbage"));
}
