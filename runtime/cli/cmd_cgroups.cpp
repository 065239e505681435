// pause, resume, update, events: the cgroup commands.
#include "runtime/cli/cli.hpp"

namespace cove::cli {

void add_cgroup_commands(CLI::App& app, Cli& cli) {
    (void)app;
    (void)cli;
}

}  // namespace cove::cli
