// What the compiled programs decide, without loading them: a small classic-BPF interpreter
// runs the filter on seccomp_data the way the kernel would. The docker-shaped profile is
// tests/fixtures/seccomp/docker-default.json (the OCI form dockerd writes on x86_64).
#include <sys/syscall.h>

#include <linux/filter.h>
#include <linux/seccomp.h>

#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <seccomp.h>

#include "runtime/security/seccomp.hpp"

namespace spec = cove::spec;
using cove::security::compile_seccomp;
using cove::security::SeccompProgram;

namespace {

uint32_t alu(uint16_t code, uint32_t a, uint32_t v) {
    switch (BPF_OP(code)) {
        case BPF_ADD:
            return a + v;
        case BPF_SUB:
            return a - v;
        case BPF_MUL:
            return a * v;
        case BPF_DIV:
            return v == 0 ? 0 : a / v;
        case BPF_MOD:
            return v == 0 ? 0 : a % v;
        case BPF_OR:
            return a | v;
        case BPF_AND:
            return a & v;
        case BPF_XOR:
            return a ^ v;
        case BPF_LSH:
            return a << (v & 31);
        case BPF_RSH:
            return a >> (v & 31);
        case BPF_NEG:
            return -a;
    }
    FAIL("unknown ALU op " << code);
    return 0;
}

bool jump_taken(uint16_t code, uint32_t a, uint32_t v) {
    switch (BPF_OP(code)) {
        case BPF_JEQ:
            return a == v;
        case BPF_JGT:
            return a > v;
        case BPF_JGE:
            return a >= v;
        case BPF_JSET:
            return (a & v) != 0;
    }
    FAIL("unknown JMP op " << code);
    return false;
}

uint32_t load_word(const seccomp_data& d, uint32_t off) {
    REQUIRE(off + 4 <= sizeof d);
    REQUIRE(off % 4 == 0);
    uint32_t w = 0;
    std::memcpy(&w, reinterpret_cast<const char*>(&d) + off, 4);
    return w;
}

// The seccomp return value of `prog` for `d`.
uint32_t run(const std::vector<sock_filter>& prog, const seccomp_data& d) {
    uint32_t a = 0;
    uint32_t x = 0;
    uint32_t mem[BPF_MEMWORDS] = {};
    for (size_t pc = 0; pc < prog.size();) {
        const sock_filter& f = prog[pc++];
        uint32_t src = BPF_SRC(f.code) == BPF_X ? x : f.k;
        switch (BPF_CLASS(f.code)) {
            case BPF_LD:
                a = BPF_MODE(f.code) == BPF_ABS   ? load_word(d, f.k)
                    : BPF_MODE(f.code) == BPF_MEM ? mem[f.k % BPF_MEMWORDS]
                    : BPF_MODE(f.code) == BPF_LEN ? static_cast<uint32_t>(sizeof d)
                                                  : f.k;
                break;
            case BPF_LDX:
                x = BPF_MODE(f.code) == BPF_MEM   ? mem[f.k % BPF_MEMWORDS]
                    : BPF_MODE(f.code) == BPF_LEN ? static_cast<uint32_t>(sizeof d)
                                                  : f.k;
                break;
            case BPF_ST:
                mem[f.k % BPF_MEMWORDS] = a;
                break;
            case BPF_STX:
                mem[f.k % BPF_MEMWORDS] = x;
                break;
            case BPF_ALU:
                a = alu(f.code, a, src);
                break;
            case BPF_JMP:
                pc += BPF_OP(f.code) == BPF_JA ? f.k : (jump_taken(f.code, a, src) ? f.jt : f.jf);
                break;
            case BPF_RET:
                return BPF_RVAL(f.code) == BPF_A ? a : f.k;
            case BPF_MISC:
                if (BPF_MISCOP(f.code) == BPF_TAX) {
                    x = a;
                } else {
                    a = x;
                }
                break;
        }
    }
    FAIL("fell off the end of the program");
    return 0;
}

seccomp_data call(int nr, std::initializer_list<uint64_t> args = {}, uint32_t arch = 0) {
    seccomp_data d{};
    d.nr = nr;
    d.arch = arch == 0 ? seccomp_arch_native() : arch;  // the kernel's AUDIT_ARCH_*
    size_t i = 0;
    for (uint64_t v : args) {
        d.args[i++] = v;
    }
    return d;
}

spec::Seccomp from_json(const nlohmann::json& j) {
    spec::Seccomp s;
    s.default_action = j.value("defaultAction", "");
    if (j.contains("defaultErrnoRet")) {
        s.default_errno_ret = j["defaultErrnoRet"].get<uint32_t>();
    }
    s.architectures = j.value("architectures", std::vector<std::string>{});
    s.flags = j.value("flags", std::vector<std::string>{});
    for (const auto& js : j.value("syscalls", nlohmann::json::array())) {
        spec::SeccompSyscall sc;
        sc.names = js.at("names").get<std::vector<std::string>>();
        sc.action = js.at("action").get<std::string>();
        if (js.contains("errnoRet")) {
            sc.errno_ret = js["errnoRet"].get<uint32_t>();
        }
        for (const auto& ja : js.value("args", nlohmann::json::array())) {
            sc.args.push_back({ja.at("index").get<uint32_t>(), ja.at("value").get<uint64_t>(),
                               ja.value("valueTwo", uint64_t{0}), ja.at("op").get<std::string>()});
        }
        s.syscalls.push_back(std::move(sc));
    }
    return s;
}

SeccompProgram docker_profile() {
    std::ifstream f(COVE_FIXTURES "/seccomp/docker-default.json");
    REQUIRE(f.good());
    auto r = compile_seccomp(from_json(nlohmann::json::parse(f)));
    REQUIRE(r.ok());
    return std::move(r).value();
}

int nr_of(uint32_t arch, const char* name) {
    int nr = seccomp_syscall_resolve_name_arch(arch, name);
    REQUIRE(nr >= 0);
    return nr;
}

}  // namespace

