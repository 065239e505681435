// Namespace kinds (spec string <-> CLONE_NEW* <-> /proc/<pid>/ns/<name>), and the clone3
// wrapper that starts a container process with CLONE_PIDFD (and CLONE_INTO_CGROUP on v2).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

#include "runtime/base/error.hpp"
#include "runtime/base/unique_fd.hpp"

namespace cove::ns {

struct Kind {
    const char* spec_name;  // "network"
    const char* proc_name;  // "net"
    int clone_flag;         // CLONE_NEWNET
};

// The kinds in the order namespaces are joined with setns: user first (it grants the
// capabilities the other joins need), mount last (it changes the view of /proc paths).
extern const Kind kKinds[8];

// nullptr when unknown.
const Kind* kind_by_spec_name(std::string_view name);

struct Child {
    pid_t pid = -1;  // 0 in the child
    UniqueFd pidfd;
};

// clone3(flags | CLONE_PIDFD), fork-like (no CLONE_VM, no new stack), SIGCHLD on exit.
// cgroup_fd >= 0 adds CLONE_INTO_CGROUP. Returns pid 0 in the child.
Result<Child> clone3(uint64_t flags, int cgroup_fd = -1);

}  // namespace cove::ns
