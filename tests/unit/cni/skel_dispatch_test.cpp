// cni/skel dispatch: env checks per verb, error codes, VERSION, CNI_ARGS, config parsing
// (args.cni.ips, runtimeConfig, prevResult, valid-attachments), result in the config version.
#include <map>

#include <catch2/catch.hpp>

#include "cni/skel/skel.hpp"

using namespace cove::cni;
using cove::json::Json;

namespace {

struct Harness {
    std::map<std::string, std::string> env{{"CNI_COMMAND", "ADD"},
                                           {"CNI_CONTAINERID", "ctr1"},
                                           {"CNI_NETNS", "/var/run/netns/none"},
                                           {"CNI_IFNAME", "eth0"},
                                           {"CNI_PATH", "/opt/cni/bin"}};
    std::string config =
        R"({"cniVersion":"1.1.0","name":"net1","type":"t","ipam":{"type":"cove-host-local"}})";
    Plugin plugin;
    Request seen;
    int calls = 0;

    Harness() {
        plugin.add = [this](const Request& r) -> cove::Result<CniResult> {
            seen = r;
            ++calls;
            CniResult res;
            res.ips.push_back({*IpNet::parse("10.0.0.2/24"), IpAddr::parse("10.0.0.1"), {}});
            return res;
        };
        auto record = [this](const Request& r) -> cove::Status {
            seen = r;
            ++calls;
            return cove::ok_status();
        };
        plugin.del = record;
        plugin.check = record;
        plugin.gc = record;
        plugin.status = record;
    }

    Outcome run() {
        return dispatch(
            plugin,
            [this](const char* k) -> const char* {
                auto it = env.find(k);
                return it == env.end() ? nullptr : it->second.c_str();
            },
            [this]() -> cove::Result<std::string> { return config; });
    }
};

int code_of(const Outcome& o) {
    auto j = Json::parse(o.out);
    return j["code"].get<int>();
}

}  // namespace

TEST_CASE("dispatch: ADD prints the result in the config's version") {
    Harness h;
    h.config = R"({"cniVersion":"0.4.0","name":"net1","type":"t"})";
    auto o = h.run();
    CHECK(o.exit_code == 0);
    auto j = Json::parse(o.out);
    CHECK(j["cniVersion"] == "0.4.0");
    CHECK(j["ips"][0]["version"] == "4");
    CHECK(h.seen.container_id == "ctr1");
    CHECK(h.seen.path_dirs == std::vector<std::string>{"/opt/cni/bin"});
}

TEST_CASE("dispatch: required env per verb") {
    Harness h;
    h.env.erase("CNI_NETNS");
    auto o = h.run();
    CHECK(o.exit_code == 1);
    CHECK(code_of(o) == kErrInvalidEnv);
    CHECK(Json::parse(o.out)["msg"].get<std::string>().find("CNI_NETNS") != std::string::npos);
    CHECK(h.calls == 0);

    // DEL does not need a netns (nor CNI_PATH).
    h.env["CNI_COMMAND"] = "DEL";
    h.env.erase("CNI_PATH");
    CHECK(h.run().exit_code == 0);
    CHECK(h.calls == 1);

    // GC needs CNI_PATH but no container.
    Harness g;
    g.env = {{"CNI_COMMAND", "GC"}};
    CHECK(code_of(g.run()) == kErrInvalidEnv);
    g.env["CNI_PATH"] = "/bin";
    CHECK(g.run().exit_code == 0);

    // STATUS needs nothing but the command.
    Harness s;
    s.env = {{"CNI_COMMAND", "STATUS"}};
    CHECK(s.run().exit_code == 0);

    Harness u;
    u.env["CNI_COMMAND"] = "FROB";
    CHECK(code_of(u.run()) == kErrInvalidEnv);
    u.env.erase("CNI_COMMAND");
    CHECK(code_of(u.run()) == kErrInvalidEnv);
}

TEST_CASE("dispatch: container id and ifname are validated") {
    Harness h;
    h.env["CNI_CONTAINERID"] = "-bad";
    CHECK(code_of(h.run()) == kErrInvalidEnv);
    h.env["CNI_CONTAINERID"] = "ok";
    for (const char* bad : {"a/b", "x:y", "sixteen-chars-xx", "..", "a b"}) {
        h.env["CNI_IFNAME"] = bad;
        CHECK(code_of(h.run()) == kErrInvalidEnv);
    }
    CHECK(h.calls == 0);
}

TEST_CASE("dispatch: config errors carry 6, 7 and 1") {
    Harness h;
    h.config = "{not json";
    CHECK(code_of(h.run()) == kErrDecodingFailure);
    h.config = "[]";
    CHECK(code_of(h.run()) == kErrDecodingFailure);
    h.config = R"({"cniVersion":"1.0.0","type":"t"})";
    CHECK(code_of(h.run()) == kErrInvalidNetworkConfig);
    h.config = R"({"cniVersion":"1.0.0","name":"bad name","type":"t"})";
    CHECK(code_of(h.run()) == kErrInvalidNetworkConfig);
    h.config = R"({"cniVersion":"0.2.0","name":"n","type":"t"})";
    auto o = h.run();
    CHECK(code_of(o) == kErrIncompatibleVersion);
    CHECK(Json::parse(o.out)["cniVersion"] == "0.2.0");
    h.config = R"({"name":"n","type":"t"})";
    CHECK(code_of(h.run()) == kErrIncompatibleVersion);
    h.config = R"({"cniVersion":"9.9.9","name":"n","type":"t"})";
    CHECK(code_of(h.run()) == kErrIncompatibleVersion);
    h.config = R"({"cniVersion":"1.0.0","name":"n","type":"t","runtimeConfig":{"mac":5}})";
    CHECK(code_of(h.run()) == kErrInvalidNetworkConfig);
    CHECK(h.calls == 0);
}

