#include "runtime/security/seccomp_enosys.hpp"

#include <linux/audit.h>
#include <linux/seccomp.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <map>

#include <seccomp.h>

#include "runtime/security/seccomp.hpp"

namespace cove::security {

namespace {

constexpr uint32_t kX32Bit = 0x40000000;  // __X32_SYSCALL_BIT

bool needs_stub(uint32_t default_action) {
    if (default_action == SCMP_ACT_ALLOW || default_action == SCMP_ACT_LOG ||
        default_action == SCMP_ACT_ERRNO(ENOSYS)) {
        return false;
    }
    // A tracer is expected to handle unknown syscalls itself (runc's isAllowAction).
    return (default_action & SECCOMP_RET_ACTION_FULL) != SCMP_ACT_TRACE(0);
}

// The filter's architectures as AUDIT_ARCH_* tokens (x32 is not one: on x86_64 its calls
// carry kX32Bit and go to the filter untouched).
std::vector<uint32_t> filter_archs(const spec::Seccomp& s) {
    std::vector<uint32_t> out;
    auto add = [&](uint32_t a) {
        if (a != SCMP_ARCH_X32 && std::find(out.begin(), out.end(), a) == out.end()) {
            out.push_back(a);
        }
    };
    add(seccomp_arch_native());
    for (const auto& name : s.architectures) {
        if (auto a = seccomp_arch(name)) {
            add(*a);
        }
    }
    return out;
}

sock_filter stmt(uint16_t code, uint32_t k) {
    return sock_filter{code, 0, 0, k};
}
sock_filter jump(uint16_t code, uint32_t k, uint8_t jt, uint8_t jf) {
    return sock_filter{code, jt, jf, k};
}

}  // namespace

std::vector<sock_filter> enosys_stub(const spec::Seccomp& s, uint32_t default_action) {
    if (!needs_stub(default_action)) {
        return {};
    }
    std::map<uint32_t, uint32_t> last;  // arch -> largest syscall number the profile names
    for (uint32_t arch : filter_archs(s)) {
        for (const auto& sc : s.syscalls) {
            for (const auto& name : sc.names) {
                int nr = seccomp_syscall_resolve_name_arch(arch, name.c_str());
                if (nr >= 0 && static_cast<uint32_t>(nr) > last[arch]) {
                    last[arch] = static_cast<uint32_t>(nr);
                }
            }
        }
    }
    std::erase_if(last, [](const auto& kv) { return kv.second == 0; });
    if (last.empty()) {
        return {};
    }
    // Layout: ld arch; one jeq per arch to its section; ja filter; sections, each
    //   ld nr; [x86_64: jset X32 -> ja filter]; jgt max -> ret ENOSYS; ja filter
    // The "ja filter" offsets are patched once the stub's length is known.
    std::vector<sock_filter> out;
    out.push_back(stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)));
    size_t dispatch = out.size();
    for (const auto& kv : last) {
        out.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, kv.first, 0, 0));
    }
    std::vector<size_t> to_filter{out.size()};
    out.push_back(stmt(BPF_JMP | BPF_JA, 0));
    size_t i = dispatch;
    for (const auto& [arch, max] : last) {
        out[i].jt = static_cast<uint8_t>(out.size() - (i + 1));  // few arches: < 255
        ++i;
        out.push_back(stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)));
        if (arch == AUDIT_ARCH_X86_64) {
            out.push_back(jump(BPF_JMP | BPF_JSET | BPF_K, kX32Bit, 2, 0));
        }
        out.push_back(jump(BPF_JMP | BPF_JGT | BPF_K, max, 0, 1));
        out.push_back(stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS));
        to_filter.push_back(out.size());
        out.push_back(stmt(BPF_JMP | BPF_JA, 0));
    }
    for (size_t at : to_filter) {
        out[at].k = static_cast<uint32_t>(out.size() - (at + 1));
    }
    return out;
}

}  // namespace cove::security
