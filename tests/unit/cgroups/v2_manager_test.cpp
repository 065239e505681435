#include <fcntl.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "cgroups/manager.hpp"
#include "tests/fixtures/cgroups/fake_cgroupfs.hpp"

using namespace cove::cgroups;
using namespace cove::cgroups::testing;

namespace {

bool is_dir(const std::string& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

struct UnifiedHost {
    TempDir tmp;
    std::shared_ptr<FakeCgroupFs> fs = std::make_shared<FakeCgroupFs>();
    std::string base = tmp.path() + "/sys/fs/cgroup";

    UnifiedHost() { make_v2_tree(tmp.path(), "cpuset cpu io memory pids"); }

    std::unique_ptr<Manager> manager(const std::string& path) {
        Config cfg;
        cfg.id = "ctr";
        cfg.cgroups_path = path;
        cfg.root = tmp.path();
        cfg.mountinfo_path = std::string(COVE_FIXTURES) + "/cgroups/mountinfo.unified";
        cfg.fs = fs;
        auto m = make_manager(cfg);
        REQUIRE(m);
        return std::move(*m);
    }
};

}  // namespace

TEST_CASE("v2 create enables the offered controllers in every level above the leaf",
          "[cgroups][v2]") {
    UnifiedHost host;
    auto m = host.manager("/a/b/c");
    CHECK(m->mode() == Mode::kUnified);
    CHECK(m->path() == host.base + "/a/b/c");
    REQUIRE(m->create());
    const std::string all = "cpu cpuset io memory pids";
    CHECK(read_or_empty(host.base + "/cgroup.subtree_control") == all);
    CHECK(read_or_empty(host.base + "/a/cgroup.subtree_control") == all);
    CHECK(read_or_empty(host.base + "/a/b/cgroup.subtree_control") == all);
    CHECK(read_or_empty(host.base + "/a/b/c/cgroup.subtree_control").empty());
    CHECK(read_or_empty(host.base + "/a/b/c/cgroup.controllers") == all);
}

TEST_CASE("v2 create enables one by one what a level accepts", "[cgroups][v2]") {
    UnifiedHost host;
    host.fs->refuse_controllers.insert("cpuset");
    auto m = host.manager("/ctr");
    REQUIRE(m->create());
    CHECK(read_or_empty(host.base + "/cgroup.subtree_control") == "cpu io memory pids");
    CHECK(read_or_empty(host.base + "/ctr/cgroup.controllers") == "cpu io memory pids");
}

TEST_CASE("v2 create failing leaves nothing behind and names the path", "[cgroups][v2]") {
    UnifiedHost host;
    auto m = host.manager("/a/ctr");
    host.fs->deny_mkdir.insert(host.base + "/a/ctr");
    auto st = m->create();
    REQUIRE_FALSE(st);
    CHECK(st.error().to_string() == "cgroup: mkdir " + host.base + "/a/ctr: Permission denied");
    CHECK_FALSE(is_dir(host.base + "/a"));
}

TEST_CASE("v2 clone_fd is an O_CLOEXEC directory fd of the leaf", "[cgroups][v2]") {
    UnifiedHost host;
    auto m = host.manager("/ctr");
    CHECK_FALSE(m->clone_fd());  // not created yet
    REQUIRE(m->create());
    auto fd = m->clone_fd();
    REQUIRE(fd);
    REQUIRE(fd->valid());
    struct stat a {};
    struct stat b {};
    REQUIRE(::fstat(fd->get(), &a) == 0);
    REQUIRE(::stat((host.base + "/ctr").c_str(), &b) == 0);
    CHECK(S_ISDIR(a.st_mode));
    CHECK(a.st_ino == b.st_ino);
    CHECK((::fcntl(fd->get(), F_GETFD) & FD_CLOEXEC) != 0);
}

TEST_CASE("v2 add_pid, pids, destroy", "[cgroups][v2]") {
    UnifiedHost host;
    auto m = host.manager("/a/ctr");
    REQUIRE(m->create());
    REQUIRE(m->add_pid(31));
    CHECK(read_or_empty(host.base + "/a/ctr/cgroup.procs") == "31\n");
    REQUIRE(host.fs->mkdir(host.base + "/a/ctr/sub"));
    REQUIRE(host.fs->write(host.base + "/a/ctr/sub/cgroup.procs", "32"));
    auto pids = m->pids();
    REQUIRE(pids);
    CHECK(*pids == std::vector<pid_t>{31, 32});

    put(host.base + "/a/ctr/cgroup.procs", "");
    put(host.base + "/a/ctr/sub/cgroup.procs", "");
    REQUIRE(m->destroy());
    CHECK_FALSE(is_dir(host.base + "/a/ctr"));
    CHECK(is_dir(host.base + "/a"));
    CHECK(m->destroy());
}

TEST_CASE("v2 to_json / load_manager round trip", "[cgroups][v2][json]") {
    UnifiedHost host;
    auto m = host.manager("");
    REQUIRE(m->create());
    auto saved = nlohmann::json::parse(m->to_json().dump());
    CHECK(saved.at("mode") == "unified");
    CHECK(saved.at("hierarchies").size() == 1);
    CHECK(saved.at("hierarchies")[0].at("unified") == true);
    auto loaded = load_manager(saved, host.fs);
    REQUIRE(loaded);
    CHECK((*loaded)->mode() == Mode::kUnified);
    CHECK((*loaded)->path() == host.base + "/ctr");
    auto fd = (*loaded)->clone_fd();
    REQUIRE(fd);
    CHECK(fd->valid());
    REQUIRE((*loaded)->destroy());
    CHECK_FALSE(is_dir(host.base + "/ctr"));

    saved["hierarchies"].push_back(saved["hierarchies"][0]);
    CHECK_FALSE(load_manager(saved, host.fs));
}
