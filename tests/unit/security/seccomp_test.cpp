// Name lookups, `features` lists and compile errors of runtime/security/seccomp.
#include "runtime/security/seccomp.hpp"

#include <sys/prctl.h>

#include <linux/seccomp.h>

#include <algorithm>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <seccomp.h>

using cove::security::compile_seccomp;
using cove::security::SeccompProgram;
namespace sec = cove::security;
namespace spec = cove::spec;

namespace {

spec::SeccompSyscall rule(std::vector<std::string> names, std::string action) {
    spec::SeccompSyscall s;
    s.names = std::move(names);
    s.action = std::move(action);
    return s;
}

spec::Seccomp allow_all_but_mkdir() {
    spec::Seccomp s;
    s.default_action = "SCMP_ACT_ALLOW";
    s.syscalls = {rule({"getpid"}, "SCMP_ACT_ALLOW"), rule({"read"}, "SCMP_ACT_ALLOW"),
                  rule({"mkdir", "mkdirat"}, "SCMP_ACT_ERRNO")};
    return s;
}

std::string compile_error(const spec::Seccomp& s) {
    auto r = compile_seccomp(s);
    REQUIRE_FALSE(r.ok());
    return r.error().to_string();
}

bool same_program(const SeccompProgram& a, const SeccompProgram& b) {
    return a.filter.size() == b.filter.size() &&
           std::equal(a.filter.begin(), a.filter.end(), b.filter.begin(),
                      [](const sock_filter& x, const sock_filter& y) {
                          return x.code == y.code && x.jt == y.jt && x.jf == y.jf && x.k == y.k;
                      });
}

}  // namespace

TEST_CASE("seccomp actions resolve to libseccomp values", "[seccomp]") {
    CHECK(sec::seccomp_action("SCMP_ACT_ALLOW") == SCMP_ACT_ALLOW);
    CHECK(sec::seccomp_action("SCMP_ACT_KILL") == SCMP_ACT_KILL_THREAD);
    CHECK(sec::seccomp_action("SCMP_ACT_KILL_THREAD") == SCMP_ACT_KILL_THREAD);
    CHECK(sec::seccomp_action("SCMP_ACT_KILL_PROCESS") == SCMP_ACT_KILL_PROCESS);
    CHECK(sec::seccomp_action("SCMP_ACT_TRAP") == SCMP_ACT_TRAP);
    CHECK(sec::seccomp_action("SCMP_ACT_LOG") == SCMP_ACT_LOG);
    CHECK(sec::seccomp_action("SCMP_ACT_NOTIFY") == SCMP_ACT_NOTIFY);
    CHECK(sec::seccomp_action("SCMP_ACT_ERRNO") == SCMP_ACT_ERRNO(EPERM));
    CHECK(sec::seccomp_action("SCMP_ACT_ERRNO", 38) == SCMP_ACT_ERRNO(38));
    CHECK(sec::seccomp_action("SCMP_ACT_TRACE") == SCMP_ACT_TRACE(EPERM));
    CHECK(sec::seccomp_action("SCMP_ACT_TRACE", 5) == SCMP_ACT_TRACE(5));
    // errnoRet means nothing to the other actions (runc ignores it).
    CHECK(sec::seccomp_action("SCMP_ACT_ALLOW", 5) == SCMP_ACT_ALLOW);
    CHECK_FALSE(sec::seccomp_action("SCMP_ACT_FOO"));
    CHECK_FALSE(sec::seccomp_action("scmp_act_allow"));
    CHECK_FALSE(sec::seccomp_action("ALLOW"));
    CHECK_FALSE(sec::seccomp_action(""));
}

TEST_CASE("seccomp operators resolve to scmp_compare", "[seccomp]") {
    CHECK(sec::seccomp_operator("SCMP_CMP_NE") == SCMP_CMP_NE);
    CHECK(sec::seccomp_operator("SCMP_CMP_LT") == SCMP_CMP_LT);
    CHECK(sec::seccomp_operator("SCMP_CMP_LE") == SCMP_CMP_LE);
    CHECK(sec::seccomp_operator("SCMP_CMP_EQ") == SCMP_CMP_EQ);
    CHECK(sec::seccomp_operator("SCMP_CMP_GE") == SCMP_CMP_GE);
    CHECK(sec::seccomp_operator("SCMP_CMP_GT") == SCMP_CMP_GT);
    CHECK(sec::seccomp_operator("SCMP_CMP_MASKED_EQ") == SCMP_CMP_MASKED_EQ);
    CHECK_FALSE(sec::seccomp_operator("EQ"));
    CHECK_FALSE(sec::seccomp_operator("SCMP_CMP_eq"));
}

