#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "cgroups/manager.hpp"
#include "tests/fixtures/cgroups/fake_cgroupfs.hpp"

using namespace cove::cgroups;
using namespace cove::cgroups::testing;

namespace {

const std::vector<std::string> kHybridDirs = {"cpu",     "cpuacct", "cpuset", "memory",  "devices",
                                              "freezer", "blkio",   "pids",   "systemd", "unified"};

bool is_dir(const std::string& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

struct HybridHost {
    TempDir tmp;
    std::shared_ptr<FakeCgroupFs> fs = std::make_shared<FakeCgroupFs>();
    std::string base = tmp.path() + "/sys/fs/cgroup/";

    HybridHost() { make_v1_tree(tmp.path(), kHybridDirs); }

    std::unique_ptr<Manager> manager(const std::string& path) {
        Config cfg;
        cfg.id = "ctr";
        cfg.cgroups_path = path;
        cfg.root = tmp.path();
        cfg.mountinfo_path = std::string(COVE_FIXTURES) + "/cgroups/mountinfo.hybrid";
        cfg.fs = fs;
        auto m = make_manager(cfg);
        REQUIRE(m);
        return std::move(*m);
    }
};

}  // namespace

TEST_CASE("v1 create makes the cgroup in every hierarchy, cgroup2 included", "[cgroups][v1]") {
    HybridHost host;
    auto m = host.manager("/a/b");
    REQUIRE(m->create());
    for (const auto& d : kHybridDirs) {
        INFO(d);
        CHECK(is_dir(host.base + d + "/a/b"));
    }
    auto fd = m->clone_fd();
    REQUIRE(fd);
    CHECK_FALSE(fd->valid());
    // Creating again (the cgroup exists) is fine.
    CHECK(m->create());
}

TEST_CASE("v1 create copies cpuset.cpus and cpuset.mems down every new level",
          "[cgroups][v1][cpuset]") {
    HybridHost host;
    auto m = host.manager("/a/b/c");
    REQUIRE(m->create());
    for (const auto& level : {"a", "a/b", "a/b/c"}) {
        INFO(level);
        CHECK(read_or_empty(host.base + "cpuset/" + level + "/cpuset.cpus") == "0-3");
        CHECK(read_or_empty(host.base + "cpuset/" + level + "/cpuset.mems") == "0");
    }
    // Written top down: a before a/b before a/b/c.
    std::vector<std::string> cpus_writes;
    for (const auto& w : host.fs->writes) {
        if (w.find("cpuset.cpus=") != std::string::npos) {
            cpus_writes.push_back(w);
        }
    }
    REQUIRE(cpus_writes.size() == 3);
    CHECK(cpus_writes[0] == host.base + "cpuset/a/cpuset.cpus=0-3");
    CHECK(cpus_writes[2] == host.base + "cpuset/a/b/c/cpuset.cpus=0-3");
    CHECK(read_or_empty(host.base + "memory/a/b/c/cpuset.cpus").empty());
}

TEST_CASE("v1 create keeps a level's own cpuset and passes it down", "[cgroups][v1][cpuset]") {
    HybridHost host;
    REQUIRE(host.fs->mkdir(host.base + "cpuset/pod"));
    put(host.base + "cpuset/pod/cpuset.cpus", "1");
    put(host.base + "cpuset/pod/cpuset.mems", "0");
    auto m = host.manager("/pod/ctr");
    REQUIRE(m->create());
    CHECK(read_or_empty(host.base + "cpuset/pod/cpuset.cpus") == "1");
    CHECK(read_or_empty(host.base + "cpuset/pod/ctr/cpuset.cpus") == "1");
}

TEST_CASE("v1 add_pid writes cgroup.procs in every hierarchy; pids lists the tree",
          "[cgroups][v1]") {
    HybridHost host;
    auto m = host.manager("/ctr");
    REQUIRE(m->create());
    REQUIRE(m->add_pid(4242));
    for (const auto& d : kHybridDirs) {
        INFO(d);
        CHECK(read_or_empty(host.base + d + "/ctr/cgroup.procs") == "4242\n");
    }
    // A sub-cgroup made inside the container, with a task only in one hierarchy.
    REQUIRE(host.fs->mkdir(host.base + "pids/ctr/inner"));
    REQUIRE(host.fs->write(host.base + "pids/ctr/inner/cgroup.procs", "77"));
    auto pids = m->pids();
    REQUIRE(pids);
    CHECK(*pids == std::vector<pid_t>{77, 4242});
}

TEST_CASE("v1 add_pid names the file and the cause", "[cgroups][v1]") {
    HybridHost host;
    auto m = host.manager("/ctr");
    REQUIRE(m->create());
    std::string procs = host.base + "memory/ctr/cgroup.procs";
    host.fs->deny_write.insert(procs);
    auto st = m->add_pid(1);
    REQUIRE_FALSE(st);
    CHECK(st.error().to_string() == "cgroup: write " + procs + ": Permission denied");
}

TEST_CASE("v1 destroy removes the leaf and its children, not the parents", "[cgroups][v1]") {
    HybridHost host;
    auto m = host.manager("/a/ctr");
    REQUIRE(m->create());
    REQUIRE(host.fs->mkdir(host.base + "memory/a/ctr/child"));
    host.fs->busy_rmdir[host.base + "freezer/a/ctr"] = 2;  // tasks still exiting
    REQUIRE(m->destroy());
    for (const auto& d : kHybridDirs) {
        INFO(d);
        CHECK_FALSE(is_dir(host.base + d + "/a/ctr"));
        CHECK(is_dir(host.base + d + "/a"));
    }
    CHECK(host.fs->busy_rmdir[host.base + "freezer/a/ctr"] == 0);
    // Missing is fine.
    CHECK(m->destroy());
    auto pids = m->pids();
    REQUIRE(pids);
    CHECK(pids->empty());
}

TEST_CASE("v1 destroy reports a cgroup that stays busy, after trying every hierarchy",
          "[cgroups][v1]") {
    HybridHost host;
    auto m = host.manager("/ctr");
    REQUIRE(m->create());
    REQUIRE(host.fs->write(host.base + "pids/ctr/cgroup.procs", "99"));
    auto st = remove_cgroup(*host.fs, host.base + "pids/ctr", RemoveRetry{2, 1});
    REQUIRE_FALSE(st);
    CHECK(st.error().code() == EBUSY);
    CHECK(st.error().to_string() == "rmdir " + host.base + "pids/ctr: Device or resource busy");
}

TEST_CASE("v1 create failing half way leaves nothing behind", "[cgroups][v1]") {
    HybridHost host;
    auto m = host.manager("/a/ctr");
    std::string denied = host.base + "memory/a/ctr";
    host.fs->deny_mkdir.insert(denied);
    auto st = m->create();
    REQUIRE_FALSE(st);
    CHECK(st.error().to_string() == "cgroup: mkdir " + denied + ": Permission denied");
    for (const auto& d : kHybridDirs) {
        INFO(d);
        CHECK_FALSE(is_dir(host.base + d + "/a"));
    }
}

TEST_CASE("v1 create keeps dirs it did not make when failing", "[cgroups][v1]") {
    HybridHost host;
    REQUIRE(host.fs->mkdir(host.base + "cpu/a"));
    auto m = host.manager("/a/ctr");
    host.fs->deny_mkdir.insert(host.base + "pids/a");
    REQUIRE_FALSE(m->create());
    CHECK(is_dir(host.base + "cpu/a"));
    CHECK_FALSE(is_dir(host.base + "cpu/a/ctr"));
}

TEST_CASE("v1 to_json / load_manager round trip", "[cgroups][v1][json]") {
    HybridHost host;
    auto m = host.manager("/ctr");
    REQUIRE(m->create());
    nlohmann::json saved = nlohmann::json::parse(m->to_json().dump());
    CHECK(saved.at("mode") == "hybrid");
    CHECK(saved.at("driver") == "cgroupfs");
    CHECK(saved.at("cgroupsPath") == "/ctr");
    auto loaded = load_manager(saved, host.fs);
    REQUIRE(loaded);
    CHECK((*loaded)->mode() == Mode::kHybrid);
    CHECK((*loaded)->paths() == m->paths());
    CHECK((*loaded)->to_json() == m->to_json());
    REQUIRE((*loaded)->add_pid(5));
    auto pids = (*loaded)->pids();
    REQUIRE(pids);
    CHECK(*pids == std::vector<pid_t>{5});
    for (const auto& d : kHybridDirs) {
        put(host.base + d + "/ctr/cgroup.procs", "");
    }
    REQUIRE((*loaded)->destroy());
    CHECK_FALSE(is_dir(host.base + "memory/ctr"));
}

TEST_CASE("load_manager refuses state that would touch a root cgroup", "[cgroups][json]") {
    nlohmann::json j = {{"driver", "cgroupfs"},
                        {"mode", "legacy"},
                        {"cgroupsPath", "/x"},
                        {"hierarchies",
                         {{{"controllers", {"memory"}},
                           {"mount", "/sys/fs/cgroup/memory"},
                           {"path", "/sys/fs/cgroup/memory"}}}}};
    auto root = load_manager(j);
    REQUIRE_FALSE(root);
    CHECK(root.error().to_string().find("is not a cgroup below") != std::string::npos);

    j["hierarchies"][0]["path"] = "/sys/fs/cgroup/memory/../cpu";
    CHECK_FALSE(load_manager(j));
    j["hierarchies"][0]["path"] = "/sys/fs/cgroup/memoryx";
    CHECK_FALSE(load_manager(j));
    j["hierarchies"][0]["path"] = "/sys/fs/cgroup/memory/x";
    CHECK(load_manager(j));

    j["driver"] = "systemd";
    CHECK_FALSE(load_manager(j));
    j["driver"] = "cgroupfs";
    j["mode"] = "weird";
    CHECK_FALSE(load_manager(j));
    j.erase("mode");
    auto missing = load_manager(j);
    REQUIRE_FALSE(missing);
    CHECK(missing.error().to_string().find("cgroup: saved state:") == 0);
}
