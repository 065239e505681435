#include "cgroups/path.hpp"

#include <catch2/catch.hpp>

#include "cgroups/manager.hpp"
#include "tests/fixtures/cgroups/fake_cgroupfs.hpp"

using namespace cove::cgroups;
using cove::cgroups::testing::TempDir;

namespace {

std::string fixture(const std::string& name) {
    return std::string(COVE_FIXTURES) + "/cgroups/" + name;
}

Config host_config(const TempDir& tmp, const std::string& host, const std::string& path) {
    Config cfg;
    cfg.id = "ctr";
    cfg.cgroups_path = path;
    cfg.root = tmp.path();
    cfg.mountinfo_path = fixture("mountinfo." + host);
    cfg.self_cgroup_path = fixture("self_cgroup." + host);
    return cfg;
}

std::unique_ptr<Manager> must_make(const Config& cfg) {
    auto m = make_manager(cfg);
    INFO((m ? std::string() : m.error().to_string()));
    REQUIRE(m);
    return std::move(*m);
}

}  // namespace

TEST_CASE("cgroupsPath is cleaned; empty gives /<id>", "[cgroups][path]") {
    CHECK(*cgroupfs_path("", "ctr") == "/ctr");
    CHECK(*cgroupfs_path("/a/b/", "ctr") == "/a/b");
    CHECK(*cgroupfs_path("/a/../../b", "ctr") == "/b");
    CHECK(*cgroupfs_path("//a//./b", "ctr") == "/a/b");
    CHECK(*cgroupfs_path("a/b", "ctr") == "a/b");
    CHECK(*cgroupfs_path("../../x", "ctr") == "x");  // cannot climb above the caller's cgroup
    CHECK(*cgroupfs_path("system.slice:docker:abc", "ctr") == "system.slice:docker:abc");
}

TEST_CASE("cgroupsPath naming the root or the caller's cgroup is refused", "[cgroups][path]") {
    auto root = cgroupfs_path("/", "ctr");
    REQUIRE_FALSE(root);
    CHECK(root.error().to_string() == "cgroup: cgroupsPath \"/\" names the root cgroup");
    auto dots = cgroupfs_path("/a/..", "ctr");
    REQUIRE_FALSE(dots);
    auto own = cgroupfs_path("a/..", "ctr");
    REQUIRE_FALSE(own);
    CHECK(own.error().to_string() == "cgroup: cgroupsPath \"a/..\" names the caller's own cgroup");
    CHECK_FALSE(cgroupfs_path("", ".."));
    CHECK_FALSE(cgroupfs_path("", ""));
}

TEST_CASE("hierarchy_dir: absolute, relative and nested mounts", "[cgroups][path]") {
    CgroupMount mem{"/sys/fs/cgroup/memory", "/", false, {"memory"}};
    CHECK(*hierarchy_dir("", mem, "", "/x/y") == "/sys/fs/cgroup/memory/x/y");
    CHECK(*hierarchy_dir("/tmp/t", mem, "", "/x") == "/tmp/t/sys/fs/cgroup/memory/x");
    CHECK(*hierarchy_dir("", mem, "/user.slice", "x") == "/sys/fs/cgroup/memory/user.slice/x");
    CHECK(*hierarchy_dir("", mem, "/", "x") == "/sys/fs/cgroup/memory/x");

    CgroupMount nested{"/sys/fs/cgroup/memory", "/docker/abc", false, {"memory"}};
    CHECK(*hierarchy_dir("", nested, "/docker/abc/sub", "x") == "/sys/fs/cgroup/memory/sub/x");
    CHECK(*hierarchy_dir("", nested, "/docker/abc", "x") == "/sys/fs/cgroup/memory/x");
    CHECK(*hierarchy_dir("", nested, "/whatever", "/x") == "/sys/fs/cgroup/memory/x");
    auto outside = hierarchy_dir("", nested, "/docker/abcd", "x");
    REQUIRE_FALSE(outside);
    CHECK(outside.error().to_string() ==
          "cgroup: own cgroup /docker/abcd is outside the cgroup /docker/abc mounted at "
          "/sys/fs/cgroup/memory");
}

TEST_CASE("systemd cgroupsPath is slice:prefix:name", "[cgroups][path][systemd]") {
    auto p = parse_systemd_path("system.slice:docker:1234", "ctr");
    REQUIRE(p);
    CHECK(p->slice == "system.slice");
    CHECK(p->prefix == "docker");
    CHECK(p->name == "1234");
    auto def = parse_systemd_path("", "ctr");
    REQUIRE(def);
    CHECK(def->slice.empty());
    CHECK(def->prefix == "cove");
    CHECK(def->name == "ctr");
    CHECK(parse_systemd_path(":cove:ctr", "ctr"));
    auto two = parse_systemd_path("/a/b", "ctr");
    REQUIRE_FALSE(two);
    CHECK(two.error().to_string() ==
          "systemd cgroup driver: expected cgroupsPath to be of format \"slice:prefix:name\", "
          "got \"/a/b\"");
    CHECK_FALSE(parse_systemd_path("machine:cove:ctr", "ctr"));
    CHECK_FALSE(parse_systemd_path("a--b.slice:cove:ctr", "ctr"));
    CHECK_FALSE(parse_systemd_path("system.slice:cove:", "ctr"));
}