TEST_CASE("seccomp architectures resolve to audit arch tokens", "[seccomp]") {
    CHECK(sec::seccomp_arch("SCMP_ARCH_X86_64") == SCMP_ARCH_X86_64);
    CHECK(sec::seccomp_arch("SCMP_ARCH_X86") == SCMP_ARCH_X86);
    CHECK(sec::seccomp_arch("SCMP_ARCH_X32") == SCMP_ARCH_X32);
    CHECK(sec::seccomp_arch("SCMP_ARCH_AARCH64") == SCMP_ARCH_AARCH64);
    CHECK(sec::seccomp_arch("SCMP_ARCH_ARM") == SCMP_ARCH_ARM);
    CHECK(sec::seccomp_arch("SCMP_ARCH_MIPSEL64N32") == SCMP_ARCH_MIPSEL64N32);
    CHECK(sec::seccomp_arch("SCMP_ARCH_PPC64LE") == SCMP_ARCH_PPC64LE);
    CHECK(sec::seccomp_arch("SCMP_ARCH_S390X") == SCMP_ARCH_S390X);
    CHECK(sec::seccomp_arch("SCMP_ARCH_RISCV64") == SCMP_ARCH_RISCV64);
    CHECK_FALSE(sec::seccomp_arch("x86_64"));
    CHECK_FALSE(sec::seccomp_arch("SCMP_ARCH_x86_64"));
    CHECK_FALSE(sec::seccomp_arch("SCMP_ARCH_FOO"));
}

TEST_CASE("seccomp flags resolve to SECCOMP_FILTER_FLAG values", "[seccomp]") {
    CHECK(sec::seccomp_flag("SECCOMP_FILTER_FLAG_TSYNC") == SECCOMP_FILTER_FLAG_TSYNC);
    CHECK(sec::seccomp_flag("SECCOMP_FILTER_FLAG_LOG") == SECCOMP_FILTER_FLAG_LOG);
    CHECK(sec::seccomp_flag("SECCOMP_FILTER_FLAG_SPEC_ALLOW") == SECCOMP_FILTER_FLAG_SPEC_ALLOW);
    CHECK(sec::seccomp_flag("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") ==
          SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV);
    // Set by the runtime itself, never by the profile.
    CHECK_FALSE(sec::seccomp_flag("SECCOMP_FILTER_FLAG_NEW_LISTENER"));
    CHECK_FALSE(sec::seccomp_flag("SECCOMP_FILTER_FLAG_FOO"));
}

TEST_CASE("the kernel is probed for flags without loading anything", "[seccomp]") {
    CHECK(sec::seccomp_flag_supported(SECCOMP_FILTER_FLAG_TSYNC));  // 3.17
    CHECK_FALSE(sec::seccomp_flag_supported(1U << 30));
    // Still unconfined: a probe must never install a filter.
    CHECK(prctl(PR_GET_SECCOMP, 0, 0, 0, 0) == 0);
}

TEST_CASE("features lists", "[seccomp]") {
    auto actions = sec::seccomp_actions();
    CHECK(actions == std::vector<std::string>{"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL",
                                              "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
                                              "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY", "SCMP_ACT_TRACE",
                                              "SCMP_ACT_TRAP"});
    CHECK(sec::seccomp_operators() ==
          std::vector<std::string>{"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE",
                                   "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"});
    auto archs = sec::seccomp_archs();
    CHECK(std::is_sorted(archs.begin(), archs.end()));
    for (const char* a : {"SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64",
                          "SCMP_ARCH_ARM", "SCMP_ARCH_S390X"}) {
        CHECK(std::find(archs.begin(), archs.end(), a) != archs.end());
    }
    for (const auto& a : archs) {
        CHECK(sec::seccomp_arch(a));
    }
    CHECK(sec::seccomp_flags() ==
          std::vector<std::string>{"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
                                   "SECCOMP_FILTER_FLAG_LOG",
                                   "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"});
    auto known = sec::seccomp_flags();
    for (const auto& f : sec::seccomp_supported_flags()) {
        CHECK(std::find(known.begin(), known.end(), f) != known.end());
    }
}

