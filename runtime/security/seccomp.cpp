#include "runtime/security/seccomp.hpp"

#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/seccomp.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <memory>
#include <type_traits>
#include <utility>

#include <seccomp.h>

#include "runtime/base/log.hpp"
#include "runtime/security/seccomp_enosys.hpp"

namespace cove::security {
namespace {

constexpr std::string_view kArchPrefix = "SCMP_ARCH_";
constexpr uint32_t kDefaultErrno = EPERM;
constexpr int kMaxArgs = 6;            // a syscall has at most six arguments
constexpr size_t kMaxInsns = 4096;     // BPF_MAXINSNS: the kernel refuses longer filters
constexpr size_t kOptimizeAbove = 32;  // runc: binary tree only for longer rule sets

struct NamedAction {
    std::string_view name;
    uint32_t value;  // for ERRNO and TRACE the errno part is filled in later
};
constexpr std::array<NamedAction, 9> kActions = {{
    {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW},
    {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0)},
    {"SCMP_ACT_KILL", SCMP_ACT_KILL},
    {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS},
    {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD},
    {"SCMP_ACT_LOG", SCMP_ACT_LOG},
    {"SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY},
    {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0)},
    {"SCMP_ACT_TRAP", SCMP_ACT_TRAP},
}};

constexpr std::array<std::pair<std::string_view, scmp_compare>, 7> kOperators = {{
    {"SCMP_CMP_EQ", SCMP_CMP_EQ},
    {"SCMP_CMP_GE", SCMP_CMP_GE},
    {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_LT", SCMP_CMP_LT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
    {"SCMP_CMP_NE", SCMP_CMP_NE},
}};

// The runtime-spec's list; libseccomp resolves the lower-cased suffix ("x86_64"). Those it
// does not support (LOONGARCH64 before 2.6) are errors and are left out of `features`.
constexpr std::array<std::string_view, 20> kArchs = {
    "SCMP_ARCH_AARCH64",     "SCMP_ARCH_ARM",       "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_MIPS",
    "SCMP_ARCH_MIPS64",      "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL",      "SCMP_ARCH_MIPSEL64",
    "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PARISC",    "SCMP_ARCH_PARISC64",    "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64",       "SCMP_ARCH_PPC64LE",   "SCMP_ARCH_RISCV64",     "SCMP_ARCH_S390",
    "SCMP_ARCH_S390X",       "SCMP_ARCH_X32",       "SCMP_ARCH_X86",         "SCMP_ARCH_X86_64",
};

// runc's order (KnownFlags), then the one runc lacks.
constexpr std::array<std::pair<std::string_view, unsigned int>, 4> kFlags = {{
    {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
    {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
}};

struct CtxRelease {
    void operator()(void* ctx) const { seccomp_release(ctx); }
};
using ScmpCtx = std::unique_ptr<void, CtxRelease>;

std::string in_quotes(std::string_view s) {
    std::string q = "\"";
    q += s;
    q += '"';
    return q;
}

std::string syscall_field(size_t i) {
    return "linux.seccomp.syscalls[" + std::to_string(i) + "]";
}

// The explicit flags, or nullptr when the profile has none: spec::Seccomp::flags may be a
// vector (absent and [] look the same: treated as absent) or an optional vector.
template <typename T>
const std::vector<std::string>* explicit_flags(const T& flags) {
    if constexpr (std::is_same_v<T, std::vector<std::string>>) {
        return flags.empty() ? nullptr : &flags;
    } else {
        return flags ? &*flags : nullptr;
    }
}

Result<unsigned int> resolve_flags(const spec::Seccomp& s) {
    const std::vector<std::string>* flags = explicit_flags(s.flags);
    if (flags == nullptr) {
        // runc and crun default to SPEC_ALLOW: the SSB mitigation costs a lot and seccomp is
        // not a reason to turn it on.
        return seccomp_flag_supported(SECCOMP_FILTER_FLAG_SPEC_ALLOW)
                   ? static_cast<unsigned int>(SECCOMP_FILTER_FLAG_SPEC_ALLOW)
                   : 0U;
    }
    unsigned int out = 0;
    for (size_t i = 0; i < flags->size(); ++i) {
        const std::string& name = (*flags)[i];
        std::string field = "linux.seccomp.flags[" + std::to_string(i) + "]";
        auto flag = seccomp_flag(name);
        if (!flag) {
            return make_error(field + ": unknown flag " + in_quotes(name));
        }
        if (!seccomp_flag_supported(*flag)) {
            field += ": " + name;
            field += " is not supported by the kernel";
            return make_error(std::move(field));
        }
        out |= *flag;
    }
    return out;
}

Status add_archs(void* ctx, const spec::Seccomp& s) {
    for (size_t i = 0; i < s.architectures.size(); ++i) {
        const std::string& name = s.architectures[i];
        std::string field = "linux.seccomp.architectures[" + std::to_string(i) + "]";
        auto arch = seccomp_arch(name);
        if (!arch) {
            bool known = std::find(kArchs.begin(), kArchs.end(), name) != kArchs.end();
            return make_error(
                field + ": " +
                (known ? "architecture " + in_quotes(name) + " is not supported by this libseccomp"
                       : "unknown architecture " + in_quotes(name)));
        }
        int rc = seccomp_arch_add(ctx, *arch);
        if (rc < 0 && rc != -EEXIST) {
            field += ": add architecture ";
            field += name;
            return errno_error(-rc, std::move(field));
        }
    }
    return ok_status();
}

// The conditions of one rule entry, validated (operator, index).
Result<std::vector<scmp_arg_cmp>> conditions(const spec::SeccompSyscall& sc, size_t i) {
    std::vector<scmp_arg_cmp> out;
    for (size_t j = 0; j < sc.args.size(); ++j) {
        const spec::SeccompArg& a = sc.args[j];
        std::string field = syscall_field(i) + ".args[" + std::to_string(j) + "]";
        auto op = seccomp_operator(a.op);
        if (!op) {
            return make_error(field + ".op: unknown operator " + in_quotes(a.op));
        }
        if (a.index >= kMaxArgs) {
            return make_error(field + ".index: " + std::to_string(a.index) +
                              " is out of range (0-5)");
        }
        out.push_back(scmp_arg_cmp{a.index, static_cast<scmp_compare>(*op), a.value, a.value_two});
    }
    return out;
}

// Several comparisons of one argument cannot be ANDed in one libseccomp rule: like runc, add
// one rule per comparison then (which ORs them).
bool repeats_an_index(const std::vector<scmp_arg_cmp>& conds) {
    std::array<int, kMaxArgs> count{};
    for (const auto& c : conds) {
        if (++count[c.arg] > 1) {
            return true;
        }
    }
    return false;
}

Status add_rules(void* ctx,
                 const std::string& name,
                 uint32_t action,
                 const std::vector<scmp_arg_cmp>& conds) {
    int nr = seccomp_syscall_resolve_name(name.c_str());
    if (nr == __NR_SCMP_ERROR) {
        log::debug("unknown seccomp syscall " + in_quotes(name) + " ignored");
        return ok_status();
    }
    int rc = 0;
    if (repeats_an_index(conds)) {
        for (size_t k = 0; k < conds.size() && rc == 0; ++k) {
            rc = seccomp_rule_add_array(ctx, action, nr, 1, &conds[k]);
        }
    } else {
        rc = seccomp_rule_add_array(ctx, action, nr, static_cast<unsigned int>(conds.size()),
                                    conds.empty() ? nullptr : conds.data());
    }
    if (rc < 0) {
        return errno_error(-rc, "add rule for syscall " + name);
    }
    return ok_status();
}

Status add_syscall(
    void* ctx, const spec::SeccompSyscall& sc, size_t i, uint32_t default_action, bool& notify) {
    auto action = seccomp_action(sc.action, sc.errno_ret);
    if (!action) {
        return make_error(syscall_field(i) + ".action: unknown action " + in_quotes(sc.action));
    }
    COVE_ASSIGN(auto conds, conditions(sc, i), "");
    for (size_t n = 0; n < sc.names.size(); ++n) {
        if (sc.names[n].empty()) {
            return make_error(syscall_field(i) + ".names[" + std::to_string(n) +
                              "]: empty syscall name");
        }
        // runc writes the listener fd number to its parent after loading the filter; a
        // notifying write would never get there. Our sync socket has the same problem.
        if (*action == SCMP_ACT_NOTIFY && sc.names[n] == "write") {
            return make_error(syscall_field(i) +
                              ": SCMP_ACT_NOTIFY cannot be used for the write syscall");
        }
    }
    if (*action == default_action) {
        return ok_status();  // redundant, and libseccomp refuses it
    }
    notify = notify || *action == SCMP_ACT_NOTIFY;
    for (const auto& name : sc.names) {
        COVE_TRY(add_rules(ctx, name, *action, conds), syscall_field(i));
    }
    return ok_status();
}

// seccomp_export_bpf() writes to an fd (2.5.4 has no seccomp_export_bpf_mem): a memfd.
Result<std::vector<sock_filter>> export_bpf(void* ctx) {
    UniqueFd fd(::memfd_create("cove-seccomp-bpf", MFD_CLOEXEC));
    if (!fd) {
        return sys_error("memfd_create");
    }
    int rc = seccomp_export_bpf(ctx, fd.get());
    if (rc < 0) {
        return errno_error(-rc, "seccomp_export_bpf");
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        return sys_error("fstat the exported filter");
    }
    auto size = static_cast<size_t>(st.st_size);
    if (size == 0 || size % sizeof(sock_filter) != 0) {
        return make_error("seccomp_export_bpf: bad program size " + std::to_string(size));
    }
    std::vector<sock_filter> prog(size / sizeof(sock_filter));
    auto* buf = reinterpret_cast<char*>(prog.data());
    size_t off = 0;
    while (off < size) {
        ssize_t n = ::pread(fd.get(), buf + off, size - off, static_cast<off_t>(off));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return n < 0 ? sys_error("read the exported filter")
                         : make_error("read the exported filter: short read");
        }
        off += static_cast<size_t>(n);
    }
    return prog;
}

Result<ScmpCtx> new_filter(const spec::Seccomp& s, uint32_t default_action) {
    ScmpCtx ctx(seccomp_init(default_action));
    if (!ctx) {
        return make_error("linux.seccomp.defaultAction: seccomp_init refused " +
                          in_quotes(s.default_action));
    }
    // We set no_new_privs ourselves (process.noNewPrivileges); the attribute only matters for
    // seccomp_load, but keep libseccomp's view honest.
    int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0);
    if (rc < 0) {
        return errno_error(-rc, "seccomp_attr_set(SCMP_FLTATR_CTL_NNP)");
    }
    if (s.syscalls.size() > kOptimizeAbove &&
        seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2) < 0) {
        log::debug("seccomp binary tree optimization not available");
    }
    return ctx;
}

}  // namespace

