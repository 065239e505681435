// The CLI's shared state and the registration function of each subcommand. Each command's
// callback sets exit_code; only the CLI prints or exits.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "runtime/base/error.hpp"
#include "runtime/container/cove.hpp"

namespace cove::cli {

struct Cli {
    GlobalOptions global;
    std::string log_path;
    std::string log_format = "text";
    bool debug = false;
    int exit_code = 0;
};

// Logs the error (stderr and --log) and returns its exit code.
int fail(const Error& e);
// Runs f (returning Status) and turns an error into the exit code.
template <typename F>
void guard(Cli& cli, F&& f) {
    Status st = f();
    if (!st) {
        cli.exit_code = fail(st.error());
    }
}

void add_create(CLI::App& app, Cli& cli);
void add_run(CLI::App& app, Cli& cli);
void add_start(CLI::App& app, Cli& cli);
void add_state(CLI::App& app, Cli& cli);
void add_kill(CLI::App& app, Cli& cli);
void add_delete(CLI::App& app, Cli& cli);
void add_list(CLI::App& app, Cli& cli);
void add_ps(CLI::App& app, Cli& cli);
void add_exec(CLI::App& app, Cli& cli);
void add_spec(CLI::App& app, Cli& cli);
void add_features(CLI::App& app, Cli& cli);
// pause, resume, update, events (cmd_cgroups.cpp).
void add_cgroup_commands(CLI::App& app, Cli& cli);
// cove image ... (cmd_image.cpp).
void add_image_commands(CLI::App& app, Cli& cli);

// Shared flags of create and run.
void add_create_flags(CLI::App& cmd, CreateOptions& o);

}  // namespace cove::cli