TEST_CASE("no defaultAction and no syscalls disables seccomp", "[seccomp]") {
    auto r = compile_seccomp(spec::Seccomp{});
    REQUIRE(r.ok());
    CHECK(r->empty());
    auto fd = sec::load_seccomp(*r);  // a no-op: safe to call unprivileged
    REQUIRE(fd.ok());
    CHECK_FALSE(fd->valid());
}

TEST_CASE("compile a small profile", "[seccomp]") {
    auto r = compile_seccomp(allow_all_but_mkdir());
    REQUIRE(r.ok());
    CHECK_FALSE(r->empty());
    CHECK_FALSE(r->notify);
    CHECK(r->filter.size() < 4096);
}

TEST_CASE("compile errors name the field", "[seccomp]") {
    spec::Seccomp s = allow_all_but_mkdir();
    SECTION("defaultAction") {
        s.default_action = "SCMP_ACT_FOO";
        CHECK(compile_error(s) == R"(linux.seccomp.defaultAction: unknown action "SCMP_ACT_FOO")");
    }
    SECTION("missing defaultAction with syscalls") {
        s.default_action.clear();
        CHECK(compile_error(s) == R"(linux.seccomp.defaultAction: unknown action "")");
    }
    SECTION("syscall action") {
        s.syscalls[2].action = "SCMP_ACT_FOO";
        CHECK(compile_error(s) ==
              R"(linux.seccomp.syscalls[2].action: unknown action "SCMP_ACT_FOO")");
    }
    SECTION("operator") {
        s.syscalls[2].args = {{0, 1, 0, "SCMP_CMP_EQ"}, {1, 1, 0, "X"}};
        CHECK(compile_error(s) == R"(linux.seccomp.syscalls[2].args[1].op: unknown operator "X")");
    }
    SECTION("arg index") {
        s.syscalls[1].args = {{6, 1, 0, "SCMP_CMP_EQ"}};
        CHECK(compile_error(s) ==
              "linux.seccomp.syscalls[1].args[0].index: 6 is out of range (0-5)");
    }
    SECTION("architecture") {
        s.architectures = {"X"};
        CHECK(compile_error(s) == R"(linux.seccomp.architectures[0]: unknown architecture "X")");
        s.architectures = {"SCMP_ARCH_X86", "x86_64"};
        CHECK(compile_error(s) ==
              R"(linux.seccomp.architectures[1]: unknown architecture "x86_64")");
    }
    SECTION("flag") {
        s.flags = {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_NEW_LISTENER"};
        CHECK(compile_error(s) ==
              R"(linux.seccomp.flags[1]: unknown flag "SECCOMP_FILTER_FLAG_NEW_LISTENER")");
    }
    SECTION("empty syscall name") {
        s.syscalls[0].names = {"getpid", ""};
        CHECK(compile_error(s) == "linux.seccomp.syscalls[0].names[1]: empty syscall name");
    }
    SECTION("notify as the default action") {
        s.default_action = "SCMP_ACT_NOTIFY";
        CHECK(compile_error(s) ==
              "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be used as default action");
    }
    SECTION("notify on write") {
        s.syscalls.push_back(rule({"read", "write"}, "SCMP_ACT_NOTIFY"));
        CHECK(compile_error(s) ==
              "linux.seccomp.syscalls[3]: SCMP_ACT_NOTIFY cannot be used for the write syscall");
    }
    SECTION("a bad operator is an error even in a rule that is skipped") {
        s.syscalls.push_back(rule({"getpid"}, "SCMP_ACT_ALLOW"));
        s.syscalls.back().args = {{0, 1, 0, "SCMP_CMP_BAD"}};
        CHECK(compile_error(s) ==
              R"(linux.seccomp.syscalls[3].args[0].op: unknown operator "SCMP_CMP_BAD")");
    }
}

TEST_CASE("flags", "[seccomp]") {
    spec::Seccomp s = allow_all_but_mkdir();
    SECTION("absent flags default to SPEC_ALLOW when the kernel has it, as runc") {
        auto r = compile_seccomp(s);
        REQUIRE(r.ok());
        unsigned int want = sec::seccomp_flag_supported(SECCOMP_FILTER_FLAG_SPEC_ALLOW)
                                ? SECCOMP_FILTER_FLAG_SPEC_ALLOW
                                : 0;
        CHECK(r->flags == want);
    }
    SECTION("explicit flags replace the default") {
        s.flags = {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_TSYNC"};
        auto r = compile_seccomp(s);
        REQUIRE(r.ok());
        CHECK(r->flags == (SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_TSYNC));
    }
    SECTION("every supported flag compiles") {
        s.flags = sec::seccomp_supported_flags();
        auto r = compile_seccomp(s);
        REQUIRE(r.ok());
        unsigned int want = 0;
        for (const auto& f : s.flags) {
            want |= *sec::seccomp_flag(f);
        }
        CHECK(r->flags == want);
    }
}

TEST_CASE("notify rules mark the program", "[seccomp]") {
    spec::Seccomp s = allow_all_but_mkdir();
    s.syscalls.push_back(rule({"mknod", "mknodat"}, "SCMP_ACT_NOTIFY"));
    auto r = compile_seccomp(s);
    REQUIRE(r.ok());
    CHECK(r->notify);
}

TEST_CASE("syscall names unknown to libseccomp are skipped", "[seccomp]") {
    spec::Seccomp base = allow_all_but_mkdir();
    spec::Seccomp more = base;
    more.syscalls[2].names.push_back("no_such_syscall");
    more.syscalls.push_back(rule({"another_made_up_one"}, "SCMP_ACT_KILL"));
    auto a = compile_seccomp(base);
    auto b = compile_seccomp(more);
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    CHECK(same_program(*a, *b));
}

TEST_CASE("rules with the default action are skipped", "[seccomp]") {
    spec::Seccomp base;
    base.default_action = "SCMP_ACT_ERRNO";
    base.default_errno_ret = 1;
    // clone3: the ENOSYS stub depends on the largest syscall named, keep it the same.
    base.syscalls = {rule({"getpid", "read", "clone3"}, "SCMP_ACT_ALLOW")};
    spec::Seccomp more = base;
    more.syscalls.push_back(rule({"mkdir"}, "SCMP_ACT_ERRNO"));  // EPERM == 1: the default
    more.syscalls.back().errno_ret = 1;
    more.syscalls.push_back(rule({"rmdir"}, "SCMP_ACT_ERRNO"));  // EPERM by default, too
    spec::Seccomp other = base;
    other.syscalls.push_back(rule({"mkdir"}, "SCMP_ACT_ERRNO"));  // ENOENT: a real rule
    other.syscalls.back().errno_ret = 2;
    auto a = compile_seccomp(base);
    auto b = compile_seccomp(more);
    auto c = compile_seccomp(other);
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    REQUIRE(c.ok());
    CHECK(same_program(*a, *b));
    CHECK_FALSE(same_program(*a, *c));
}

TEST_CASE("arguments on the same index compile as separate rules", "[seccomp]") {
    spec::Seccomp s;
    s.default_action = "SCMP_ACT_ERRNO";
    s.syscalls = {rule({"personality"}, "SCMP_ACT_ALLOW")};
    s.syscalls[0].args = {{0, 0, 0, "SCMP_CMP_EQ"}, {0, 8, 0, "SCMP_CMP_EQ"}};
    auto r = compile_seccomp(s);
    REQUIRE(r.ok());
    s.syscalls[0].args = {{0, 0, 0, "SCMP_CMP_EQ"}, {1, 8, 0, "SCMP_CMP_EQ"}};
    auto r2 = compile_seccomp(s);
    REQUIRE(r2.ok());
    CHECK_FALSE(same_program(*r, *r2));
}

TEST_CASE("extra architectures grow the program", "[seccomp]") {
    spec::Seccomp s = allow_all_but_mkdir();
    auto native = compile_seccomp(s);
    s.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
    auto multi = compile_seccomp(s);
    REQUIRE(native.ok());
    REQUIRE(multi.ok());
    CHECK(multi->filter.size() > native->filter.size());
}
