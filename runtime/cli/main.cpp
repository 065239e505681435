#include <cstdio>

#include <seccomp.h>

#include "runtime/base/log.hpp"
#include "runtime/cli/cli.hpp"

namespace cove::cli {

int fail(const Error& e) {
    log::error(e.to_string());
    return e.exit_code() != 0 ? e.exit_code() : 1;
}

}  // namespace cove::cli

namespace {

std::string version_text() {
    const struct scmp_version* v = seccomp_version();
    return std::string("cove version ") + COVE_VERSION +
           "\nspec: 1.0.2-dev\nlibseccomp: " + std::to_string(v->major) + "." +
           std::to_string(v->minor) + "." + std::to_string(v->micro);
}

}  // namespace

int main(int argc, char** argv) {
    using namespace cove::cli;
    Cli cli;
    CLI::App app{"cove: an OCI container runtime (runc-compatible)", "cove"};
    app.require_subcommand(0, 1);
    // runc's help headings, which scripts (and our bats) look for; subcommands inherit them.
    // urfave/cli (runc) lets a repeated flag override the earlier one.
    app.option_defaults()->group("OPTIONS")->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    app.set_version_flag("-v,--version", version_text());
    app.add_flag("--debug", cli.debug, "enable debug logging");
    app.add_option("--log", cli.log_path, "log file path (default: stderr)");
    app.add_option("--log-format", cli.log_format, "log format: text or json")
        ->check(CLI::IsMember({"text", "json"}));
    app.add_option("--root", cli.global.root, "root directory for container state")
        ->capture_default_str();
    app.add_flag("--systemd-cgroup", cli.global.systemd_cgroup,
                 "use systemd to manage cgroups (cgroupsPath is slice:prefix:name)");
    std::string criu;
    app.add_option("--criu", criu, "ignored (runc compatibility)");
    std::string rootless;
    app.add_option("--rootless", rootless, "ignored (runc compatibility)");
    app.parse_complete_callback([&] {
        cove::log::init(
            {cli.log_path,
             cli.log_format == "json" ? cove::log::Format::kJson : cove::log::Format::kText,
             cli.debug});
    });
    add_create(app, cli);
    add_run(app, cli);
    add_start(app, cli);
    add_state(app, cli);
    add_kill(app, cli);
    add_delete(app, cli);
    add_list(app, cli);
    add_ps(app, cli);
    add_exec(app, cli);
    add_spec(app, cli);
    add_features(app, cli);
    add_cgroup_commands(app, cli);
    add_image_commands(app, cli);
    app.get_help_ptr()->group("OPTIONS");
    for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
        sub->group("COMMANDS");
        sub->get_help_ptr()->group("OPTIONS");
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) {
            return app.exit(e);
        }
        cove::log::init(
            {cli.log_path,
             cli.log_format == "json" ? cove::log::Format::kJson : cove::log::Format::kText,
             false});
        cove::log::error(e.what());
        return 1;
    }
    if (app.get_subcommands().empty()) {
        std::fputs(app.help().c_str(), stdout);
        return 0;
    }
    return cli.exit_code;
}
