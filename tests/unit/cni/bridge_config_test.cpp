// cove-bridge's config parsing and rule tags, without root. The plugin's sources are built
// into its binary only, so this test compiles the two files it covers.
#include <catch2/catch.hpp>

#include "cni/plugins/bridge/config.cpp"    // NOLINT(bugprone-suspicious-include)
#include "cni/plugins/bridge/firewall.cpp"  // NOLINT(bugprone-suspicious-include)

using namespace cove;

namespace {

cni::Request request(const std::string& extra, const std::string& ipam = R"({"type":"x"})") {
    cni::Request req;
    std::string conf = R"({"cniVersion":"1.1.0","name":"net","type":"cove-bridge","ipam":)" + ipam +
                       (extra.empty() ? "" : "," + extra) + "}";
    auto st = cni::parse_config(conf, &req);
    INFO(conf);
    REQUIRE(st.ok());
    return req;
}

Error conf_error(const std::string& extra) {
    auto r = bridge::parse_bridge_conf(request(extra));
    REQUIRE_FALSE(r.ok());
    CHECK(cni::cni_code_of(r.error()) == cni::kErrInvalidNetworkConfig);
    return r.error();
}

}  // namespace

TEST_CASE("bridge config defaults match the reference plugin", "[bridge]") {
    auto c = bridge::parse_bridge_conf(request(""));
    REQUIRE(c.ok());
    CHECK(c->bridge == "cni0");
    CHECK_FALSE(c->is_gateway);
    CHECK_FALSE(c->ip_masq);
    CHECK(c->preserve_default_vlan);
    CHECK_FALSE(c->vlan_filtering());
    CHECK(c->mtu == 0);
    CHECK(c->has_ipam);
}

TEST_CASE("bridge config reads every key", "[bridge]") {
    auto c = bridge::parse_bridge_conf(request(
        R"("bridge":"br9","isDefaultGateway":true,"forceAddress":true,"ipMasq":true,"mtu":1400,)"
        R"("hairpinMode":true,"promiscMode":true,"vlanTrunk":[{"id":5},{"minID":10,"maxID":20}],)"
        R"("preserveDefaultVlan":false,"macspoofchk":true,"enabledad":true,"portIsolation":"true",)"
        R"("ipMasqBackend":"nftables","runtimeConfig":{"mac":"0a:58:00:00:00:01"})"));
    REQUIRE(c.ok());
    CHECK(c->bridge == "br9");
    CHECK(c->is_gateway);  // implied by isDefaultGateway
    CHECK(c->is_default_gateway);
    CHECK(c->force_address);
    CHECK(c->ip_masq);
    CHECK(c->mtu == 1400);
    CHECK(c->hairpin);
    CHECK(c->promisc);
    REQUIRE(c->vlan_trunk.size() == 2);
    CHECK(c->vlan_trunk[0].min == 5);
    CHECK(c->vlan_trunk[0].max == 5);
    CHECK(c->vlan_trunk[1].min == 10);
    CHECK(c->vlan_trunk[1].max == 20);
    CHECK(c->vlan_filtering());
    CHECK_FALSE(c->preserve_default_vlan);
    CHECK(c->mac_spoof_check);
    CHECK(c->enable_dad);
    CHECK(c->port_isolation);
    CHECK(c->mac == "0a:58:00:00:00:01");
}

TEST_CASE("bridge config errors name the key", "[bridge]") {
    CHECK(conf_error(R"("vlan":4095)").message().find("vlan: invalid VLAN ID 4095") == 0);
    CHECK(conf_error(R"("mtu":-1)").message().find("mtu:") == 0);
    CHECK(conf_error(R"("ipMasq":"yes")").message() == "ipMasq: must be a boolean");
    CHECK(conf_error(R"("bridge":"")").message().find("bridge:") == 0);
    CHECK(conf_error(R"("bridge":"sixteen-chars-xx")").message().find("bridge:") == 0);
    CHECK(conf_error(R"("vlanTrunk":[{"minID":10}])").message().find("vlanTrunk[0]") == 0);
    CHECK(conf_error(R"("vlanTrunk":[{"minID":20,"maxID":10}])").message().find("maxID") !=
          std::string::npos);
    CHECK(conf_error(R"("vlanTrunk":[{"id":0}])").message().find("vlanTrunk[0].id") == 0);
    CHECK(conf_error(R"("vlanTrunk":{})").message().find("vlanTrunk: must be a list") == 0);
    CHECK(conf_error(R"("ipMasqBackend":"ebpf")").message().find("ipMasqBackend") == 0);
    CHECK(conf_error(R"("isGateway":true,"vlan":3)").message().find("not supported") !=
          std::string::npos);
    auto r = bridge::parse_bridge_conf(request(R"("disableContainerInterface":true)"));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message().find("disableContainerInterface") == 0);
}

TEST_CASE("bridge config without ipam is L2 only; CNI_ARGS MAC wins", "[bridge]") {
    auto req = request(R"("runtimeConfig":{"mac":"0a:58:00:00:00:01"})", "{}");
    req.cni_args = {{"MAC", "0a:58:00:00:00:02"}};
    auto c = bridge::parse_bridge_conf(req);
    REQUIRE(c.ok());
    CHECK_FALSE(c->has_ipam);
    CHECK(c->mac == "0a:58:00:00:00:02");
}

TEST_CASE("attachment tags fit nftables comments", "[bridge]") {
    CHECK(bridge::attachment_tag("net", "c1", "eth0") == "net/c1/eth0");
    std::string long_net(60, 'n');
    std::string long_cid(64, 'a');
    std::string t = bridge::attachment_tag(long_net, long_cid, "eth0");
    CHECK(t.size() <= 127);
    CHECK(t.find(long_cid) != std::string::npos);
    CHECK(t == bridge::attachment_tag(long_net, long_cid, "eth0"));
    CHECK(t != bridge::attachment_tag(long_net + "x", long_cid, "eth0"));
    std::string huge_cid(200, 'b');
    CHECK(bridge::attachment_tag("net", huge_cid, "eth0").size() <= 127);
}
