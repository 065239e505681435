// Per-container state under --root: /run/cove/<id>/{state.json, exec.fifo}. A flock on the
// directory makes concurrent commands on one id take turns. Status (created, running,
// stopped, paused) is derived from the live process, with its start time guarding against pid
// reuse.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/base/error.hpp"
#include "runtime/base/unique_fd.hpp"

namespace cove {

struct ContainerState {
    std::string id;
    pid_t pid = 0;
    uint64_t start_time = 0;  // /proc/<pid>/stat field 22, against pid reuse
    std::string bundle;
    std::string rootfs;
    std::string created;  // RFC 3339, UTC
    std::string owner;
    bool no_pivot = false;
    std::map<std::string, std::string> annotations;
    nlohmann::json config;  // the config.json the container was created from
    nlohmann::json cgroup;  // cgroups::Manager::to_json()
};

// "/proc/<pid>/stat" start time; 0 when the process is gone.
uint64_t process_start_time(pid_t pid);
// True when pid is alive, not a zombie, and started at start_time.
bool process_alive(pid_t pid, uint64_t start_time);

class StateDir {
public:
    // mkdir <root>/<id> (fails if it exists: "container with id exists"), locked.
    static Result<StateDir> create(const std::string& root, const std::string& id);
    // Opens and locks an existing container dir ("container does not exist" otherwise).
    static Result<StateDir> open(const std::string& root, const std::string& id);
    // The ids of every container under root, sorted.
    static std::vector<std::string> list(const std::string& root);

    const std::string& path() const { return path_; }
    int lock_fd() const { return lock_.get(); }
    std::string fifo_path() const { return path_ + "/exec.fifo"; }
    Status save(const ContainerState& st) const;
    Result<ContainerState> load() const;
    // Removes the directory and everything in it.
    Status remove() const;

private:
    std::string path_;
    UniqueFd lock_;
};

// Checks a container id the way runc does: [A-Za-z0-9_+.-]+, not "." or "..".
Status validate_id(const std::string& id);

// "created" | "running" | "stopped" | "paused" for a loaded state.
std::string live_status(const StateDir& dir, const ContainerState& st);

// The OCI state JSON (runtime-spec "State") as runc prints it.
nlohmann::ordered_json oci_state_json(const ContainerState& st, const std::string& status);

std::string now_rfc3339();

}  // namespace cove
