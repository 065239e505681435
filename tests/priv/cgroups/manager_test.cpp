// Privileged cgroup manager tests on the host's real cgroupfs: create, join, list, destroy.
// Each test uses cgroups named /cove-test-<pid>... and removes them even when failing.
#include "cgroups/manager.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/sched.h>

#include <catch2/catch.hpp>

#include "cgroups/detect.hpp"
#include "runtime/base/fs.hpp"
#include "runtime/base/scope_exit.hpp"
#include "runtime/base/strings.hpp"
#include "tests/helpers/cgroups.hpp"

using namespace cove;
using namespace cove::cgroups;
using namespace cove::test;

namespace {

// A child that sleeps until killed.
pid_t spawn_sleeper() {
    pid_t pid = ::fork();
    if (pid == 0) {
        for (;;) {
            ::pause();
        }
    }
    REQUIRE(pid > 0);
    return pid;
}

void kill_and_reap(pid_t& pid) {
    if (pid > 0) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        pid = -1;
    }
}

// Every line of /proc/<pid>/cgroup: "id:controllers:path" -> path.
std::vector<std::string> cgroup_lines(pid_t pid) {
    auto text = fs::read_file("/proc/" + std::to_string(pid) + "/cgroup");
    REQUIRE(text);
    std::vector<std::string> out;
    for (const auto& line : str::split(str::trim(*text), '\n')) {
        out.push_back(line);
    }
    return out;
}

bool contains(const std::vector<pid_t>& v, pid_t p) {
    return std::find(v.begin(), v.end(), p) != v.end();
}

}  // namespace

TEST_CASE("a process joins the cgroup in every hierarchy and it is removed after",
          "[priv][cgroups]") {
    if (skip_unless_root()) {
        return;
    }
    const std::string name = test_cgroup_name();
    auto m = must_make(name);
    pid_t child = -1;
    ScopeExit cleanup([&] {
        kill_and_reap(child);
        (void)m->destroy();
    });

    auto created = m->create();
    INFO(error_text(created));
    REQUIRE(created);
    child = spawn_sleeper();
    auto added = m->add_pid(child);
    INFO(error_text(added));
    REQUIRE(added);

    // Every hierarchy of this host lists the child in our cgroup (v1 ones and, on a hybrid
    // host, the cgroup2 line "0::").
    auto lines = cgroup_lines(child);
    REQUIRE_FALSE(lines.empty());
    for (const auto& line : lines) {
        INFO(line);
        CHECK(line.substr(line.find(':', line.find(':') + 1) + 1) == name);
    }
    auto pids = m->pids();
    REQUIRE(pids);
    CHECK(contains(*pids, child));

    kill_and_reap(child);
    destroy_and_check(*m);
}

TEST_CASE("nested levels are usable at once (cpuset copied down) and state reloads",
          "[priv][cgroups]") {
    if (skip_unless_root()) {
        return;
    }
    const std::string top = test_cgroup_name("-nested");
    auto m = must_make(top + "/a/b");
    auto top_m = must_make(top);
    pid_t child = -1;
    ScopeExit cleanup([&] {
        kill_and_reap(child);
        (void)m->destroy();
        (void)top_m->destroy();
    });
    REQUIRE(m->create());
    if (m->mode() != Mode::kUnified) {
        std::string cpus(str::trim(*fs::read_file(m->path("cpuset") + "/cpuset.cpus")));
        CHECK_FALSE(cpus.empty());
    }

    auto loaded = load_manager(nlohmann::json::parse(m->to_json().dump()));
    REQUIRE(loaded);
    child = spawn_sleeper();
    auto added = (*loaded)->add_pid(child);  // ENOSPC here if cpuset was left empty
    INFO(error_text(added));
    REQUIRE(added);
    auto top_pids = top_m->pids();  // descendants count
    REQUIRE(top_pids);
    CHECK(contains(*top_pids, child));

    kill_and_reap(child);
    REQUIRE((*loaded)->destroy());
    for (const auto& [ctrl, dir] : m->paths()) {
        INFO(ctrl);
        CHECK_FALSE(fs::exists(dir));
        CHECK(fs::exists(dir.substr(0, dir.rfind('/'))));  // parents are left alone
    }
    REQUIRE(top_m->destroy());
    for (const auto& [ctrl, dir] : top_m->paths()) {
        INFO(ctrl);
        CHECK_FALSE(fs::exists(dir));
    }
}

TEST_CASE("clone3 CLONE_INTO_CGROUP starts a child in the v2 manager's cgroup",
          "[priv][cgroups][v2]") {
    if (skip_unless_root()) {
        return;
    }
    // A private sub-tree of the cgroup2 hierarchy stands in for its root, so the test never
    // changes the host root's cgroup.subtree_control.
    FakeV2Root v2("-v2root");
    if (!v2.ok()) {
        return;
    }
    auto m = must_make("/ctr/leaf", v2.mountinfo);
    REQUIRE(m->mode() == Mode::kUnified);
    pid_t child = -1;
    ScopeExit cleanup([&] {
        kill_and_reap(child);
        (void)m->destroy();
        ::rmdir((v2.root + "/ctr").c_str());
    });
    REQUIRE(m->create());
    auto fd = m->clone_fd();
    REQUIRE(fd);
    REQUIRE(fd->valid());

    struct clone_args args {};
    args.flags = CLONE_INTO_CGROUP;
    args.exit_signal = SIGCHLD;
    args.cgroup = static_cast<uint64_t>(fd->get());
    long r = ::syscall(SYS_clone3, &args, sizeof args);
    if (r == 0) {
        for (;;) {
            ::pause();
        }
    }
    if (r < 0 && (errno == ENOSYS || errno == E2BIG)) {
        WARN("skipped: clone3 with CLONE_INTO_CGROUP not supported");
        return;
    }
    REQUIRE(r > 0);
    child = static_cast<pid_t>(r);
    bool found = false;
    for (const auto& line : cgroup_lines(child)) {
        if (str::starts_with(line, "0::")) {
            CHECK(line == "0::" + v2.sub + "/ctr/leaf");
            found = true;
        }
    }
    CHECK(found);
    auto pids = m->pids();
    REQUIRE(pids);
    CHECK(*pids == std::vector<pid_t>{child});
    kill_and_reap(child);
    REQUIRE(m->destroy());
    CHECK_FALSE(fs::exists(m->path()));
}
