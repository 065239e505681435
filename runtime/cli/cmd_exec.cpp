// exec: run a new process inside a running container.
#include "runtime/cli/cli.hpp"

namespace cove::cli {

void add_exec(CLI::App& app, Cli& cli) {
    auto* cmd = app.add_subcommand("exec", "execute new process inside the container");
    auto o = std::make_shared<ExecOptions>();
    auto user = std::make_shared<std::string>();
    cmd->add_option("-p,--process", o->process_file, "path to the process.json");
    cmd->add_flag("-t,--tty", o->tty, "allocate a pseudo-TTY");
    cmd->add_flag("-d,--detach", o->detach, "detach from the container's process");
    cmd->add_option("--pid-file", o->pid_file, "file to write the process id to");
    cmd->add_option("--console-socket", o->console_socket,
                    "path to an AF_UNIX socket which will receive the pty master");
    cmd->add_option("--cwd", o->cwd, "current working directory in the container");
    cmd->add_option("-e,--env", o->env, "set environment variables")
        ->expected(1)
        ->allow_extra_args(false)
        ->take_all();
    cmd->add_option("-u,--user", *user, "UID (format: <uid>[:<gid>])");
    cmd->add_option("-g,--additional-gids", o->additional_gids, "additional gids")
        ->expected(1)
        ->allow_extra_args(false)
        ->take_all();
    cmd->add_option("-c,--cap", o->caps, "add a capability to the bounding set")
        ->expected(1)
        ->allow_extra_args(false)
        ->take_all();
    cmd->add_flag("--no-new-privs", o->no_new_privs, "set the no new privileges value");
    cmd->add_flag("--ignore-paused", o->ignore_paused, "allow exec in a paused container");
    cmd->add_option("--preserve-fds", o->preserve_fds,
                    "pass N additional file descriptors to the process");
    std::string ignored;
    cmd->add_option("--process-label", ignored, "ignored: no SELinux on this host");
    cmd->add_option("--apparmor", ignored, "ignored: no AppArmor support yet");
    cmd->add_option("--cgroup", ignored, "ignored: sub-cgroup of the container");
    cmd->prefix_command();
    cmd->callback([&cli, cmd, o, user] {
        auto rest = cmd->remaining();
        if (rest.empty()) {
            cli.exit_code = fail(make_error("exec: a container id is required"));
            return;
        }
        std::string id = rest[0];
        o->args.assign(rest.begin() + 1, rest.end());
        if (!o->args.empty() && o->args[0] == "--") {
            o->args.erase(o->args.begin());
        }
        if (!user->empty()) {
            o->user = *user;
        }
        auto r = exec(cli.global, id, *o);
        cli.exit_code = r ? *r : fail(r.error());
    });
}

}  // namespace cove::cli