TEST_CASE("docker's profile compiles within the kernel's limit", "[seccomp][bpf]") {
    SeccompProgram p = docker_profile();
    CHECK(p.filter.size() > 100);
    CHECK(p.filter.size() <= 4096);
    CHECK_FALSE(p.notify);
}

TEST_CASE("docker's profile on x86_64", "[seccomp][bpf]") {
    REQUIRE(seccomp_arch_native() == SCMP_ARCH_X86_64);
    const auto prog = docker_profile().filter;
    const uint32_t eperm = SCMP_ACT_ERRNO(1);
    CHECK(run(prog, call(SYS_getpid)) == SCMP_ACT_ALLOW);
    CHECK(run(prog, call(SYS_mkdir)) == SCMP_ACT_ALLOW);
    CHECK(run(prog, call(SYS_read)) == SCMP_ACT_ALLOW);
    CHECK(run(prog, call(SYS_mount)) == eperm);
    CHECK(run(prog, call(SYS_unshare)) == eperm);
    CHECK(run(prog, call(SYS_reboot)) == eperm);
    CHECK(run(prog, call(SYS_clone3)) == SCMP_ACT_ERRNO(ENOSYS));
    CHECK(run(prog, call(SYS_chroot)) == SCMP_ACT_LOG);
    CHECK(run(prog, call(SYS_kexec_load)) == eperm);  // not allowed, older than the profile

    SECTION("a syscall newer than every one the profile names gets ENOSYS (runc's stub)") {
        CHECK(run(prog, call(999)) == SCMP_ACT_ERRNO(ENOSYS));
        CHECK(run(prog, call(999 | 0x40000000)) == eperm);  // x32 calls: the filter decides
        CHECK(run(prog, call(nr_of(SCMP_ARCH_X86, "getpid"), {}, SCMP_ARCH_X86)) == SCMP_ACT_ALLOW);
        CHECK(run(prog, call(999, {}, SCMP_ARCH_X86)) == SCMP_ACT_ERRNO(ENOSYS));
    }

    SECTION("personality: one EQ rule per value, compared on 64 bits") {
        CHECK(run(prog, call(SYS_personality, {8})) == SCMP_ACT_ALLOW);
        CHECK(run(prog, call(SYS_personality, {0xffffffff})) == SCMP_ACT_ALLOW);
        CHECK(run(prog, call(SYS_personality, {7})) == eperm);
        CHECK(run(prog, call(SYS_personality, {0x100000008})) == eperm);
    }
    SECTION("socket: NE") {
        CHECK(run(prog, call(SYS_socket, {2})) == SCMP_ACT_ALLOW);
        CHECK(run(prog, call(SYS_socket, {40})) == eperm);  // AF_VSOCK
    }
    SECTION("clone: MASKED_EQ on the namespace flags") {
        CHECK(run(prog, call(SYS_clone, {17})) == SCMP_ACT_ALLOW);      // SIGCHLD
        CHECK(run(prog, call(SYS_clone, {0x10000000 | 17})) == eperm);  // CLONE_NEWUSER
        CHECK(run(prog, call(SYS_clone, {0x20000000 | 17})) == eperm);  // CLONE_NEWNS
    }
    SECTION("ptrace: two args on index 0 are ORed (separate rules), as runc") {
        CHECK(run(prog, call(SYS_ptrace, {0})) == SCMP_ACT_ALLOW);    // < 16
        CHECK(run(prog, call(SYS_ptrace, {100})) == SCMP_ACT_ALLOW);  // > 2
    }
}

