// Seccomp (linux.seccomp) through libseccomp. The filter is compiled to BPF in the parent,
// before clone, so the child only has to load it (one syscall, no allocation) and errors in
// the profile are reported before anything is created.
//
// Rules follow runc (libcontainer/seccomp, specconv.SetupSeccomp):
// - no defaultAction and no syscalls: seccomp is disabled (an empty program, load is a no-op);
// - unknown action/operator/architecture/flag names are errors naming the field;
// - syscall names libseccomp does not know are skipped (debug log);
// - a rule whose action equals the default action is skipped;
// - errnoRet applies to SCMP_ACT_ERRNO and SCMP_ACT_TRACE (default EPERM), ignored otherwise;
// - several args on the same index become one rule per arg (OR), otherwise one rule (AND);
// - SCMP_ACT_NOTIFY is refused as the default action and for "write";
// - flags absent: SECCOMP_FILTER_FLAG_SPEC_ALLOW when the kernel supports it (runc, crun).
//
// Where the child loads it: with no_new_privileges, after prctl(PR_SET_NO_NEW_PRIVS) and the
// capabilities, as late as possible before execve; without, before the capabilities are
// dropped (loading then needs CAP_SYS_ADMIN). See caps.hpp for the whole order.
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/base/error.hpp"
#include "runtime/base/unique_fd.hpp"
#include "runtime/spec/spec.hpp"

namespace cove::security {

struct SeccompProgram {
    std::vector<struct sock_filter> filter;  // empty: seccomp disabled
    unsigned int flags = 0;                  // SECCOMP_FILTER_FLAG_* from seccomp.flags
    bool notify = false;  // a rule uses SCMP_ACT_NOTIFY: load returns the listener fd

    bool empty() const { return filter.empty(); }
};

// Errors name the field: "linux.seccomp.syscalls[2].action: unknown action \"SCMP_ACT_FOO\"".
Result<SeccompProgram> compile_seccomp(const spec::Seccomp& s);
// Loads the program into the calling thread with seccomp(SECCOMP_SET_MODE_FILTER); needs
// no_new_privs or CAP_SYS_ADMIN. Returns the notify listener fd (O_CLOEXEC, from the kernel)
// when prog.notify, otherwise an invalid fd. An empty program loads nothing.
Result<UniqueFd> load_seccomp(const SeccompProgram& prog) noexcept;

// Name lookups (also used by compile_seccomp). nullopt when the name is unknown.
// The libseccomp action value; errno_ret (default EPERM) is used by ERRNO and TRACE only.
std::optional<uint32_t> seccomp_action(std::string_view name,
                                       std::optional<uint32_t> errno_ret = std::nullopt);
// enum scmp_compare as int.
std::optional<int> seccomp_operator(std::string_view name);
// The libseccomp arch token (AUDIT_ARCH_*); only architectures this libseccomp supports.
std::optional<uint32_t> seccomp_arch(std::string_view name);
// SECCOMP_FILTER_FLAG_* value; known names only, whether or not the kernel supports them.
std::optional<unsigned int> seccomp_flag(std::string_view name);
// Whether the running kernel accepts the flag (probed with a NULL filter, nothing is loaded).
bool seccomp_flag_supported(unsigned int flag);

// Names for `cove features`, sorted as runc prints them.
std::vector<std::string> seccomp_actions();
std::vector<std::string> seccomp_operators();
std::vector<std::string> seccomp_archs();
std::vector<std::string> seccomp_flags();            // known
std::vector<std::string> seccomp_supported_flags();  // known and accepted by this kernel

}  // namespace cove::security
