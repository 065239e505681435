// spec and features.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>

#include "runtime/base/fs.hpp"
#include "runtime/cli/cli.hpp"
#include "runtime/rootfs/mount_options.hpp"
#include "runtime/security/caps.hpp"
#include "runtime/security/seccomp.hpp"
#include "runtime/spec/defaults.hpp"

namespace cove::cli {
namespace {

nlohmann::json features_json() {
    nlohmann::json caps = security::known_capabilities();
    return {
        {"ociVersionMin", "1.0.0"},
        {"ociVersionMax", "1.1.0"},
        {"hooks",
         {"prestart", "createRuntime", "createContainer", "startContainer", "poststart",
          "poststop"}},
        {"mountOptions",
         {"async",         "atime",        "bind",        "defaults",    "dev",
          "diratime",      "dirsync",      "exec",        "mand",        "noatime",
          "nodev",         "nodiratime",   "noexec",      "nomand",      "norelatime",
          "nostrictatime", "nosuid",       "private",     "rbind",       "rdev",
          "rdiratime",     "relatime",     "remount",     "rexec",       "rnoatime",
          "rnodev",        "rnodiratime",  "rnoexec",     "rnorelatime", "rnostrictatime",
          "rnosuid",       "rnosymfollow", "ro",          "rprivate",    "rrelatime",
          "rro",           "rrw",          "rshared",     "rslave",      "rstrictatime",
          "rsuid",         "rsymfollow",   "runbindable", "rw",          "shared",
          "slave",         "strictatime",  "suid",        "sync",        "unbindable"}},
        {"linux",
         {{"namespaces", {"cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"}},
          {"capabilities", caps},
          // linux.resources on both backends (rdma included); no systemd driver yet.
          {"cgroup",
           {{"v1", true},
            {"v2", true},
            {"systemd", false},
            {"systemdUser", false},
            {"rdma", true}}},
          {"seccomp",
           {{"enabled", true},
            {"actions", security::seccomp_actions()},
            {"operators", security::seccomp_operators()},
            {"archs", security::seccomp_archs()},
            {"knownFlags", security::seccomp_flags()},
            {"supportedFlags", security::seccomp_flags()}}},
          {"apparmor", {{"enabled", false}}},
          {"selinux", {{"enabled", false}}},
          {"intelRdt", {{"enabled", false}}}}},
        {"annotations", {{"io.github.cove.version", COVE_VERSION}}},
    };
}

}  // namespace

void add_spec(CLI::App& app, Cli& cli) {
    auto* cmd = app.add_subcommand("spec", "create a new specification file");
    auto bundle = std::make_shared<std::string>(".");
    auto rootless = std::make_shared<bool>(false);
    auto image = std::make_shared<ImageOptions>();
    cmd->add_option("-b,--bundle", *bundle, "path to the root of the bundle directory");
    cmd->add_flag("--rootless", *rootless, "generate a configuration for a rootless container");
    cmd->add_option("--image", image->ref,
                    "write the config.json `create --image` would use for this image (root.path "
                    "\"rootfs\"; pulls a SOURCE first)");
    cmd->callback([&cli, bundle, rootless, image] {
        guard(cli, [&]() -> Status {
            std::string path = *bundle + "/config.json";
            if (fs::exists(path)) {
                return make_error("File " + path +
                                  " exists. Remove it first or use a different directory");
            }
            if (!image->ref.empty() && *rootless) {
                return make_error("--image and --rootless exclude each other");
            }
            nlohmann::ordered_json doc;
            if (image->ref.empty()) {
                doc = spec::default_spec_ordered(*rootless);
            } else {
                COVE_ASSIGN(doc, image_config_json(*image, "cove"), "spec");
            }
            // runc writes the spec tab-indented.
            std::string text = doc.dump(1, '\t');
            COVE_TRY(fs::write_file(path, text, O_CREAT | O_EXCL), "spec");
            return {};
        });
    });
}

void add_features(CLI::App& app, Cli& cli) {
    auto* cmd = app.add_subcommand("features", "show the enabled features");
    cmd->callback([&cli] {
        guard(cli, [&]() -> Status {
            std::string s = features_json().dump(4) + "\n";
            std::fputs(s.c_str(), stdout);
            return {};
        });
    });
}

}  // namespace cove::cli
