// Privileged tests of resource control on the host's real cgroups: a memory hog is
// OOM-killed, pids.max stops forks, a CPU quota throttles, freeze/thaw, device denial, and
// kill_all. Each test makes /cove-test-<pid>-<name> cgroups and removes them (also on
// failure), then checks that nothing is left. On v2 hosts, device filters use eBPF; on this
// hybrid host they are tried on a private sub-tree of the cgroup2 mount.
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "cgroups/cgroupfs.hpp"
#include "cgroups/detect.hpp"
#include "cgroups/manager.hpp"
#include "cgroups/v2/devices_ebpf.hpp"
#include "runtime/base/fs.hpp"
#include "runtime/base/scope_exit.hpp"
#include "runtime/base/strings.hpp"
#include "tests/helpers/cgroups.hpp"

using namespace cove;
using namespace cove::cgroups;
using namespace cove::test;

namespace {

// A child that waits until the parent has put it in the cgroup, then runs fn and exits with
// its result.
class Child {
public:
    template <typename Fn>
    explicit Child(Fn fn) {
        int go[2];
        int ready[2];
        REQUIRE(::pipe2(go, O_CLOEXEC) == 0);
        REQUIRE(::pipe2(ready, O_CLOEXEC) == 0);
        pid_ = ::fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            // Catch2's fatal-signal handlers would report a test failure from this child.
            for (int sig : {SIGTERM, SIGINT, SIGSEGV, SIGABRT}) {
                ::signal(sig, SIG_DFL);
            }
            ::close(go[1]);
            ::close(ready[0]);
            char c = 'r';
            if (::write(ready[1], &c, 1) != 1 || ::read(go[0], &c, 1) != 1) {
                ::_exit(120);
            }
            ::_exit(fn());
        }
        ::close(go[0]);
        ::close(ready[1]);
        char c;
        REQUIRE(::read(ready[0], &c, 1) == 1);  // its handlers are reset: safe to signal
        ::close(ready[0]);
        go_ = go[1];
    }
    ~Child() {
        if (go_ >= 0) {
            ::close(go_);
        }
        kill_and_reap();
    }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;

    pid_t pid() const { return pid_; }
    void go() {
        REQUIRE(::write(go_, "x", 1) == 1);
        ::close(go_);
        go_ = -1;
    }
    // The wait status.
    int wait() {
        int status = 0;
        REQUIRE(::waitpid(pid_, &status, 0) == pid_);
        pid_ = -1;
        return status;
    }
    void kill_and_reap() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
            pid_ = -1;
        }
    }

private:
    pid_t pid_ = -1;
    int go_ = -1;
};

// Runs fn in a Child put in m's cgroup; its wait status.
template <typename Fn>
int run_in(Manager& m, Fn fn) {
    Child child(fn);
    REQUIRE(m.add_pid(child.pid()));
    child.go();
    return child.wait();
}

// For a Child under device rules: 0 when /dev/null is denied (EPERM) and /dev/zero opens.
int only_dev_zero_opens() {
    int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    int err = errno;
    int zero_fd = ::open("/dev/zero", O_RDONLY | O_CLOEXEC);
    if (null_fd >= 0) {
        return 1;
    }
    if (err != EPERM) {
        return 2;
    }
    return zero_fd >= 0 ? 0 : 3;
}

std::string read_trim(const std::string& path) {
    auto t = fs::read_file(path);
    return t ? std::string(str::trim(*t)) : std::string("<unreadable>");
}

bool v1_host() {
    auto mode = detect_mode();
    return mode && *mode != Mode::kUnified;
}

}  // namespace

TEST_CASE("a memory hog is OOM-killed at its limit and the OOM count grows",
          "[priv][cgroups][memory]") {
    if (skip_unless_root()) {
        return;
    }
    TestCgroup m(test_cgroup_name("-oom"));
    // 32 MiB, no swap: memory+swap equals the limit where swap accounting exists.
    const int64_t limit = 32 << 20;
    std::string text = R"({"memory":{"limit":)" + std::to_string(limit);
    if (m->mode() == Mode::kUnified ||
        fs::exists(m->path("memory") + "/memory.memsw.limit_in_bytes")) {
        text += R"(,"swap":)" + std::to_string(limit);
    }
    text += "}}";
    auto st = m->apply(must_parse(text));
    INFO(error_text(st));
    REQUIRE(st);
    auto before = m->oom_kill_count();
    INFO((before ? std::string() : before.error().to_string()));
    REQUIRE(before);

    int status = run_in(*m, [] {
        // 256 MiB, every page touched: far past the limit even if some were swapped.
        const size_t size = 256u << 20;
        void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            return 2;
        }
        auto* bytes = static_cast<volatile char*>(p);
        for (size_t i = 0; i < size; i += 4096) {
            bytes[i] = 1;
        }
        return 0;  // survived: the limit did not hold
    });
    CHECK(WIFSIGNALED(status));
    CHECK((WIFSIGNALED(status) ? WTERMSIG(status) : -1) == SIGKILL);
    auto after = m->oom_kill_count();
    REQUIRE(after);
    CHECK(*after > *before);
    m.finish();
}