TEST_CASE("the systemd driver fails: systemd is not running here", "[cgroups][path][systemd]") {
    TempDir tmp;
    Config cfg = host_config(tmp, "hybrid", "system.slice:cove:ctr");
    cfg.systemd = true;
    auto m = make_manager(cfg);
    REQUIRE_FALSE(m);
    CHECK(m.error().to_string() == "systemd cgroup driver: systemd is not running");

    cfg.cgroups_path = "bad";
    auto bad = make_manager(cfg);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().to_string().find("slice:prefix:name") != std::string::npos);

    // With systemd running, the driver is still refused until it exists.
    cfg.cgroups_path = "system.slice:cove:ctr";
    REQUIRE(cove::fs::mkdir_p(tmp.path() + "/run/systemd/system"));
    auto later = make_manager(cfg);
    REQUIRE_FALSE(later);
    CHECK(later.error().to_string().find("not supported yet") != std::string::npos);
}

TEST_CASE("make_manager resolves an empty path to /<id> in every hierarchy", "[cgroups][path]") {
    TempDir tmp;
    auto m = must_make(host_config(tmp, "hybrid", ""));
    const std::string base = tmp.path() + "/sys/fs/cgroup/";
    CHECK(m->mode() == Mode::kHybrid);
    CHECK(m->path("memory") == base + "memory/ctr");
    CHECK(m->path("cpuset") == base + "cpuset/ctr");
    CHECK(m->path("name=systemd") == base + "systemd/ctr");
    CHECK(m->path("") == base + "unified/ctr");
    CHECK(m->path("rdma").empty());  // not mounted on this host
    auto paths = m->paths();
    CHECK(paths.size() == 10);  // 9 v1 controllers + cgroup2
    CHECK(paths.at("pids") == base + "pids/ctr");
}

TEST_CASE("make_manager: absolute and relative paths", "[cgroups][path]") {
    TempDir tmp;
    const std::string base = tmp.path() + "/sys/fs/cgroup/";
    auto abs = must_make(host_config(tmp, "hybrid", "/k8s/pod1/ctr"));
    CHECK(abs->path("devices") == base + "devices/k8s/pod1/ctr");

    auto rel = must_make(host_config(tmp, "hybrid", "sub/ctr"));
    CHECK(rel->path("memory") == base + "memory/process_api/24552467/sub/ctr");
    CHECK(rel->path("cpu") == base + "cpu/sub/ctr");
    CHECK(rel->path("name=systemd") == base + "systemd/user.slice/session-1.scope/sub/ctr");
    CHECK(rel->path("") == base + "unified/user.slice/session-1.scope/sub/ctr");
}

TEST_CASE("make_manager on legacy, nested and unified hosts", "[cgroups][path]") {
    TempDir tmp;
    const std::string base = tmp.path() + "/sys/fs/cgroup/";
    auto legacy = must_make(host_config(tmp, "legacy", "/c1"));
    CHECK(legacy->mode() == Mode::kLegacy);
    CHECK(legacy->path("cpu") == base + "cpu,cpuacct/c1");
    CHECK(legacy->path("cpuacct") == base + "cpu,cpuacct/c1");
    CHECK(legacy->path("net_prio") == base + "net_cls,net_prio/c1");
    CHECK(legacy->path("rdma") == base + "rdma/c1");
    CHECK(legacy->path("").empty());

    auto nested = must_make(host_config(tmp, "nested", "c1"));
    CHECK(nested->path("memory") == base + "memory/sub/c1");
    auto nested_abs = must_make(host_config(tmp, "nested", "/c1"));
    CHECK(nested_abs->path("memory") == base + "memory/c1");

    auto unified = must_make(host_config(tmp, "unified", "c1"));
    CHECK(unified->mode() == Mode::kUnified);
    CHECK(unified->path() == base + "user.slice/user-0.slice/session-1.scope/c1");
    CHECK(unified->path("memory").empty());
    CHECK(unified->paths().size() == 1);
}

TEST_CASE("make_manager refuses a v1 host without the devices controller", "[cgroups][path]") {
    TempDir tmp;
    std::string mi = tmp.path() + "/mountinfo";
    REQUIRE(cove::fs::write_file(
        mi, "32 31 0:29 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n", O_CREAT));
    Config cfg = host_config(tmp, "legacy", "");
    cfg.mountinfo_path = mi;
    auto m = make_manager(cfg);
    REQUIRE_FALSE(m);
    CHECK(m.error().to_string() == "cgroup: the v1 devices controller is not mounted");
}
