// drop_bounding/apply_capabilities for real, in forked children that compare
// /proc/self/status with what was asked and report through their exit code. Root only.
#include <fcntl.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "runtime/security/caps.hpp"

namespace sec = cove::security;
namespace spec = cove::spec;

namespace {

int in_child(const std::function<int()>& fn) {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        int rc = 100;
        try {
            rc = fn();
        } catch (...) {
            rc = 101;
        }
        ::_exit(rc);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        REQUIRE(errno == EINTR);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int fail(int code, const char* what) {
    (void)std::fprintf(stderr, "child check %d failed: %s (errno %s)\n", code, what,
                       std::strerror(errno));
    return code;
}

#define REQUIRE_ROOT()                                            \
    do {                                                          \
        if (::geteuid() != 0) {                                   \
            WARN("skipped: needs root (CAP_SETPCAP, setresuid)"); \
            return;                                               \
        }                                                         \
    } while (0)

// The whole text of a file read with plain syscalls (fine in a child).
std::string read_all(int fd) {
    std::string out;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return out;
        }
        out.append(buf, static_cast<size_t>(n));
    }
}

std::string proc_status() {
    int fd = ::open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return {};
    }
    std::string s = read_all(fd);
    ::close(fd);
    return s;
}

// The hex value of "CapEff:\t000001fffeffffff" style lines; ~0 when missing.
uint64_t cap_field(const std::string& status, const char* key) {
    std::string k = std::string("\n") + key + ":";
    size_t at = status.find(k);
    if (at == std::string::npos) {
        return ~uint64_t{0};
    }
    return std::strtoull(status.c_str() + at + k.size(), nullptr, 16);
}

// The test's sets: all inside this host's bounding set (which lacks CAP_SYS_RESOURCE).
spec::Capabilities small_caps() {
    spec::Capabilities c;
    c.bounding = {"CAP_CHOWN",  "CAP_KILL",    "CAP_NET_BIND_SERVICE", "CAP_SETUID",
                  "CAP_SETGID", "CAP_SETPCAP", "CAP_AUDIT_WRITE"};
    c.permitted = {"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_AUDIT_WRITE"};
    c.effective = {"CAP_KILL", "CAP_NET_BIND_SERVICE"};
    c.inheritable = {"CAP_KILL", "CAP_NET_BIND_SERVICE"};
    c.ambient = {"CAP_NET_BIND_SERVICE"};
    return c;
}

// Compares the five lines of `status` with `s`; 0 or the first mismatch (base + 1..5).
int compare_sets(const std::string& status,
                 const sec::CapabilitySets& s,
                 uint64_t want_eff,
                 uint64_t want_prm,
                 int base) {
    struct Row {
        const char* key;
        uint64_t want;
    };
    const Row rows[] = {{"CapBnd", s.bounding},
                        {"CapEff", want_eff},
                        {"CapPrm", want_prm},
                        {"CapInh", s.inheritable},
                        {"CapAmb", s.ambient}};
    for (int i = 0; i < 5; ++i) {
        uint64_t got = cap_field(status, rows[i].key);
        if (got != rows[i].want) {
            (void)std::fprintf(stderr, "%s: got %016" PRIx64 " want %016" PRIx64 "\n", rows[i].key,
                               got, rows[i].want);
            return base + i + 1;
        }
    }
    return 0;
}

// drop_bounding, then KEEPCAPS + setresgid/setresuid to 1000 (when `to_user`), then apply.
int drop_switch_apply(const sec::CapabilitySets& sets, bool to_user, bool keepcaps) {
    if (auto st = sec::drop_bounding(sets); !st.ok()) {
        return fail(1, st.error().to_string().c_str());
    }
    if (to_user) {
        if (keepcaps && ::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) {
            return fail(2, "PR_SET_KEEPCAPS");
        }
        if (::setgroups(0, nullptr) != 0 || ::setresgid(1000, 1000, 1000) != 0 ||
            ::setresuid(1000, 1000, 1000) != 0) {
            return fail(3, "setgroups/setresgid/setresuid");
        }
    }
    if (auto st = sec::apply_capabilities(sets); !st.ok()) {
        return fail(4, st.error().to_string().c_str());
    }
    if (::prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0) != 0) {
        return fail(5, "PR_SET_KEEPCAPS was not cleared");
    }
    return 0;
}

}  // namespace

TEST_CASE("drop_bounding and apply_capabilities as root", "[caps][priv]") {
    REQUIRE_ROOT();
    auto sets = sec::resolve_capabilities(small_caps());
    REQUIRE(sets.unknown.empty());
    int rc = in_child([&] {
        if (int r = drop_switch_apply(sets, false, false); r != 0) {
            return r;
        }
        return compare_sets(proc_status(), sets, sets.effective, sets.permitted, 10);
    });
    CHECK(rc == 0);
}

