#include "cgroups/fs_manager.hpp"

#include <algorithm>

#include "cgroups/v1/manager.hpp"
#include "cgroups/v2/manager.hpp"
#include "runtime/base/fs.hpp"
#include "runtime/base/json.hpp"
#include "runtime/base/strings.hpp"

namespace cove::cgroups {

namespace {

constexpr int kStateVersion = 1;

nlohmann::json hierarchy_to_json(const Hierarchy& h) {
    nlohmann::json j = {{"mount", h.mount}, {"path", h.dir}};
    if (h.unified) {
        j["unified"] = true;
    } else {
        j["controllers"] = h.controllers;
    }
    return j;
}

Hierarchy hierarchy_from_json(const nlohmann::json& j) {
    Hierarchy h;
    json::required(j, "mount", h.mount);
    json::required(j, "path", h.dir);
    json::optional(j, "unified", h.unified);
    json::optional(j, "controllers", h.controllers);
    return h;
}

Result<Mode> parse_mode(const std::string& s) {
    for (Mode m : {Mode::kUnified, Mode::kHybrid, Mode::kLegacy}) {
        if (mode_name(m) == s) {
            return m;
        }
    }
    return make_error("unknown cgroup mode \"" + s + "\"");
}

}  // namespace

Status validate_hierarchy(const Hierarchy& h) {
    if (h.mount.empty() || h.mount.front() != '/' || h.dir.size() <= h.mount.size() + 1 ||
        !str::starts_with(h.dir, h.mount) || (h.mount != "/" && h.dir[h.mount.size()] != '/') ||
        fs::clean_path(h.dir) != h.dir) {
        return make_error("cgroup: " + h.dir + " is not a cgroup below " + h.mount);
    }
    return {};
}

FsManager::FsManager(Mode mode,
                     std::string cgroup,
                     std::vector<Hierarchy> hierarchies,
                     std::shared_ptr<CgroupFs> fs)
    : mode_(mode),
      cgroup_(std::move(cgroup)),
      hierarchies_(std::move(hierarchies)),
      fs_(fs ? std::move(fs) : real_cgroupfs()) {}

Status FsManager::add_pid(pid_t pid) {
    for (const auto& h : hierarchies_) {
        COVE_TRY(write_pid(fs(), h.dir, pid), "cgroup");
    }
    return {};
}

Result<std::vector<pid_t>> FsManager::pids() {
    std::vector<pid_t> out;
    for (const auto& h : hierarchies_) {
        COVE_TRY(collect_pids(fs(), h.dir, out), "cgroup");
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

Status FsManager::destroy() {
    // Every hierarchy is tried even when one fails, so as little as possible is left.
    Status first;
    for (const auto& h : hierarchies_) {
        auto st = remove_cgroup(fs(), h.dir);
        if (!st && first) {
            first = std::move(st).error().wrap("cgroup");
        }
    }
    if (first) {
        created_.clear();
    }
    return first;
}

std::string FsManager::path(const std::string& controller) const {
    for (const auto& h : hierarchies_) {
        bool match = controller.empty() ? h.unified
                                        : std::find(h.controllers.begin(), h.controllers.end(),
                                                    controller) != h.controllers.end();
        if (match) {
            return h.dir;
        }
    }
    return "";
}

std::map<std::string, std::string> FsManager::paths() const {
    std::map<std::string, std::string> out;
    for (const auto& h : hierarchies_) {
        if (h.unified) {
            out[""] = h.dir;
        }
        for (const auto& c : h.controllers) {
            out[c] = h.dir;
        }
    }
    return out;
}

nlohmann::json FsManager::to_json() const {
    nlohmann::json hs = nlohmann::json::array();
    for (const auto& h : hierarchies_) {
        hs.push_back(hierarchy_to_json(h));
    }
    return {{"version", kStateVersion},
            {"driver", "cgroupfs"},
            {"mode", std::string(mode_name(mode_))},
            {"cgroupsPath", cgroup_},
            {"hierarchies", std::move(hs)}};
}

Result<std::unique_ptr<Manager>> FsManager::from_json(const nlohmann::json& j,
                                                      std::shared_ptr<CgroupFs> fs) {
    std::string mode_s;
    std::string cgroup;
    std::vector<Hierarchy> hs;
    try {
        std::string driver;
        json::required(j, "driver", driver);
        if (driver != "cgroupfs") {
            return make_error("cgroup: saved state: unknown cgroup driver \"" + driver + "\"");
        }
        json::required(j, "mode", mode_s);
        json::required(j, "cgroupsPath", cgroup);
        for (const auto& hj : j.at("hierarchies")) {
            hs.push_back(hierarchy_from_json(hj));
        }
    } catch (const std::exception& e) {
        return make_error("cgroup: saved state: " + json::describe(e));
    }
    COVE_ASSIGN(Mode mode, parse_mode(mode_s), "cgroup: saved state");
    for (const auto& h : hs) {
        COVE_TRY(validate_hierarchy(h), "saved state");
    }
    if (mode == Mode::kUnified) {
        if (hs.size() != 1 || !hs[0].unified) {
            return make_error("cgroup: saved state: unified mode needs one cgroup2 hierarchy");
        }
        return std::unique_ptr<Manager>(
            std::make_unique<V2Manager>(std::move(cgroup), std::move(hs[0]), std::move(fs)));
    }
    return std::unique_ptr<Manager>(
        std::make_unique<V1Manager>(mode, std::move(cgroup), std::move(hs), std::move(fs)));
}

Status FsManager::make_dir(const std::string& dir) {
    auto st = fs().mkdir(dir);
    if (st) {
        created_.push_back(dir);
        return {};
    }
    return st.error().code() == EEXIST ? Status{} : st;
}

void FsManager::undo_created() {
    for (auto it = created_.rbegin(); it != created_.rend(); ++it) {
        (void)fs().rmdir(*it);
    }
    created_.clear();
}

std::vector<std::string> FsManager::levels(const Hierarchy& h) {
    std::vector<std::string> out;
    std::string cur = h.mount;
    for (const auto& part : str::split(h.dir.substr(h.mount.size()), '/')) {
        if (part.empty()) {
            continue;
        }
        cur = join_path(cur, part);
        out.push_back(cur);
    }
    return out;
}

}  // namespace cove::cgroups