TEST_CASE("pids.limit stops forks in the cgroup", "[priv][cgroups][pids]") {
    if (skip_unless_root()) {
        return;
    }
    TestCgroup m(test_cgroup_name("-pids"));
    REQUIRE(m->apply(must_parse(R"({"pids":{"limit":4}})")));
    // The limit must be in place before anything forks in there.
    std::string max_file =
        (m->mode() == Mode::kUnified ? m->path() : m->path("pids")) + "/pids.max";
    REQUIRE(read_trim(max_file) == "4");

    int status = run_in(*m, [] {
        // A bounded loop: at most 16 children, each exits at once when its parent dies.
        int made = 0;
        for (int i = 0; i < 16; ++i) {
            pid_t p = ::fork();
            if (p == 0) {
                ::pause();
                ::_exit(0);
            }
            if (p < 0) {
                break;
            }
            ++made;
        }
        return made;
    });
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 3);  // 4 tasks: the forker and 3 children
    auto killed = m->kill_all(SIGKILL);
    REQUIRE(killed);
    if (!*killed) {
        auto pids = m->pids();
        REQUIRE(pids);
        for (pid_t p : *pids) {
            ::kill(p, SIGKILL);
        }
    }
    m.finish();
}

TEST_CASE("a cpu quota throttles a busy loop", "[priv][cgroups][cpu]") {
    if (skip_unless_root()) {
        return;
    }
    TestCgroup m(test_cgroup_name("-cpu"));
    auto st = m->apply(must_parse(R"({"cpu":{"quota":10000,"period":100000,"shares":512}})"));
    INFO(error_text(st));
    REQUIRE(st);
    if (m->mode() != Mode::kUnified) {
        CHECK(read_trim(m->path("cpu") + "/cpu.cfs_quota_us") == "10000");
        CHECK(read_trim(m->path("cpu") + "/cpu.cfs_period_us") == "100000");
        CHECK(read_trim(m->path("cpu") + "/cpu.shares") == "512");
    } else {
        CHECK(read_trim(m->path() + "/cpu.max") == "10000 100000");
    }
    Child busy([] {
        for (;;) {
            asm volatile("" ::: "memory");  // spin
        }
        return 0;
    });
    REQUIRE(m->add_pid(busy.pid()));
    busy.go();
    // Throttled periods appear after the first exhausted period; wait up to ~5 s for some.
    uint64_t throttled = 0;
    for (int i = 0; i < 50 && throttled < 3; ++i) {
        ::usleep(100000);
        auto s = m->stats();
        REQUIRE(s);
        throttled = s->at("cpu").at("throttling").value("throttledPeriods", uint64_t{0});
    }
    CHECK(throttled >= 3);
    busy.kill_and_reap();
    m.finish();
}

TEST_CASE("freeze stops a process and thaw resumes it; kill_all kills a frozen cgroup",
          "[priv][cgroups][freezer]") {
    if (skip_unless_root()) {
        return;
    }
    TestCgroup m(test_cgroup_name("-freeze"));
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    ScopeExit close_pipe([&] { ::close(p[0]); });
    Child ticker([&] {
        ::close(p[0]);
        for (;;) {
            if (::write(p[1], "t", 1) != 1) {
                return 1;
            }
            ::usleep(10000);
        }
        return 0;
    });
    ::close(p[1]);
    REQUIRE(m->add_pid(ticker.pid()));
    ticker.go();
    char buf[4096];
    REQUIRE(::read(p[0], buf, 1) == 1);

    auto st = m->freeze(true);
    INFO(error_text(st));
    REQUIRE(st);
    auto fr = m->frozen();
    REQUIRE(fr);
    CHECK(*fr);
    // Drain what was written before the freeze; then nothing more comes.
    ::fcntl(p[0], F_SETFL, O_NONBLOCK);
    while (::read(p[0], buf, sizeof(buf)) > 0) {
    }
    ::usleep(200000);
    CHECK(::read(p[0], buf, sizeof(buf)) < 0);

    REQUIRE(m->freeze(false));
    fr = m->frozen();
    REQUIRE(fr);
    CHECK_FALSE(*fr);
    ::fcntl(p[0], F_SETFL, 0);
    CHECK(::read(p[0], buf, 1) == 1);

    REQUIRE(m->freeze(true));
    auto killed = m->kill_all(SIGKILL);
    INFO((killed ? std::string() : killed.error().to_string()));
    REQUIRE(killed);
    if (*killed) {
        int status = ticker.wait();
        CHECK(WIFSIGNALED(status));
    }
    m.finish();
}