Result<SeccompProgram> compile_seccomp(const spec::Seccomp& s) {
    SeccompProgram prog;
    if (s.default_action.empty() && s.syscalls.empty()) {
        return prog;  // runc: seccomp disabled
    }
    auto default_action = seccomp_action(s.default_action, s.default_errno_ret);
    if (!default_action) {
        return make_error("linux.seccomp.defaultAction: unknown action " +
                          in_quotes(s.default_action));
    }
    if (*default_action == SCMP_ACT_NOTIFY) {
        return make_error(
            "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be used as default action");
    }
    COVE_ASSIGN(prog.flags, resolve_flags(s), "");
    COVE_ASSIGN(ScmpCtx ctx, new_filter(s, *default_action), "");
    COVE_TRY(add_archs(ctx.get(), s), "");
    for (size_t i = 0; i < s.syscalls.size(); ++i) {
        COVE_TRY(add_syscall(ctx.get(), s.syscalls[i], i, *default_action, prog.notify), "");
    }
    COVE_ASSIGN(prog.filter, export_bpf(ctx.get()), "linux.seccomp");
    std::vector<sock_filter> stub = enosys_stub(s, *default_action);
    prog.filter.insert(prog.filter.begin(), stub.begin(), stub.end());
    if (prog.filter.size() > kMaxInsns) {
        return make_error("linux.seccomp: the filter has " + std::to_string(prog.filter.size()) +
                          " instructions, the kernel takes at most " + std::to_string(kMaxInsns));
    }
    return prog;
}

