// The public facade of libcove: one struct of options per command and one function each.
// The CLI (runtime/cli) is a thin layer over this; the library never prints (except through
// cove::log) and never exits.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/base/error.hpp"

namespace cove {

struct GlobalOptions {
    std::string root = "/run/cove";
    bool systemd_cgroup = false;
};

// A rootfs the container's init assembles, in its own mount namespace, as an overlay of image
// layers on <bundle>/<root.path> (set by the --image path, never read from config.json).
struct OverlayRootfs {
    std::vector<std::string> lowers;  // layer dirs, bottom first
    std::string upper, work;
    std::string link_dir;  // short links for lower lists longer than mount(2)'s page
    std::string storage;   // the per-container dir holding all of the above; removed by delete
};

struct CreateOptions {
    std::string bundle = ".";
    std::string console_socket;
    std::string pid_file;
    int preserve_fds = 0;
    bool no_pivot = false;
    bool no_new_keyring = false;
    std::optional<OverlayRootfs> overlay;
};

// create/run --image: the bundle is generated from an image into its own dir.
struct ImageOptions {
    std::string ref;                // a pulled image's name, or a SOURCE to pull first
    std::vector<std::string> args;  // replaces the image's Cmd (after its Entrypoint)
    bool terminal = false;
};

struct RunOptions {
    CreateOptions create;
    bool detach = false;
    bool keep = false;
    bool no_subreaper = false;
};

struct ExecOptions {
    std::string process_file;  // --process: a JSON process object
    std::vector<std::string> args;
    bool tty = false;
    bool detach = false;
    std::string pid_file;
    std::string console_socket;
    std::string cwd;
    std::vector<std::string> env;
    std::optional<std::string> user;  // "uid[:gid]"
    std::vector<uint32_t> additional_gids;
    std::vector<std::string> caps;
    bool no_new_privs = false;
    bool ignore_paused = false;
    int preserve_fds = 0;
};

Status create(const GlobalOptions& g, const std::string& id, const CreateOptions& o);
Status start(const GlobalOptions& g, const std::string& id);
// Returns the exit status of the container's process (128+N after signal N); 0 with detach.
Result<int> run(const GlobalOptions& g, const std::string& id, const RunOptions& o);
Status kill(const GlobalOptions& g, const std::string& id, int signal, bool all);
Status remove(const GlobalOptions& g, const std::string& id, bool force);
Result<nlohmann::ordered_json> state(const GlobalOptions& g, const std::string& id);
// The OCI state of every container under root.
Result<std::vector<nlohmann::ordered_json>> list(const GlobalOptions& g);
Result<std::vector<pid_t>> pids(const GlobalOptions& g, const std::string& id);
Result<int> exec(const GlobalOptions& g, const std::string& id, const ExecOptions& o);
// create/run from an image (image_bundle.cpp). run keeps the stopped container unless
// o.keep is false (--rm).
Status create_from_image(const GlobalOptions& g,
                         const std::string& id,
                         CreateOptions o,
                         const ImageOptions& img);
Result<int> run_from_image(const GlobalOptions& g,
                           const std::string& id,
                           RunOptions o,
                           const ImageOptions& img);
// The config.json `create --image` would use, with root.path "rootfs" (cove spec --image).
Result<nlohmann::ordered_json> image_config_json(const ImageOptions& img, const std::string& id);

// The cgroup commands (cgroup_ops.cpp). pause freezes a created or running container and
// resume thaws a paused one; state and list say "paused" in between.
Status pause(const GlobalOptions& g, const std::string& id);
Status resume(const GlobalOptions& g, const std::string& id);

struct UpdateOptions {
    nlohmann::json resources;  // linux.resources' shape: from -r, or built from the flags
    std::string l3_cache_schema, mem_bw_schema;  // Intel RDT: refused, cove has no resctrl
};
// Writes the changed limits to a created, running or paused container's cgroup and keeps
// them in its state.json.
Status update(const GlobalOptions& g, const std::string& id, const UpdateOptions& o);

struct EventsOptions {
    bool stats = false;  // one stats event, then return
    std::chrono::nanoseconds interval = std::chrono::seconds(5);
};
// runc's events: emit gets {"type":"stats","id","data"} every interval and {"type":"oom",
// "id"} for each OOM kill in the container's cgroup, until the container stops.
Status events(const GlobalOptions& g,
              const std::string& id,
              const EventsOptions& o,
              const std::function<void(const nlohmann::ordered_json&)>& emit);

}  // namespace cove
