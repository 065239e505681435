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

using namespace cove;
using namespace cove::cgroups;

namespace {

bool skip_unless_root() {
    if (::geteuid() != 0) {
        WARN("skipped: needs root");
        return true;
    }
    return false;
}

std::string test_name(const std::string& suffix) {
    return "/cove-test-" + std::to_string(::getpid()) + "-" + suffix;
}

std::string msg(const Status& s) {
    return s ? std::string() : s.error().to_string();
}

std::unique_ptr<Manager> must_make(const std::string& path,
                                   const std::string& mountinfo = "/proc/self/mountinfo") {
    Config cfg;
    cfg.id = "unused";
    cfg.cgroups_path = path;
    cfg.mountinfo_path = mountinfo;
    auto m = make_manager(cfg);
    INFO((m ? std::string() : m.error().to_string()));
    REQUIRE(m);
    return std::move(*m);
}

Resources must_parse(const std::string& text) {
    auto r = parse_resources(nlohmann::json::parse(text));
    INFO((r ? std::string() : r.error().to_string()));
    REQUIRE(r);
    return std::move(*r);
}

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

// Removes the manager's cgroups and checks that none is left.
void destroy_and_check(Manager& m) {
    auto st = m.destroy();
    INFO(msg(st));
    CHECK(st);
    for (const auto& [ctrl, dir] : m.paths()) {
        INFO(ctrl << " " << dir);
        CHECK_FALSE(fs::exists(dir));
    }
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
    auto m = must_make(test_name("oom"));
    ScopeExit cleanup([&] { (void)m->destroy(); });
    REQUIRE(m->create());
    // 32 MiB, no swap: memory+swap equals the limit where swap accounting exists.
    const int64_t limit = 32 << 20;
    std::string text = R"({"memory":{"limit":)" + std::to_string(limit);
    if (m->mode() == Mode::kUnified ||
        fs::exists(m->path("memory") + "/memory.memsw.limit_in_bytes")) {
        text += R"(,"swap":)" + std::to_string(limit);
    }
    text += "}}";
    auto st = m->apply(must_parse(text));
    INFO(msg(st));
    REQUIRE(st);
    auto before = m->oom_kill_count();
    INFO((before ? std::string() : before.error().to_string()));
    REQUIRE(before);

    Child hog([] {
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
    REQUIRE(m->add_pid(hog.pid()));
    hog.go();
    int status = hog.wait();
    CHECK(WIFSIGNALED(status));
    CHECK((WIFSIGNALED(status) ? WTERMSIG(status) : -1) == SIGKILL);
    auto after = m->oom_kill_count();
    REQUIRE(after);
    CHECK(*after > *before);
    cleanup.dismiss();
    destroy_and_check(*m);
}

TEST_CASE("pids.limit stops forks in the cgroup", "[priv][cgroups][pids]") {
    if (skip_unless_root()) {
        return;
    }
    auto m = must_make(test_name("pids"));
    ScopeExit cleanup([&] { (void)m->destroy(); });
    REQUIRE(m->create());
    REQUIRE(m->apply(must_parse(R"({"pids":{"limit":4}})")));
    // The limit must be in place before anything forks in there.
    std::string max_file =
        (m->mode() == Mode::kUnified ? m->path() : m->path("pids")) + "/pids.max";
    REQUIRE(read_trim(max_file) == "4");

    Child forker([] {
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
    REQUIRE(m->add_pid(forker.pid()));
    forker.go();
    int status = forker.wait();
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
    cleanup.dismiss();
    destroy_and_check(*m);
}

TEST_CASE("a cpu quota throttles a busy loop", "[priv][cgroups][cpu]") {
    if (skip_unless_root()) {
        return;
    }
    auto m = must_make(test_name("cpu"));
    ScopeExit cleanup([&] { (void)m->destroy(); });
    REQUIRE(m->create());
    auto st = m->apply(must_parse(R"({"cpu":{"quota":10000,"period":100000,"shares":512}})"));
    INFO(msg(st));
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
    cleanup.dismiss();
    destroy_and_check(*m);
}

TEST_CASE("freeze stops a process and thaw resumes it; kill_all kills a frozen cgroup",
          "[priv][cgroups][freezer]") {
    if (skip_unless_root()) {
        return;
    }
    auto m = must_make(test_name("freeze"));
    ScopeExit cleanup([&] { (void)m->destroy(); });
    REQUIRE(m->create());
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
    INFO(msg(st));
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
    cleanup.dismiss();
    destroy_and_check(*m);
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
    auto m = must_make(test_name("dev"));
    ScopeExit cleanup([&] { (void)m->destroy(); });
    REQUIRE(m->create());
    auto r = must_parse(R"({"devices":[{"allow":false,"access":"rwm"},
                                        {"allow":true,"type":"c","major":1,"minor":5,"access":"rw"}]})");
    auto st = m->apply(r);
    INFO(msg(st));
    REQUIRE(st);
    CHECK(read_trim(m->path("devices") + "/devices.list") == "c 1:5 rw");

    Child opener([] {
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
    });
    REQUIRE(m->add_pid(opener.pid()));
    opener.go();
    int status = opener.wait();
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    cleanup.dismiss();
    destroy_and_check(*m);
}

TEST_CASE("kill_all signals every process in the cgroup", "[priv][cgroups][kill]") {
    if (skip_unless_root()) {
        return;
    }
    auto m = must_make(test_name("kill"));
    ScopeExit cleanup([&] { (void)m->destroy(); });
    REQUIRE(m->create());
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
    cleanup.dismiss();
    destroy_and_check(*m);
}

TEST_CASE("an eBPF device filter on a cgroup2 dir denies /dev/null", "[priv][cgroups][v2]") {
    if (skip_unless_root()) {
        return;
    }
    auto mounts = read_cgroup_mounts("/proc/self/mountinfo");
    REQUIRE(mounts);
    const CgroupMount* v2 = unified_mount(*mounts);
    if (v2 == nullptr || v2->root != "/") {
        WARN("skipped: no cgroup2 mount");
        return;
    }
    // A private sub-tree of the cgroup2 hierarchy stands in for its root (a one-line
    // mountinfo names it), so a V2Manager runs there without touching the host's root.
    const std::string fake_root = v2->mountpoint + test_name("v2root");
    REQUIRE(fs::mkdir_p(fake_root));
    ScopeExit remove_root([&] { ::rmdir(fake_root.c_str()); });
    const std::string mi = "/tmp/cove-test-mountinfo-dev-" + std::to_string(::getpid());
    REQUIRE(fs::write_file(mi, "99 1 0:99 / " + fake_root + " rw - cgroup2 cgroup2 rw\n",
                           O_CREAT | O_TRUNC));
    ScopeExit remove_mi([&] { ::unlink(mi.c_str()); });

    auto m = must_make("/ctr", mi);
    REQUIRE(m->mode() == Mode::kUnified);
    ScopeExit cleanup([&] { (void)m->destroy(); });
    REQUIRE(m->create());
    auto r = must_parse(R"({"devices":[{"allow":false,"access":"rwm"}]})");
    append_default_device_rules(r);
    r.devices.push_back({false, 'c', 1, 3, "rwm"});  // then /dev/null denied again
    auto st = m->apply(r);
    INFO(msg(st));
    REQUIRE(st);
    // An update replaces the filter: still one program attached.
    st = m->update(r);
    INFO(msg(st));
    REQUIRE(st);

    Child opener([] {
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
    });
    REQUIRE(m->add_pid(opener.pid()));
    opener.go();
    int status = opener.wait();
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    cleanup.dismiss();
    destroy_and_check(*m);
}
