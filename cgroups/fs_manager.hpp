// FsManager: what the v1 and v2 cgroupfs backends share once paths are resolved: the list of
// hierarchies with the container's dir in each, joining, listing, removal, and the JSON that
// state.json keeps. The backends add create(), clone_fd() and the resource writes (set()).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cgroups/cgroupfs.hpp"
#include "cgroups/manager.hpp"

namespace cove::cgroups {

struct Hierarchy {
    std::vector<std::string> controllers;  // v1: {"cpu", "cpuacct"}, {"name=systemd"}; v2: {}
    bool unified = false;                  // a cgroup2 hierarchy
    std::string mount;                     // its mountpoint (test root prefix included)
    std::string dir;                       // the container's cgroup dir, strictly below mount
};

// dir must lie strictly below mount: the root cgroup is never created, joined or removed.
Status validate_hierarchy(const Hierarchy& h);

class FsManager : public Manager {
public:
    FsManager(Mode mode,
              std::string cgroup,
              std::vector<Hierarchy> hierarchies,
              std::shared_ptr<CgroupFs> fs);

    Status add_pid(pid_t pid) override;
    Result<std::vector<pid_t>> pids() override;
    Status destroy() override;
    std::string path(const std::string& controller) const override;
    std::map<std::string, std::string> paths() const override;
    Mode mode() const override { return mode_; }
    nlohmann::json to_json() const override;
    Status apply(const Resources& r) override { return set(r, false); }
    Status update(const Resources& r) override { return set(r, true); }

    const std::vector<Hierarchy>& hierarchies() const { return hierarchies_; }

    // For load_manager: the inverse of to_json.
    static Result<std::unique_ptr<Manager>> from_json(const nlohmann::json& j,
                                                      std::shared_ptr<CgroupFs> fs);

protected:
    // What apply (update false) and update (true) write: each backend's controller files.
    virtual Status set(const Resources& r, bool update) = 0;
    // mkdir; an existing dir is fine; a new one is remembered for undo_created().
    Status make_dir(const std::string& dir);
    // Removes the dirs this create() made, deepest first; errors are ignored (best effort
    // rollback of a failed create).
    void undo_created();
    // The dirs from just below h.mount down to h.dir, top first.
    static std::vector<std::string> levels(const Hierarchy& h);

    CgroupFs& fs() { return *fs_; }

    Mode mode_;
    std::string cgroup_;  // the cleaned cgroupsPath: "/a/b" or "a/b"
    std::vector<Hierarchy> hierarchies_;
    std::shared_ptr<CgroupFs> fs_;
    std::vector<std::string> created_;
};

}  // namespace cove::cgroups
