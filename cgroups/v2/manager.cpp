#include "cgroups/v2/manager.hpp"

#include "runtime/base/scope_exit.hpp"
#include "runtime/base/strings.hpp"

namespace cove::cgroups {

Status V2Manager::create() {
    const Hierarchy& h = hierarchies_.front();
    created_.clear();
    ScopeExit undo([this] { undo_created(); });
    enable_controllers(h.mount);
    auto dirs = levels(h);
    for (size_t i = 0; i < dirs.size(); ++i) {
        COVE_TRY(make_dir(dirs[i]), "cgroup");
        if (i + 1 < dirs.size()) {
            enable_controllers(dirs[i]);
        }
    }
    undo.dismiss();
    return {};
}

void V2Manager::enable_controllers(const std::string& dir) {
    auto avail = fs().read(join_path(dir, "cgroup.controllers"));
    if (!avail) {
        return;
    }
    std::vector<std::string> ctrls;
    for (const auto& c : str::split(str::trim(*avail), ' ')) {
        if (!c.empty()) {
            ctrls.push_back("+" + c);
        }
    }
    if (ctrls.empty()) {
        return;
    }
    std::string file = join_path(dir, "cgroup.subtree_control");
    // One write enables all or none; on failure (one controller busy or not delegatable),
    // enable what can be enabled one by one.
    if (fs().write(file, str::join(ctrls, " "))) {
        return;
    }
    for (const auto& c : ctrls) {
        (void)fs().write(file, c);
    }
}

Result<UniqueFd> V2Manager::clone_fd() {
    COVE_ASSIGN(UniqueFd fd, fs().open_dir(hierarchies_.front().dir), "cgroup");
    return fd;
}

}  // namespace cove::cgroups
