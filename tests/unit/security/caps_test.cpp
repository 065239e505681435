#include "runtime/security/caps.hpp"

#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

using cove::security::capability_from_name;
using cove::security::capability_name;
using cove::security::CapabilitySets;
using cove::security::known_capabilities;
using cove::security::last_capability;
using cove::security::resolve_capabilities;
using cove::security::unknown_capabilities_warning;

namespace {

uint64_t bit(int v) {
    return uint64_t{1} << v;
}

}  // namespace

TEST_CASE("capability names map to the kernel's values", "[caps]") {
    CHECK(capability_from_name("CAP_CHOWN") == 0);
    CHECK(capability_from_name("CAP_KILL") == 5);
    CHECK(capability_from_name("CAP_NET_BIND_SERVICE") == 10);
    CHECK(capability_from_name("CAP_SYS_ADMIN") == 21);
    CHECK(capability_from_name("CAP_AUDIT_READ") == 37);
    CHECK(capability_from_name("CAP_CHECKPOINT_RESTORE") == 40);
}

TEST_CASE("capability names are exact, as runc's map", "[caps]") {
    CHECK(capability_from_name("cap_chown") == -1);
    CHECK(capability_from_name("Cap_Chown") == -1);
    CHECK(capability_from_name("CHOWN") == -1);
    CHECK(capability_from_name("CAP_FOO") == -1);
    CHECK(capability_from_name("") == -1);
    CHECK(capability_from_name("CAP_CHOWN ") == -1);
}

TEST_CASE("capability_name is the inverse of capability_from_name", "[caps]") {
    for (int v = 0; v <= 40; ++v) {
        std::string_view name = capability_name(v);
        REQUIRE_FALSE(name.empty());
        CHECK(capability_from_name(name) == v);
    }
    CHECK(capability_name(-1).empty());
    CHECK(capability_name(41).empty());
    CHECK(capability_name(63).empty());
}

TEST_CASE("last_capability is the running kernel's CAP_LAST_CAP", "[caps]") {
    std::ifstream f("/proc/sys/kernel/cap_last_cap");
    int kernel = -1;
    f >> kernel;
    REQUIRE(kernel > 0);
    CHECK(last_capability() == std::min(kernel, 40));
}

TEST_CASE("known_capabilities lists what this kernel has, by value", "[caps]") {
    auto names = known_capabilities();
    REQUIRE(names.size() == static_cast<size_t>(last_capability() + 1));
    CHECK(names.front() == "CAP_CHOWN");
    CHECK(names[21] == "CAP_SYS_ADMIN");
    for (size_t i = 0; i < names.size(); ++i) {
        CHECK(capability_from_name(names[i]) == static_cast<int>(i));
    }
}

TEST_CASE("resolve_capabilities builds one mask per set", "[caps]") {
    cove::spec::Capabilities caps;
    caps.bounding = {"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SYS_ADMIN"};
    caps.effective = {"CAP_KILL", "CAP_NET_BIND_SERVICE"};
    caps.permitted = {"CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_CHOWN"};
    caps.inheritable = {"CAP_NET_BIND_SERVICE"};
    caps.ambient = {"CAP_NET_BIND_SERVICE", "CAP_NET_BIND_SERVICE"};
    CapabilitySets s = resolve_capabilities(caps);
    CHECK(s.bounding == (bit(0) | bit(5) | bit(10) | bit(21)));
    CHECK(s.effective == (bit(5) | bit(10)));
    CHECK(s.permitted == (bit(0) | bit(5) | bit(10)));
    CHECK(s.inheritable == bit(10));
    CHECK(s.ambient == bit(10));
    CHECK(s.last_cap == last_capability());
    CHECK(s.unknown.empty());
}

TEST_CASE("empty capabilities resolve to empty sets", "[caps]") {
    CapabilitySets s = resolve_capabilities(cove::spec::Capabilities{});
    CHECK(s.bounding == 0);
    CHECK(s.effective == 0);
    CHECK(s.permitted == 0);
    CHECK(s.inheritable == 0);
    CHECK(s.ambient == 0);
    CHECK(s.unknown.empty());
}

TEST_CASE("unknown capability names are collected, sorted and unique", "[caps]") {
    cove::spec::Capabilities caps;
    caps.bounding = {"CAP_FOO", "CAP_CHOWN", "cap_kill"};
    caps.effective = {"CAP_FOO", "CAP_CHOWN"};
    caps.ambient = {"CAP_BAR"};
    CapabilitySets s = resolve_capabilities(caps);
    CHECK(s.bounding == bit(0));
    CHECK(s.effective == bit(0));
    CHECK(s.ambient == 0);
    CHECK(s.unknown == std::vector<std::string>{"CAP_BAR", "CAP_FOO", "cap_kill"});
}

TEST_CASE("capabilities above the kernel's CAP_LAST_CAP are unavailable", "[caps]") {
    cove::spec::Capabilities caps;
    caps.bounding = {"CAP_CHECKPOINT_RESTORE", "CAP_BPF", "CAP_PERFMON", "CAP_AUDIT_READ"};
    caps.permitted = {"CAP_BPF"};
    CapabilitySets s = resolve_capabilities(caps, 37);  // a 5.4 kernel
    CHECK(s.last_cap == 37);
    CHECK(s.bounding == bit(37));
    CHECK(s.permitted == 0);
    CHECK(s.unknown ==
          std::vector<std::string>{"CAP_BPF", "CAP_CHECKPOINT_RESTORE", "CAP_PERFMON"});
}

TEST_CASE("the warning reads as runc 1.1's", "[caps]") {
    CHECK(unknown_capabilities_warning({"CAP_FOO"}) ==
          "ignoring unknown or unavailable capabilities: [CAP_FOO]");
    CHECK(unknown_capabilities_warning({"CAP_BAR", "CAP_FOO"}) ==
          "ignoring unknown or unavailable capabilities: [CAP_BAR CAP_FOO]");
}
