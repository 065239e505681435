// The -ENOSYS stub runc prepends to a seccomp filter (libcontainer/seccomp/patchbpf): a syscall
// newer than every syscall the profile names gets ENOSYS instead of the default action, so
// programs in the container fall back from syscalls the profile's author could not know
// (fchmodat2, mseal, ...) the way they do on an older kernel, instead of failing with EPERM.
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <vector>

#include "runtime/spec/spec.hpp"

namespace cove::security {

// The stub for profile s whose default action is default_action, to be placed in front of the
// libseccomp program; empty when none is needed (the default allows, logs or traces, or is
// already ENOSYS). For each architecture of the filter: nr > the largest syscall number the
// profile names on that architecture -> SECCOMP_RET_ERRNO|ENOSYS; anything else (and x32 calls
// on x86_64) falls through to the filter, which starts by loading the arch itself.
std::vector<sock_filter> enosys_stub(const spec::Seccomp& s, uint32_t default_action);

}  // namespace cove::security
