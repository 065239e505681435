// create, run, start, delete. create and run also take --image: the bundle is then generated
// from the image (image_bundle.hpp) and a command may follow the container id.
#include "runtime/cli/cli.hpp"

namespace cove::cli {
namespace {

struct ImageFlags {
    ImageOptions image;
    bool remove = false;
};

void add_image_flags(CLI::App& cmd, ImageFlags& f, bool run) {
    cmd.add_option("--image", f.image.ref,
                   "make the container from this image (a pulled image's name or a SOURCE to "
                   "pull: oci:DIR[:TAG], docker-archive:FILE, docker://REF)");
    cmd.add_flag("-t,--tty", f.image.terminal, "with --image: allocate a terminal");
    if (run) {
        cmd.add_flag("--rm", f.remove, "with --image: delete the container when it exits");
    }
    cmd.add_option("command", f.image.args,
                   "with --image: the command to run instead of the image's Cmd (after --)");
}

// The flags that only make sense with --image, and --bundle that makes no sense with it.
Status check_image_flags(const CLI::App& cmd, const ImageFlags& f, bool detach) {
    if (f.image.ref.empty()) {
        if (!f.image.args.empty() || f.image.terminal || f.remove) {
            return make_error("a command, -t and --rm are only taken with --image");
        }
        return {};
    }
    if (cmd.count("--bundle") != 0) {
        return make_error("--bundle and --image exclude each other");
    }
    if (f.remove && detach) {
        return make_error("--rm cannot be used with --detach");
    }
    return {};
}

}  // namespace

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
    auto img = std::make_shared<ImageFlags>();
    cmd->add_option("container-id", *id, "the container's id")->required();
    add_create_flags(*cmd, *o);
    add_image_flags(*cmd, *img, false);
    cmd->callback([&cli, cmd, o, id, img] {
        guard(cli, [&]() -> Status {
            COVE_TRY(check_image_flags(*cmd, *img, false), "");
            if (!img->image.ref.empty()) {
                return create_from_image(cli.global, *id, *o, img->image);
            }
            return create(cli.global, *id, *o);
        });
    });
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
    auto img = std::make_shared<ImageFlags>();
    add_image_flags(*cmd, *img, true);
    cmd->callback([&cli, cmd, o, id, img] {
        if (auto st = check_image_flags(*cmd, *img, o->detach); !st) {
            cli.exit_code = fail(st.error());
            return;
        }
        Result<int> r = 0;
        if (img->image.ref.empty()) {
            r = run(cli.global, *id, *o);
        } else {
            // Like podman: an image's container stays (stopped) after it exits unless --rm.
            RunOptions ro = *o;
            ro.keep = !img->remove;
            r = run_from_image(cli.global, *id, ro, img->image);
        }
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