TEST_CASE("device rules deny /dev/null to a process in the cgroup (v1)",
          "[priv][cgroups][devices]") {
    if (skip_unless_root()) {
        return;
    }
    if (!v1_host()) {
        WARN("skipped: the host is unified; the eBPF test covers devices there");
        return;
    }
    TestCgroup m(test_cgroup_name("-dev"));
    auto r = must_parse(R"({"devices":[{"allow":false,"access":"rwm"},
                                        {"allow":true,"type":"c","major":1,"minor":5,"access":"rw"}]})");
    auto st = m->apply(r);
    INFO(error_text(st));
    REQUIRE(st);
    CHECK(read_trim(m->path("devices") + "/devices.list") == "c 1:5 rw");

    int status = run_in(*m, only_dev_zero_opens);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    m.finish();
}

TEST_CASE("kill_all signals every process in the cgroup", "[priv][cgroups][kill]") {
    if (skip_unless_root()) {
        return;
    }
    TestCgroup m(test_cgroup_name("-kill"));
    Child a([] {
        ::pause();
        return 0;
    });
    Child b([] {
        ::pause();
        return 0;
    });
    REQUIRE(m->add_pid(a.pid()));
    REQUIRE(m->add_pid(b.pid()));
    a.go();
    b.go();
    auto killed = m->kill_all(SIGTERM);
    INFO((killed ? std::string() : killed.error().to_string()));
    REQUIRE(killed);
    if (!*killed) {
        auto pids = m->pids();
        REQUIRE(pids);
        for (pid_t p : *pids) {
            ::kill(p, SIGTERM);
        }
    }
    int sa = a.wait();
    int sb = b.wait();
    CHECK((WIFSIGNALED(sa) && WTERMSIG(sa) == SIGTERM));
    CHECK((WIFSIGNALED(sb) && WTERMSIG(sb) == SIGTERM));
    auto fr = m->frozen();
    REQUIRE(fr);
    CHECK_FALSE(*fr);  // kill_all's freeze was undone
    m.finish();
}

TEST_CASE("an eBPF device filter on a cgroup2 dir denies /dev/null", "[priv][cgroups][v2]") {
    if (skip_unless_root()) {
        return;
    }
    // A private sub-tree of the cgroup2 hierarchy stands in for its root, so a V2Manager
    // runs there without touching the host's root.
    FakeV2Root v2("-v2root");
    if (!v2.ok()) {
        return;
    }
    TestCgroup m("/ctr", v2.mountinfo);
    REQUIRE(m->mode() == Mode::kUnified);
    auto r = must_parse(R"({"devices":[{"allow":false,"access":"rwm"}]})");
    append_default_device_rules(r);
    r.devices.push_back({false, 'c', 1, 3, "rwm"});  // then /dev/null denied again
    auto st = m->apply(r);
    INFO(error_text(st));
    REQUIRE(st);
    // An update replaces the filter: still one program attached.
    st = m->update(r);
    INFO(error_text(st));
    REQUIRE(st);

    int status = run_in(*m, only_dev_zero_opens);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    m.finish();
}

TEST_CASE("update moves memory and memsw both ways, and shrinks the cpu period",
          "[priv][cgroups][update]") {
    if (skip_unless_root()) {
        return;
    }
    if (!v1_host()) {
        WARN("skipped: v1 file checks");
        return;
    }
    TestCgroup m(test_cgroup_name("-update"));
    const std::string mem = m->path("memory");
    bool memsw = fs::exists(mem + "/memory.memsw.limit_in_bytes");
    auto set_mem = [&](int64_t limit, int64_t swap) {
        std::string text = R"({"memory":{"limit":)" + std::to_string(limit);
        if (memsw) {
            text += R"(,"swap":)" + std::to_string(swap);
        }
        text += "}}";
        auto st = m->update(must_parse(text));
        INFO(error_text(st));
        REQUIRE(st);
        CHECK(read_trim(mem + "/memory.limit_in_bytes") == std::to_string(limit));
        if (memsw) {
            CHECK(read_trim(mem + "/memory.memsw.limit_in_bytes") == std::to_string(swap));
        }
    };
    set_mem(64 << 20, 128 << 20);
    set_mem(256 << 20, 512 << 20);  // memsw must grow first
    set_mem(32 << 20, 64 << 20);    // the limit must shrink first
    // -1 unlimits both (memsw too, although not given).
    REQUIRE(m->update(must_parse(R"({"memory":{"limit":-1}})")));
    CHECK(read_trim(mem + "/memory.limit_in_bytes") != std::to_string(32 << 20));

    auto st = m->update(must_parse(R"({"cpu":{"quota":200000,"period":1000000}})"));
    INFO(error_text(st));
    REQUIRE(st);
    st = m->update(must_parse(R"({"cpu":{"quota":2000,"period":10000}})"));
    INFO(error_text(st));
    REQUIRE(st);
    CHECK(read_trim(m->path("cpu") + "/cpu.cfs_period_us") == "10000");
    CHECK(read_trim(m->path("cpu") + "/cpu.cfs_quota_us") == "2000");
    // A limit below the usage with checkBeforeUpdate is refused: the test process's own
    // usage is not here, so put a tiny limit on an empty cgroup: it is accepted (usage 0).
    st = m->update(must_parse(R"({"memory":{"limit":4096,"checkBeforeUpdate":true}})"));
    INFO(error_text(st));
    CHECK(st);
    m.finish();
}