TEST_CASE("apply after setresuid(1000) with PR_SET_KEEPCAPS keeps the listed caps",
          "[caps][priv]") {
    REQUIRE_ROOT();
    auto sets = sec::resolve_capabilities(small_caps());
    int rc = in_child([&] {
        if (int r = drop_switch_apply(sets, true, true); r != 0) {
            return r;
        }
        if (::getuid() != 1000 || ::geteuid() != 1000 || ::getgid() != 1000) {
            return fail(6, "not uid/gid 1000");
        }
        return compare_sets(proc_status(), sets, sets.effective, sets.permitted, 10);
    });
    CHECK(rc == 0);
}

TEST_CASE("after execve as uid 1000 the ambient set is what remains", "[caps][priv]") {
    REQUIRE_ROOT();
    auto sets = sec::resolve_capabilities(small_caps());
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    int rc = in_child([&] {
        if (::dup2(p[1], 1) != 1) {
            return fail(1, "dup2");
        }
        if (int r = drop_switch_apply(sets, true, true); r != 0) {
            return r;
        }
        const char* argv[] = {"cat", "/proc/self/status", nullptr};
        ::execv("/bin/cat", const_cast<char* const*>(argv));
        return fail(7, "execv /bin/cat");
    });
    ::close(p[1]);
    std::string status = read_all(p[0]);
    ::close(p[0]);
    REQUIRE(rc == 0);
    // A non-root exec without file capabilities: permitted = effective = ambient.
    CHECK(cap_field(status, "CapBnd") == sets.bounding);
    CHECK(cap_field(status, "CapEff") == sets.ambient);
    CHECK(cap_field(status, "CapPrm") == sets.ambient);
    CHECK(cap_field(status, "CapInh") == sets.inheritable);
    CHECK(cap_field(status, "CapAmb") == sets.ambient);
    CHECK(status.find("\nUid:\t1000\t1000\t1000\t1000") != std::string::npos);
}

TEST_CASE("without PR_SET_KEEPCAPS the uid change loses the caps", "[caps][priv]") {
    REQUIRE_ROOT();
    auto sets = sec::resolve_capabilities(small_caps());
    int rc = in_child([&] {
        if (!sec::drop_bounding(sets).ok() || ::setresuid(1000, 1000, 1000) != 0) {
            return fail(1, "drop_bounding/setresuid");
        }
        auto st = sec::apply_capabilities(sets);
        if (st.ok() || st.error().code() != EPERM) {
            return fail(2, "apply did not fail with EPERM");
        }
        return 0;
    });
    CHECK(rc == 0);
}

TEST_CASE("an ambient capability that is not inheritable is skipped, as runc", "[caps][priv]") {
    REQUIRE_ROOT();
    spec::Capabilities caps = small_caps();
    caps.ambient.push_back("CAP_CHOWN");  // permitted but not inheritable
    auto sets = sec::resolve_capabilities(caps);
    int rc = in_child([&] {
        auto st = sec::apply_capabilities(sets);
        if (!st.ok()) {
            return fail(1, st.error().to_string().c_str());
        }
        std::string status = proc_status();
        if ((cap_field(status, "CapAmb") & (1ULL << 0)) != 0) {
            return fail(2, "CAP_CHOWN was raised in the ambient set");
        }
        return 0;
    });
    CHECK(rc == 0);
}

TEST_CASE("drop_bounding skips what is already gone", "[caps][priv]") {
    REQUIRE_ROOT();
    auto sets = sec::resolve_capabilities(small_caps());
    int rc = in_child([&] {
        if (int r = drop_switch_apply(sets, false, false); r != 0) {
            return r;
        }
        // CAP_SETPCAP is not in the effective set any more: dropping again must not need it,
        // and dropping more must fail.
        if (auto st = sec::drop_bounding(sets); !st.ok()) {
            return fail(20, st.error().to_string().c_str());
        }
        sec::CapabilitySets fewer = sets;
        fewer.bounding &= ~(uint64_t{1} << sec::capability_from_name("CAP_AUDIT_WRITE"));
        auto st = sec::drop_bounding(fewer);
        if (st.ok() || st.error().code() != EPERM ||
            st.error().message() != "drop bounding capability CAP_AUDIT_WRITE") {
            return fail(21, "dropping without CAP_SETPCAP did not fail as expected");
        }
        return 0;
    });
    CHECK(rc == 0);
}