TEST_CASE("dispatch: CHECK needs 0.4.0, GC and STATUS need 1.1.0") {
    Harness h;
    h.env["CNI_COMMAND"] = "CHECK";
    h.config = R"({"cniVersion":"0.3.1","name":"n","type":"t"})";
    CHECK(code_of(h.run()) == kErrIncompatibleVersion);
    h.env["CNI_COMMAND"] = "GC";
    h.config = R"({"cniVersion":"1.0.0","name":"n","type":"t"})";
    CHECK(code_of(h.run()) == kErrIncompatibleVersion);
    h.env["CNI_COMMAND"] = "STATUS";
    CHECK(code_of(h.run()) == kErrIncompatibleVersion);
    CHECK(h.calls == 0);
}

TEST_CASE("dispatch: plugin errors keep their code") {
    Harness h;
    h.env["CNI_COMMAND"] = "STATUS";
    h.plugin.status = [](const Request&) -> cove::Status {
        return cni_error(kErrPluginNotAvailable, "pool exhausted");
    };
    auto o = h.run();
    CHECK(o.exit_code == 1);
    CHECK(code_of(o) == 50);
    h.plugin.status = [](const Request&) -> cove::Status { return cove::make_error("boom"); };
    CHECK(code_of(h.run()) == kErrInternal);
}

TEST_CASE("dispatch: VERSION") {
    Harness h;
    h.env = {{"CNI_COMMAND", "VERSION"}};
    h.config = "";
    auto o = h.run();
    CHECK(o.exit_code == 0);
    auto j = Json::parse(o.out);
    CHECK(j["cniVersion"] == "1.1.0");
    CHECK(j["supportedVersions"].size() == std::size(kSupportedVersions));
    h.config = R"({"cniVersion":"0.4.0"})";
    CHECK(Json::parse(h.run().out)["cniVersion"] == "0.4.0");
}

TEST_CASE("CNI_ARGS parsing and IgnoreUnknown") {
    auto a = parse_cni_args("IP=10.0.0.5;K8S_POD_NAME=p;X=a=b");
    REQUIRE(a);
    REQUIRE(a->size() == 3);
    CHECK((*a)[2].second == "a=b");
    CHECK(parse_cni_args("")->empty());
    auto bad = parse_cni_args("IP");
    REQUIRE_FALSE(bad);
    CHECK(cove::cni::cni_code_of(bad.error()) == kErrInvalidEnv);

    Request r;
    r.cni_args = *parse_cni_args("IP=1.2.3.4;FOO=1");
    CHECK(r.cni_arg("IP") == "1.2.3.4");
    CHECK_FALSE(r.cni_arg("BAR"));
    CHECK_FALSE(r.check_cni_args({"IP"}));
    r.cni_args = *parse_cni_args("IgnoreUnknown=true;IP=1.2.3.4;FOO=1");
    CHECK(r.check_cni_args({"IP"}));
    r.cni_args = *parse_cni_args("IgnoreUnknown=1;FOO=1");
    CHECK(r.check_cni_args({}));

    Harness h;
    h.env["CNI_ARGS"] = "broken";
    CHECK(code_of(h.run()) == kErrInvalidEnv);
}

TEST_CASE("config: args, runtimeConfig, prevResult, valid attachments") {
    Request r;
    auto st = parse_config(R"({
        "cniVersion":"1.1.0","name":"n","type":"bridge",
        "ipam":{"type":"cove-host-local","subnet":"10.0.0.0/24"},
        "dns":{"nameservers":["1.1.1.1"]},
        "args":{"cni":{"ips":["10.0.0.9"]}},
        "runtimeConfig":{"mac":"0a:00:00:00:00:01","ips":["10.0.0.7/24"]},
        "prevResult":{"cniVersion":"0.4.0","ips":[{"version":"4","address":"10.0.0.7/24"}]},
        "cni.dev/attachments":[{"containerID":"a","ifname":"eth0"}],
        "unknownKey":{"ignored":true}})",
                           &r);
    REQUIRE(st);
    CHECK(r.conf.ipam_type == "cove-host-local");
    CHECK(r.conf.ipam["subnet"] == "10.0.0.0/24");
    CHECK(r.conf.dns.nameservers[0] == "1.1.1.1");
    CHECK(r.conf.args_cni_ips == std::vector<std::string>{"10.0.0.9"});
    CHECK(r.conf.runtime_mac == "0a:00:00:00:00:01");
    CHECK(r.conf.runtime_ips == std::vector<std::string>{"10.0.0.7/24"});
    REQUIRE(r.conf.prev_result);
    CHECK(r.conf.prev_result->cni_version == "0.4.0");
    CHECK(r.conf.prev_result->ips[0].address.to_string() == "10.0.0.7/24");
    REQUIRE(r.conf.valid_attachments.size() == 1);
    CHECK(r.conf.valid_attachments[0] == Attachment{"a", "eth0"});

    Request bad;
    auto pr = parse_config(
        R"({"cniVersion":"1.0.0","name":"n","prevResult":{"ips":[{"address":"x"}]}})", &bad);
    REQUIRE_FALSE(pr);
    CHECK(cni_code_of(pr.error()) == kErrDecodingFailure);
}