TEST_CASE("docker's profile on the extra architectures", "[seccomp][bpf]") {
    const auto prog = docker_profile().filter;
    const uint32_t eperm = SCMP_ACT_ERRNO(1);
    SECTION("i386") {
        CHECK(run(prog, call(nr_of(SCMP_ARCH_X86, "getpid"), {}, SCMP_ARCH_X86)) == SCMP_ACT_ALLOW);
        CHECK(run(prog, call(nr_of(SCMP_ARCH_X86, "socketcall"), {}, SCMP_ARCH_X86)) ==
              SCMP_ACT_ALLOW);
        CHECK(run(prog, call(nr_of(SCMP_ARCH_X86, "mount"), {}, SCMP_ARCH_X86)) == eperm);
    }
    SECTION("x32 (x86_64 audit arch, __X32_SYSCALL_BIT)") {
        int getpid = nr_of(SCMP_ARCH_X32, "getpid");
        CHECK((getpid & 0x40000000) != 0);
        CHECK(run(prog, call(getpid, {}, SCMP_ARCH_X86_64)) == SCMP_ACT_ALLOW);
        CHECK(run(prog, call(nr_of(SCMP_ARCH_X32, "mount"), {}, SCMP_ARCH_X86_64)) == eperm);
    }
    SECTION("an architecture not in the list is killed") {
        CHECK(run(prog, call(172, {}, SCMP_ARCH_AARCH64)) == SCMP_ACT_KILL);
    }
}

TEST_CASE("no ENOSYS stub when the default allows or is ENOSYS", "[seccomp][bpf]") {
    spec::Seccomp s;
    s.syscalls.push_back({{"getpid"}, "SCMP_ACT_ERRNO", {}, {}});
    s.default_action = "SCMP_ACT_ALLOW";
    CHECK(run(compile_seccomp(s).value().filter, call(999)) == SCMP_ACT_ALLOW);
    s.default_action = "SCMP_ACT_LOG";
    CHECK(run(compile_seccomp(s).value().filter, call(999)) == SCMP_ACT_LOG);
    s.syscalls[0].action = "SCMP_ACT_ALLOW";
    s.default_action = "SCMP_ACT_ERRNO";
    s.default_errno_ret = ENOSYS;
    CHECK(run(compile_seccomp(s).value().filter, call(999)) == SCMP_ACT_ERRNO(ENOSYS));
    s.default_errno_ret = std::nullopt;
    CHECK(run(compile_seccomp(s).value().filter, call(SYS_getpid)) == SCMP_ACT_ALLOW);
    CHECK(run(compile_seccomp(s).value().filter, call(SYS_read)) == SCMP_ACT_ERRNO(1));
    CHECK(run(compile_seccomp(s).value().filter, call(SYS_read + 1000)) == SCMP_ACT_ERRNO(ENOSYS));
}

