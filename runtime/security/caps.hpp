// Capabilities (process.capabilities) through libcap: names, resolution of the five sets to
// bit masks in the parent, and the bounding-set drop and final sets in the child.
//
// Contract (as runc's finalizeNamespace):
//   parent: sets = resolve_capabilities(spec caps); log::warn(unknown_capabilities_warning(...))
//           when sets.unknown is not empty. /proc is not needed after this point.
//   child, in this order:
//     1. drop_bounding(sets)            still uid 0 with CAP_SETPCAP in the effective set
//     2. prctl(PR_SET_KEEPCAPS, 1)      caller; keeps the permitted set across the uid change
//     3. setgroups/setresgid/setresuid  caller; the kernel clears the effective set when the
//                                       uid leaves 0, permitted survives thanks to step 2
//     4. apply_capabilities(sets)       clears PR_SET_KEEPCAPS, sets E/P/I with cap_set_proc,
//                                       then clears and raises the ambient set
// With no_new_privileges off, seccomp is loaded before step 1 (loading needs CAP_SYS_ADMIN);
// with it on, prctl(PR_SET_NO_NEW_PRIVS) and seccomp come after step 4, just before execve.
// The child functions are noexcept, allocate only on the error path (and libcap's cap_init),
// and never read /proc.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/base/error.hpp"
#include "runtime/spec/spec.hpp"

namespace cove::security {

// Value of "CAP_SYS_ADMIN" (exact upper case with the CAP_ prefix, as runc's map), or -1 when
// this build does not know the name. Does not look at the kernel.
int capability_from_name(std::string_view name);
// "CAP_CHOWN" for 0, empty for values this build does not know.
std::string_view capability_name(int value);
// The running kernel's CAP_LAST_CAP (libcap probes it with PR_CAPBSET_READ), capped to the
// last capability this build knows.
int last_capability();
// Every capability known to this build and available in this kernel, sorted by value
// (`cove features`).
std::vector<std::string> known_capabilities();

struct CapabilitySets {
    uint64_t bounding = 0;
    uint64_t effective = 0;
    uint64_t permitted = 0;
    uint64_t inheritable = 0;
    uint64_t ambient = 0;
    int last_cap = -1;  // highest value the child iterates over (the kernel's CAP_LAST_CAP)
    // Names from any set that are unknown or above last_cap: sorted, unique. runc 1.1 ignores
    // them with a warning; so do we.
    std::vector<std::string> unknown;
};

// Resolves the five sets. last_cap < 0 means last_capability(); tests pass a smaller value
// to simulate an older kernel.
CapabilitySets resolve_capabilities(const spec::Capabilities& caps, int last_cap = -1);
// runc's warning text: "ignoring unknown or unavailable capabilities: [CAP_FOO CAP_BAR]".
std::string unknown_capabilities_warning(const std::vector<std::string>& unknown);

// PR_CAPBSET_DROP for every capability in [0, last_cap] that is not in sets.bounding and is
// still in the bounding set. Needs CAP_SETPCAP.
Status drop_bounding(const CapabilitySets& sets) noexcept;
// Clears PR_SET_KEEPCAPS, sets effective/permitted/inheritable (cap_set_proc), clears the
// ambient set and raises each ambient capability (they must be in permitted and inheritable).
// Works as uid 0, or as a non-root uid reached with PR_SET_KEEPCAPS set (see the contract).
Status apply_capabilities(const CapabilitySets& sets) noexcept;

}  // namespace cove::security
