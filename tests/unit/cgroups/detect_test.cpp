#include "cgroups/detect.hpp"

#include <catch2/catch.hpp>

using namespace cove::cgroups;

namespace {

std::string fixture(const std::string& name) {
    return std::string(COVE_FIXTURES) + "/cgroups/" + name;
}

const CgroupMount* find_mount(const std::vector<CgroupMount>& ms, const std::string& mountpoint) {
    for (const auto& m : ms) {
        if (m.mountpoint == mountpoint) {
            return &m;
        }
    }
    return nullptr;
}

}  // namespace

TEST_CASE("detect_mode tells hybrid, unified and legacy hosts apart", "[cgroups][detect]") {
    auto hybrid = detect_mode(fixture("mountinfo.hybrid"));
    REQUIRE(hybrid);
    CHECK(*hybrid == Mode::kHybrid);
    auto unified = detect_mode(fixture("mountinfo.unified"));
    REQUIRE(unified);
    CHECK(*unified == Mode::kUnified);
    auto legacy = detect_mode(fixture("mountinfo.legacy"));
    REQUIRE(legacy);
    CHECK(*legacy == Mode::kLegacy);
    auto nested = detect_mode(fixture("mountinfo.nested"));
    REQUIRE(nested);
    CHECK(*nested == Mode::kLegacy);
    CHECK(mode_name(Mode::kHybrid) == "hybrid");
}

TEST_CASE("detect_mode fails without cgroup mounts or mountinfo", "[cgroups][detect]") {
    auto none = mode_of(parse_cgroup_mounts("22 1 0:21 / / rw - ext4 /dev/sda1 rw\n"));
    REQUIRE_FALSE(none);
    CHECK(none.error().to_string().find("no cgroup filesystem is mounted") != std::string::npos);
    auto missing = detect_mode(fixture("no-such-mountinfo"));
    REQUIRE_FALSE(missing);
    CHECK(missing.error().code() == ENOENT);
}

TEST_CASE("detect_mode works on this host's mountinfo", "[cgroups][detect]") {
    CHECK(detect_mode());
}

TEST_CASE("v1 mounts carry their controllers, co-mounted ones together", "[cgroups][detect]") {
    auto ms = read_cgroup_mounts(fixture("mountinfo.legacy"));
    REQUIRE(ms);
    const auto* cpu = find_mount(*ms, "/sys/fs/cgroup/cpu,cpuacct");
    REQUIRE(cpu != nullptr);
    CHECK(cpu->controllers == std::vector<std::string>{"cpu", "cpuacct"});
    CHECK_FALSE(cpu->unified);
    CHECK(cpu->root == "/");
    const auto* sd = find_mount(*ms, "/sys/fs/cgroup/systemd");
    REQUIRE(sd != nullptr);
    CHECK(sd->controllers == std::vector<std::string>{"name=systemd"});  // no release_agent
    const auto* cpuset = find_mount(*ms, "/sys/fs/cgroup/cpuset");
    REQUIRE(cpuset != nullptr);
    CHECK(cpuset->controllers == std::vector<std::string>{"cpuset"});  // not clone_children
    // cpuset is mounted twice in the fixture; it is one hierarchy.
    int cpusets = 0;
    for (const auto& m : *ms) {
        cpusets += m.controllers == std::vector<std::string>{"cpuset"} ? 1 : 0;
    }
    CHECK(cpusets == 1);
    CHECK(unified_mount(*ms) == nullptr);
}

TEST_CASE("mountinfo roots and escaped mountpoints are read", "[cgroups][detect]") {
    auto nested = read_cgroup_mounts(fixture("mountinfo.nested"));
    REQUIRE(nested);
    const auto* mem = find_mount(*nested, "/sys/fs/cgroup/memory");
    REQUIRE(mem != nullptr);
    CHECK(mem->root == "/docker/abc");

    auto ms = parse_cgroup_mounts(
        "40 31 0:37 / /mnt/my\\040cgroups rw,relatime - cgroup2 cgroup2 rw\n"
        "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime shared:1 - cgroup2 cgroup2 rw\n");
    REQUIRE(ms.size() == 2);
    CHECK(ms[0].mountpoint == "/mnt/my cgroups");
    CHECK(ms[0].unified);
    REQUIRE(unified_mount(ms) != nullptr);
    CHECK(unified_mount(ms)->mountpoint == "/sys/fs/cgroup/unified");
    // cgroup2 alone, not at /sys/fs/cgroup, is still a unified host.
    auto alone = mode_of({ms[0]});
    REQUIRE(alone);
    CHECK(*alone == Mode::kUnified);
}

TEST_CASE("/proc/self/cgroup maps every controller and the cgroup2 line", "[cgroups][detect]") {
    auto own = read_proc_cgroup(fixture("self_cgroup.hybrid"));
    REQUIRE(own);
    CHECK(own->at("memory") == "/process_api/24552467");
    CHECK(own->at("name=systemd") == "/user.slice/session-1.scope");
    CHECK(own->at("") == "/user.slice/session-1.scope");
    auto co = parse_proc_cgroup("6:cpu,cpuacct:/a:b\n");
    REQUIRE(co);
    CHECK(co->at("cpu") == "/a:b");
    CHECK(co->at("cpuacct") == "/a:b");
    CHECK_FALSE(parse_proc_cgroup("garbage\n"));
}
