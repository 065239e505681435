// cove image pull/ls/rm/inspect (issue 5).
#include "runtime/cli/cli.hpp"

namespace cove::cli {

void add_image_commands(CLI::App& app, Cli& cli) {
    (void)app;
    (void)cli;
}

}  // namespace cove::cli
