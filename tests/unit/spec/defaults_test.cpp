#include "runtime/spec/defaults.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include <catch2/catch.hpp>

#include "runtime/base/fs.hpp"
#include "runtime/base/scope_exit.hpp"
#include "runtime/spec/spec_json.hpp"
#include "runtime/spec/validate.hpp"

using cove::spec::default_spec;
using cove::spec::default_spec_ordered;
using Json = nlohmann::json;

namespace {

// Captured from `runc spec` and `runc spec --rootless` of runc 1.1.5, run as root.
std::string runc_output(const std::string& name) {
    auto text = cove::fs::read_file(std::string(COVE_FIXTURES) + "/config/" + name);
    REQUIRE(text.ok());
    return *text;
}

}  // namespace

TEST_CASE("default spec is byte for byte what runc spec writes", "[spec][defaults]") {
    // runc writes json.MarshalIndent(spec, "", "\t") with no trailing newline.
    CHECK(default_spec_ordered(false).dump(1, '\t') == runc_output("runc_spec.json"));
}

TEST_CASE("rootless default spec is byte for byte what runc spec --rootless writes",
          "[spec][defaults]") {
    CHECK(default_spec_ordered(true, 0, 0).dump(1, '\t') == runc_output("runc_spec_rootless.json"));
}

TEST_CASE("rootless mappings point at the given host ids", "[spec][defaults]") {
    auto j = default_spec_ordered(true, 1000, 1001);
    CHECK(j["linux"]["uidMappings"] ==
          nlohmann::ordered_json::parse(R"([{"containerID": 0, "hostID": 1000, "size": 1}])"));
    CHECK(j["linux"]["gidMappings"] ==
          nlohmann::ordered_json::parse(R"([{"containerID": 0, "hostID": 1001, "size": 1}])"));
    CHECK_FALSE(j["linux"].contains("resources"));
    // No uid=/gid= options are left: the ids would not be mapped.
    for (const auto& m : j["mounts"]) {
        for (const auto& o : m.value("options", nlohmann::ordered_json::array())) {
            CHECK(o.get<std::string>().rfind("gid=", 0) != 0);
            CHECK(o.get<std::string>().rfind("uid=", 0) != 0);
        }
    }
    CHECK(j["linux"]["namespaces"].back()["type"] == "user");
}

TEST_CASE("default_spec is the same document, unordered", "[spec][defaults]") {
    CHECK(default_spec(false) == Json::parse(runc_output("runc_spec.json")));
    Json rootless = default_spec(true);
    CHECK(rootless["linux"]["uidMappings"][0]["hostID"] == ::geteuid());
    CHECK(rootless["linux"]["gidMappings"][0]["hostID"] == ::getegid());
    if (::geteuid() == 0 && ::getegid() == 0) {
        CHECK(rootless == Json::parse(runc_output("runc_spec_rootless.json")));
    }
}

TEST_CASE("default specs parse, round-trip and validate", "[spec][defaults]") {
    char tmpl[] = "/tmp/cove-spec-defaults-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    std::string bundle = tmpl;
    cove::ScopeExit cleanup([&] { (void)cove::fs::remove_all(bundle); });
    REQUIRE(::mkdir((bundle + "/rootfs").c_str(), 0755) == 0);
    for (bool rootless : {false, true}) {
        INFO("rootless=" << rootless);
        Json j = default_spec(rootless);
        auto s = cove::spec::parse_spec(j);
        REQUIRE(s.ok());
        CHECK(s->process->args == std::vector<std::string>{"sh"});
        CHECK(s->process->terminal);
        CHECK(s->root->path == "rootfs");
        CHECK(cove::spec::to_json(*s) == j);
        auto st = cove::spec::validate(*s, bundle);
        INFO((st.ok() ? "" : st.error().to_string()));
        CHECK(st.ok());
    }
}
