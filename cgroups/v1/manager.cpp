#include "cgroups/v1/manager.hpp"

#include <algorithm>

#include "runtime/base/scope_exit.hpp"
#include "runtime/base/strings.hpp"

namespace cove::cgroups {

namespace {

bool has_cpuset(const Hierarchy& h) {
    return std::find(h.controllers.begin(), h.controllers.end(), "cpuset") != h.controllers.end();
}

}  // namespace

Status V1Manager::create() {
    created_.clear();
    ScopeExit undo([this] { undo_created(); });
    for (const auto& h : hierarchies_) {
        COVE_TRY(create_in(h), "cgroup");
    }
    undo.dismiss();
    return {};
}

Status V1Manager::create_in(const Hierarchy& h) {
    std::string parent = h.mount;
    for (const auto& dir : levels(h)) {
        COVE_TRY(make_dir(dir), "");
        if (has_cpuset(h)) {
            COVE_TRY(copy_cpuset_from_parent(dir, parent), "");
        }
        parent = dir;
    }
    return {};
}

// runc's cpusetCopyIfNeeded: only empty values are filled, so a level that already has its
// own cpus (or cpu_exclusive siblings) is not overwritten.
Status V1Manager::copy_cpuset_from_parent(const std::string& dir, const std::string& parent) {
    for (const char* name : {"cpuset.cpus", "cpuset.mems"}) {
        COVE_ASSIGN(std::string mine, fs().read(join_path(dir, name)), "");
        if (!str::trim(mine).empty()) {
            continue;
        }
        COVE_ASSIGN(std::string theirs, fs().read(join_path(parent, name)), "");
        COVE_TRY(fs().write(join_path(dir, name), str::trim(theirs)), "");
    }
    return {};
}

}  // namespace cove::cgroups
