// The cgroup manager: one interface, two backends chosen by detecting the host (unified v2;
// legacy or hybrid v1). A container's cgroup is created before clone, the init joins it
// (v2: clone3 CLONE_INTO_CGROUP; v1: its pid written to every hierarchy), and destroy removes
// it. The manager's paths persist in state.json (to_json/load_manager) so later commands
// (exec, kill --all, ps, delete) reopen the same cgroup without re-resolving cgroupsPath.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "cgroups/resources.hpp"
#include "runtime/base/error.hpp"
#include "runtime/base/unique_fd.hpp"

namespace cove::cgroups {

class CgroupFs;

enum class Mode { kUnified, kHybrid, kLegacy };

// "unified", "hybrid", "legacy".
std::string_view mode_name(Mode mode);

// From /proc/self/mountinfo (or mountinfo_path, for tests): unified when a cgroup2 is mounted
// at /sys/fs/cgroup; hybrid when v1 hierarchies and a cgroup2 (/sys/fs/cgroup/unified) are
// mounted; legacy when only v1 hierarchies are. Fails when no cgroup filesystem is mounted.
Result<Mode> detect_mode(const std::string& mountinfo_path = "/proc/self/mountinfo");

struct Config {
    std::string id;            // container id
    std::string cgroups_path;  // linux.cgroupsPath as given (may be empty or relative)
    bool systemd = false;      // --systemd-cgroup: "slice:prefix:name"
    // Test seams. root is prefixed to every mountpoint read from mountinfo (and to
    // /run/systemd/system), so a temp dir can stand in for the host's /sys/fs/cgroup.
    std::string root;
    std::string mountinfo_path = "/proc/self/mountinfo";
    std::string self_cgroup_path = "/proc/self/cgroup";
    std::shared_ptr<CgroupFs> fs;  // null: the real cgroupfs
};

class Manager {
public:
    virtual ~Manager() = default;
    // mkdir the cgroup (and parents) in every hierarchy; v1: cpuset.cpus/mems are copied
    // down into every level first, v2: controllers are enabled in every ancestor's
    // cgroup.subtree_control. On failure the dirs made by this call are removed again.
    virtual Status create() = 0;
    // v2: an O_DIRECTORY fd of the cgroup for clone3 CLONE_INTO_CGROUP; v1: an invalid fd.
    virtual Result<UniqueFd> clone_fd() = 0;
    // Moves pid into the cgroup (every hierarchy on v1, the cgroup2 one included on hybrid).
    virtual Status add_pid(pid_t pid) = 0;
    // Every pid in the cgroup and its descendants (the union of all hierarchies), sorted.
    // Hierarchies whose directory is gone are skipped.
    virtual Result<std::vector<pid_t>> pids() = 0;
    // Removes the cgroup's leaf dir and its sub-cgroups in every hierarchy (children first);
    // parents are left alone. Missing is fine. Retries briefly on EBUSY (exiting tasks).
    virtual Status destroy() = 0;
    // The cgroup dir for a v1 controller ("memory", "cpu", "name=systemd"), or for "" the
    // cgroup2 dir (unified mode; the cgroup2 mount on hybrid; "" on legacy). "" when the
    // controller is not mounted.
    virtual std::string path(const std::string& controller = "") const = 0;
    // Every controller (v1) or "" (cgroup2) mapped to its cgroup dir.
    virtual std::map<std::string, std::string> paths() const = 0;
    virtual Mode mode() const = 0;
    virtual nlohmann::json to_json() const = 0;

    // Resource control. The defaults fail with "not supported"; the backends override them.
    // Writes every field r sets (create: before the init joins; device rules as given).
    virtual Status apply(const Resources& r);
    // `cove update`: like apply, in runc's order for changes that depend on each other
    // (memory limit vs memory+swap, cpu quota vs period).
    virtual Status update(const Resources& r);
    // pause/resume: v1 freezer.state FROZEN/THAWED, v2 cgroup.freeze; waits until the
    // kernel reports the new state.
    virtual Status freeze(bool frozen);
    virtual Result<bool> frozen();
    // runc's `events --stats` "data" object (libcontainer/cgroups Stats as JSON: cpu, memory,
    // pids, blkio, hugetlb).
    virtual Result<nlohmann::json> stats();
    // How many times the OOM killer killed in this cgroup (v1 memory.oom_control oom_kill,
    // v2 memory.events oom_kill); `events` reports an "oom" event when it grows.
    virtual Result<uint64_t> oom_kill_count();
    // Signals every process in the cgroup. v2 with cgroup.kill and sig == SIGKILL: one write.
    // Otherwise (v1, or v2 without cgroup.kill) the backends freeze the cgroup, signal every
    // task and thaw it, as runc does, so nothing forks away. Returns true when done; false
    // (the default for managers without it) means the caller signals pids() itself.
    virtual Result<bool> kill_all(int sig);
};

// Resolves cfg.cgroups_path and returns the host's backend. No mkdir yet. Paths (runc's
// cgroupfs rules, with crun's default): empty -> "/<id>"; absolute -> below each hierarchy's
// mountpoint; relative -> below the caller's own cgroup (/proc/self/cgroup) in each
// hierarchy. With cfg.systemd the "slice:prefix:name" form is parsed, then this fails: only
// the cgroupfs driver exists so far.
Result<std::unique_ptr<Manager>> make_manager(const Config& cfg);
// Reopens a manager saved with to_json(); fs null means the real cgroupfs.
Result<std::unique_ptr<Manager>> load_manager(const nlohmann::json& saved,
                                              std::shared_ptr<CgroupFs> fs = nullptr);

}  // namespace cove::cgroups
