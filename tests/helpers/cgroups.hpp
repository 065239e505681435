// Helpers for the cgroup tests. On a fake tree (unit): a manager for a fixture host, and
// resources parsed and applied or the test fails. On the host's real cgroups (priv): the root
// check, test cgroup names (/cove-test-<pid>...), TestCgroup (a created cgroup removed at the
// end of the scope), and FakeV2Root (a private cgroup2 sub-tree that stands in for the
// hierarchy's root). For Catch2 tests only.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <memory>
#include <string>

#include <catch2/catch.hpp>

#include "cgroups/cgroupfs.hpp"
#include "cgroups/detect.hpp"
#include "cgroups/manager.hpp"
#include "runtime/base/fs.hpp"

namespace cove::test {

inline bool skip_unless_root() {
    if (::geteuid() != 0) {
        WARN("skipped: needs root");
        return true;
    }
    return false;
}

// The error of a Status or Result as text; empty on success (for INFO).
template <typename R>
std::string error_text(const R& r) {
    return r ? std::string() : r.error().to_string();
}

// "/cove-test-<pid><suffix>".
inline std::string test_cgroup_name(const std::string& suffix = "") {
    return "/cove-test-" + std::to_string(::getpid()) + suffix;
}

inline std::unique_ptr<cgroups::Manager> must_make(
    const std::string& path, const std::string& mountinfo = "/proc/self/mountinfo") {
    cgroups::Config cfg;
    cfg.id = "unused";
    cfg.cgroups_path = path;
    cfg.mountinfo_path = mountinfo;
    auto m = cgroups::make_manager(cfg);
    INFO(error_text(m));
    REQUIRE(m);
    return std::move(*m);
}

// A manager for cgroupsPath "/ctr" of the fixture host whose mountinfo is
// tests/fixtures/cgroups/mountinfo.<host> ("hybrid", "unified"), on the tree at root.
inline std::unique_ptr<cgroups::Manager> make_fixture_manager(
    const std::string& root, const std::string& host, std::shared_ptr<cgroups::CgroupFs> fs) {
    cgroups::Config cfg;
    cfg.id = "ctr";
    cfg.cgroups_path = "/ctr";
    cfg.root = root;
    cfg.mountinfo_path = std::string(COVE_FIXTURES) + "/cgroups/mountinfo." + host;
    cfg.fs = std::move(fs);
    auto r = cgroups::make_manager(cfg);
    REQUIRE(r);
    return std::move(*r);
}

inline cgroups::Resources must_parse(const std::string& text) {
    auto r = cgroups::parse_resources(nlohmann::json::parse(text));
    INFO(error_text(r));
    REQUIRE(r);
    return std::move(*r);
}

// apply (or update) the resources in text; the test fails on an error.
inline void apply_ok(cgroups::Manager& m, const std::string& text, bool update = false) {
    auto r = must_parse(text);
    auto st = update ? m.update(r) : m.apply(r);
    INFO(error_text(st));
    REQUIRE(st);
}

// The error of apply (or update); the test fails if it succeeds.
inline std::string apply_error(cgroups::Manager& m, const std::string& text, bool update = false) {
    auto r = must_parse(text);
    auto st = update ? m.update(r) : m.apply(r);
    REQUIRE_FALSE(st);
    return st.error().to_string();
}

// Removes the manager's cgroups and checks that none is left.
inline void destroy_and_check(cgroups::Manager& m) {
    auto st = m.destroy();
    INFO(error_text(st));
    CHECK(st);
    for (const auto& [ctrl, dir] : m.paths()) {
        INFO(ctrl << " " << dir);
        CHECK_FALSE(fs::exists(dir));
    }
}

// A manager whose cgroup is created here and destroyed at the end of the scope, also when
// the test fails; finish() destroys it and checks that nothing is left.
class TestCgroup {
public:
    explicit TestCgroup(const std::string& path,
                        const std::string& mountinfo = "/proc/self/mountinfo")
        : m_(must_make(path, mountinfo)) {
        auto st = m_->create();
        if (!st) {  // a throwing constructor runs no destructor: undo here
            (void)m_->destroy();
        }
        INFO(error_text(st));
        REQUIRE(st);
    }
    ~TestCgroup() {
        if (!finished_) {
            (void)m_->destroy();
        }
    }
    TestCgroup(const TestCgroup&) = delete;
    TestCgroup& operator=(const TestCgroup&) = delete;

    cgroups::Manager* operator->() { return m_.get(); }
    cgroups::Manager& operator*() { return *m_; }

    void finish() {
        finished_ = true;
        destroy_and_check(*m_);
    }

private:
    std::unique_ptr<cgroups::Manager> m_;
    bool finished_ = false;
};

// A private sub-tree of the host's cgroup2 hierarchy that stands in for its root, named as
// the cgroup2 mount by a one-line mountinfo of its own, so a V2Manager runs there without
// changing the host root's cgroup.subtree_control. Both are removed at the end of the scope.
// ok() is false (and a skip warned) when the host has no cgroup2 mount of its root.
class FakeV2Root {
public:
    // suffix names the sub-tree (test_cgroup_name(suffix)) and the mountinfo file.
    explicit FakeV2Root(const std::string& suffix) {
        auto mounts = cgroups::read_cgroup_mounts("/proc/self/mountinfo");
        REQUIRE(mounts);
        const cgroups::CgroupMount* v2 = cgroups::unified_mount(*mounts);
        if (v2 == nullptr || v2->root != "/") {
            WARN("skipped: no cgroup2 mount");
            return;
        }
        sub = test_cgroup_name(suffix);
        const std::string dir = v2->mountpoint + sub;
        REQUIRE(fs::mkdir_p(dir));
        const std::string mi =
            "/tmp/cove-test-mountinfo" + suffix + "-" + std::to_string(::getpid());
        auto written = fs::write_file(mi, "99 1 0:99 / " + dir + " rw - cgroup2 cgroup2 rw\n",
                                      O_CREAT | O_TRUNC);
        if (!written) {  // a throwing constructor runs no destructor: undo here
            ::unlink(mi.c_str());
            ::rmdir(dir.c_str());
        }
        REQUIRE(written);
        root = dir;
        mountinfo = mi;
    }
    ~FakeV2Root() {
        if (!mountinfo.empty()) {
            ::unlink(mountinfo.c_str());
        }
        if (!root.empty()) {
            ::rmdir(root.c_str());
        }
    }
    FakeV2Root(const FakeV2Root&) = delete;
    FakeV2Root& operator=(const FakeV2Root&) = delete;

    bool ok() const { return !root.empty(); }

    std::string sub;        // the sub-tree's path inside the real hierarchy
    std::string root;       // its directory
    std::string mountinfo;  // the mountinfo file that names it as the cgroup2 mount
};

}  // namespace cove::test
