// create, run, start, delete.
#include "runtime/cli/cli.hpp"

namespace cove::cli {

void add_create_flags(CLI::App& cmd, CreateOptions& o) {
    cmd.add_option("-b,--bundle", o.bundle, "path to the root of the bundle directory");
    cmd.add_option("--console-socket", o.console_socket,
                   "path to an AF_UNIX socket which will receive the pty master");
    cmd.add_option("--pid-file", o.pid_file, "file to write the process id to");
    cmd.add_option("--preserve-fds", o.preserve_fds,
                   "pass N additional file descriptors to the container (after stdio)");
    cmd.add_flag("--no-pivot", o.no_pivot, "do not use pivot_root (use chroot)");
    cmd.add_flag("--no-new-keyring", o.no_new_keyring,
                 "do not create a new session keyring for the container");
}

void add_create(CLI::App& app, Cli& cli) {
    auto* cmd = app.add_subcommand("create", "create a container");
    auto o = std::make_shared<CreateOptions>();
    auto id = std::make_shared<std::string>();
    cmd->add_option("container-id", *id, "the container's id")->required();
    add_create_flags(*cmd, *o);
    cmd->callback([&cli, o, id] { guard(cli, [&] { return create(cli.global, *id, *o); }); });
}

void add_run(CLI::App& app, Cli& cli) {
    auto* cmd = app.add_subcommand("run", "create and run a container");
    auto o = std::make_shared<RunOptions>();
    auto id = std::make_shared<std::string>();
    cmd->add_option("container-id", *id, "the container's id")->required();
    add_create_flags(*cmd, o->create);
    cmd->add_flag("-d,--detach", o->detach, "detach from the container's process");
    cmd->add_flag("--keep", o->keep, "do not delete the container after it exits");
    cmd->add_flag("--no-subreaper", o->no_subreaper, "ignored: cove does not need a subreaper");
    cmd->callback([&cli, o, id] {
        auto r = run(cli.global, *id, *o);
        cli.exit_code = r ? *r : fail(r.error());
    });
}

void add_start(CLI::App& app, Cli& cli) {
    auto* cmd = app.add_subcommand("start", "start a created container");
    auto id = std::make_shared<std::string>();
    cmd->add_option("container-id", *id, "the container's id")->required();
    cmd->callback([&cli, id] { guard(cli, [&] { return start(cli.global, *id); }); });
}

void add_delete(CLI::App& app, Cli& cli) {
    auto* cmd = app.add_subcommand("delete", "delete a container and its resources");
    auto id = std::make_shared<std::string>();
    auto force = std::make_shared<bool>(false);
    cmd->add_option("container-id", *id, "the container's id")->required();
    cmd->add_flag("-f,--force", *force, "kill the container first if it is running");
    cmd->callback(
        [&cli, id, force] { guard(cli, [&] { return remove(cli.global, *id, *force); }); });
}

}  // namespace cove::cli