Result<UniqueFd> load_seccomp(const SeccompProgram& prog) noexcept {
    if (prog.filter.empty()) {
        return UniqueFd();
    }
    struct sock_fprog fprog {};
    fprog.len = static_cast<unsigned short>(prog.filter.size());
    fprog.filter = const_cast<struct sock_filter*>(prog.filter.data());
    unsigned int flags = prog.flags;
    if (prog.notify) {
        flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
        // TSYNC with a listener needs TSYNC_ESRCH (5.7), or the kernel says EINVAL.
        if ((flags & SECCOMP_FILTER_FLAG_TSYNC) != 0) {
            flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
        }
    } else {
        flags &= ~static_cast<unsigned int>(SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV);
    }
    long rc = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &fprog);
    if (rc < 0) {
        return sys_error("seccomp(SECCOMP_SET_MODE_FILTER)");
    }
    if (prog.notify) {
        return UniqueFd(static_cast<int>(rc));
    }
    if (rc > 0) {
        // TSYNC without a listener reports the thread it could not synchronize.
        return errno_error(ESRCH, "seccomp(SECCOMP_SET_MODE_FILTER): thread " + std::to_string(rc) +
                                      " could not be synchronized");
    }
    return UniqueFd();
}

std::optional<uint32_t> seccomp_action(std::string_view name, std::optional<uint32_t> errno_ret) {
    for (const auto& a : kActions) {
        if (a.name != name) {
            continue;
        }
        uint32_t e = errno_ret.value_or(kDefaultErrno);
        if (name == "SCMP_ACT_ERRNO") {
            return SCMP_ACT_ERRNO(e);
        }
        if (name == "SCMP_ACT_TRACE") {
            return SCMP_ACT_TRACE(e);
        }
        return a.value;
    }
    return std::nullopt;
}