TEST_CASE("actions, errnoRet and operators reach the program", "[seccomp][bpf]") {
    spec::Seccomp s;
    s.default_action = "SCMP_ACT_ERRNO";
    s.default_errno_ret = 38;
    spec::SeccompSyscall w{{"write"}, "SCMP_ACT_ALLOW", std::nullopt, {}};
    w.args = {{0, 1, 0, "SCMP_CMP_EQ"}, {2, 10, 0, "SCMP_CMP_LE"}};  // AND
    spec::SeccompSyscall m{{"mmap"}, "SCMP_ACT_ALLOW", std::nullopt, {}};
    m.args = {{2, 0x4, 0x4, "SCMP_CMP_MASKED_EQ"}};  // PROT_EXEC set
    s.syscalls = {
        w,
        m,
        {{"getpid"}, "SCMP_ACT_TRACE", 7, {}},
        {{"getppid"}, "SCMP_ACT_TRACE", std::nullopt, {}},
        {{"gettid"}, "SCMP_ACT_TRAP", std::nullopt, {}},
        {{"kill"}, "SCMP_ACT_KILL_PROCESS", std::nullopt, {}},
        {{"tkill"}, "SCMP_ACT_KILL_THREAD", std::nullopt, {}},
        {{"read"}, "SCMP_ACT_ERRNO", std::nullopt, {}},
        {{"getuid"}, "SCMP_ACT_ALLOW", 5, {}},  // errnoRet ignored, as runc
        {{"lseek"}, "SCMP_ACT_ALLOW", std::nullopt, {{1, 100, 0, "SCMP_CMP_GE"}}},
        {{"dup"}, "SCMP_ACT_ALLOW", std::nullopt, {{0, 3, 0, "SCMP_CMP_GT"}}},
        {{"dup2"}, "SCMP_ACT_ALLOW", std::nullopt, {{0, 3, 0, "SCMP_CMP_LT"}}},
    };
    auto r = compile_seccomp(s);
    REQUIRE(r.ok());
    const auto& prog = r->filter;
    const uint32_t enosys = SCMP_ACT_ERRNO(38);
    CHECK(run(prog, call(SYS_write, {1, 0, 5})) == SCMP_ACT_ALLOW);
    CHECK(run(prog, call(SYS_write, {1, 0, 11})) == enosys);
    CHECK(run(prog, call(SYS_write, {2, 0, 5})) == enosys);
    CHECK(run(prog, call(SYS_mmap, {0, 4096, 0x5})) == SCMP_ACT_ALLOW);
    CHECK(run(prog, call(SYS_mmap, {0, 4096, 0x3})) == enosys);
    CHECK(run(prog, call(SYS_getpid)) == SCMP_ACT_TRACE(7));
    CHECK(run(prog, call(SYS_getppid)) == SCMP_ACT_TRACE(EPERM));
    CHECK(run(prog, call(SYS_gettid)) == SCMP_ACT_TRAP);
    CHECK(run(prog, call(SYS_kill)) == SCMP_ACT_KILL_PROCESS);
    CHECK(run(prog, call(SYS_tkill)) == SCMP_ACT_KILL_THREAD);
    CHECK(run(prog, call(SYS_read)) == SCMP_ACT_ERRNO(EPERM));
    CHECK(run(prog, call(SYS_getuid)) == SCMP_ACT_ALLOW);
    CHECK(run(prog, call(SYS_lseek, {0, 100})) == SCMP_ACT_ALLOW);
    CHECK(run(prog, call(SYS_lseek, {0, 99})) == enosys);
    CHECK(run(prog, call(SYS_dup, {4})) == SCMP_ACT_ALLOW);
    CHECK(run(prog, call(SYS_dup, {3})) == enosys);
    CHECK(run(prog, call(SYS_dup2, {2})) == SCMP_ACT_ALLOW);
    CHECK(run(prog, call(SYS_dup2, {3})) == enosys);
}

TEST_CASE("notify and log actions reach the program", "[seccomp][bpf]") {
    spec::Seccomp s;
    s.default_action = "SCMP_ACT_ALLOW";
    s.syscalls = {{{"mkdir", "mkdirat"}, "SCMP_ACT_NOTIFY", std::nullopt, {}},
                  {{"rmdir"}, "SCMP_ACT_LOG", std::nullopt, {}}};
    auto r = compile_seccomp(s);
    REQUIRE(r.ok());
    CHECK(r->notify);
    CHECK(run(r->filter, call(SYS_mkdir)) == SCMP_ACT_NOTIFY);
    CHECK(run(r->filter, call(SYS_mkdirat)) == SCMP_ACT_NOTIFY);
    CHECK(run(r->filter, call(SYS_rmdir)) == SCMP_ACT_LOG);
    CHECK(run(r->filter, call(SYS_getpid)) == SCMP_ACT_ALLOW);
}
