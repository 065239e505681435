// The parent half of create: everything from config.json to a container waiting on its
// exec.fifo. `run` uses it too, keeping the init as its child.
#pragma once

#include <memory>
#include <string>

#include "cgroups/manager.hpp"
#include "runtime/base/unique_fd.hpp"
#include "runtime/container/cove.hpp"
#include "runtime/container/state.hpp"

namespace cove {

struct Created {
    StateDir dir;
    ContainerState state;
    UniqueFd pidfd;
};

// console_fd >= 0: a connected console socket to use instead of o.console_socket (run -t).
Result<Created> create_container(const GlobalOptions& g,
                                 const std::string& id,
                                 const CreateOptions& o,
                                 int console_fd = -1);

// Kills the init (if alive), removes the cgroup, runs poststop hooks and removes the state.
Status destroy_container(const StateDir& dir, const ContainerState& st);

// The hooks' view of the container (runtime-spec "State") as JSON text.
std::string hook_state(const ContainerState& st, const std::string& status);

}  // namespace cove