std::optional<int> seccomp_operator(std::string_view name) {
    for (const auto& [n, op] : kOperators) {
        if (n == name) {
            return static_cast<int>(op);
        }
    }
    return std::nullopt;
}

std::optional<uint32_t> seccomp_arch(std::string_view name) {
    if (std::find(kArchs.begin(), kArchs.end(), name) == kArchs.end()) {
        return std::nullopt;
    }
    std::string lower(name.substr(kArchPrefix.size()));
    for (char& c : lower) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    uint32_t token = seccomp_arch_resolve_name(lower.c_str());
    if (token == 0) {
        return std::nullopt;
    }
    return token;
}

std::optional<unsigned int> seccomp_flag(std::string_view name) {
    for (const auto& [n, flag] : kFlags) {
        if (n == name) {
            return flag;
        }
    }
    return std::nullopt;
}

bool seccomp_flag_supported(unsigned int flag) {
    // WAIT_KILLABLE_RECV is only valid with a listener.
    if ((flag & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV) != 0) {
        flag |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
    }
    // The kernel checks the flags before it reads the program: EFAULT means "flags fine"
    // and nothing is loaded; EINVAL means an unknown flag. libseccomp probes the same way.
    long rc = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flag, nullptr);
    return rc < 0 && errno == EFAULT;
}

std::vector<std::string> seccomp_actions() {
    std::vector<std::string> out;
    out.reserve(kActions.size());
    for (const auto& a : kActions) {
        out.emplace_back(a.name);
    }
    return out;
}

std::vector<std::string> seccomp_operators() {
    std::vector<std::string> out;
    out.reserve(kOperators.size());
    for (const auto& op : kOperators) {
        out.emplace_back(op.first);
    }
    return out;
}

std::vector<std::string> seccomp_archs() {
    std::vector<std::string> out;
    for (auto name : kArchs) {
        if (seccomp_arch(name)) {
            out.emplace_back(name);
        }
    }
    return out;
}

std::vector<std::string> seccomp_flags() {
    std::vector<std::string> out;
    out.reserve(kFlags.size());
    for (const auto& f : kFlags) {
        out.emplace_back(f.first);
    }
    return out;
}

std::vector<std::string> seccomp_supported_flags() {
    std::vector<std::string> out;
    for (const auto& [name, flag] : kFlags) {
        if (seccomp_flag_supported(flag)) {
            out.emplace_back(name);
        }
    }
    return out;
}

}  // namespace cove::security
