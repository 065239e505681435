#include "cgroups/manager.hpp"

#include <algorithm>
#include <array>

#include "cgroups/detect.hpp"
#include "cgroups/fs_manager.hpp"
#include "cgroups/path.hpp"
#include "cgroups/v1/manager.hpp"
#include "cgroups/v2/manager.hpp"
#include "runtime/base/fs.hpp"

namespace cove::cgroups {

namespace {

// The v1 hierarchies a container gets a directory in (runc's subsystem list, with rdma).
// Others (name=elogind, misc, debug) are left alone.
constexpr std::array<std::string_view, 14> kManagedV1 = {
    "cpu",  "cpuacct", "cpuset",   "memory",     "devices", "freezer", "blkio",
    "pids", "net_cls", "net_prio", "perf_event", "hugetlb", "rdma",    "name=systemd"};

bool managed(const CgroupMount& m) {
    return std::any_of(m.controllers.begin(), m.controllers.end(), [](const std::string& c) {
        return std::find(kManagedV1.begin(), kManagedV1.end(), c) != kManagedV1.end();
    });
}

Result<Hierarchy> make_hierarchy(const Config& cfg,
                                 const CgroupMount& m,
                                 const ProcCgroups& own,
                                 const std::string& inner) {
    std::string own_path;
    if (inner.front() != '/') {
        std::string key = m.unified ? "" : m.controllers.front();
        auto it = own.find(key);
        if (it == own.end()) {
            return make_error("cgroup: " + cfg.self_cgroup_path + " has no line for " +
                              (m.unified ? std::string("cgroup2") : key));
        }
        own_path = it->second;
    }
    Hierarchy h;
    h.controllers = m.controllers;
    h.unified = m.unified;
    h.mount = join_path(cfg.root, m.mountpoint);
    COVE_ASSIGN(h.dir, hierarchy_dir(cfg.root, m, own_path, inner), "");
    COVE_TRY(validate_hierarchy(h), "");
    return h;
}

// Only the cgroupfs driver exists. The systemd driver (a transient scope unit asked of
// systemd over D-Bus, as runc's and crun's systemd drivers do) is future work; until then
// --systemd-cgroup is refused rather than served by cgroupfs behind systemd's back.
Error systemd_driver(const Config& cfg) {
    auto sp = parse_systemd_path(cfg.cgroups_path, cfg.id);
    if (!sp) {
        return std::move(sp).error();
    }
    if (!fs::exists(join_path(cfg.root, "/run/systemd/system"))) {
        return make_error("systemd cgroup driver: systemd is not running");
    }
    return make_error("systemd cgroup driver: not supported yet (scope " + sp->prefix + "-" +
                      sp->name + ".scope); run without --systemd-cgroup");
}

}  // namespace

Result<std::unique_ptr<Manager>> make_manager(const Config& cfg) {
    if (cfg.systemd) {
        return systemd_driver(cfg);
    }
    COVE_ASSIGN(std::string inner, cgroupfs_path(cfg.cgroups_path, cfg.id), "");
    COVE_ASSIGN(auto mounts, read_cgroup_mounts(cfg.mountinfo_path), "");
    COVE_ASSIGN(Mode mode, mode_of(mounts), "");
    ProcCgroups own;
    if (inner.front() != '/') {
        COVE_ASSIGN(own, read_proc_cgroup(cfg.self_cgroup_path), "");
    }
    auto fs = cfg.fs ? cfg.fs : real_cgroupfs();

    if (mode == Mode::kUnified) {
        COVE_ASSIGN(Hierarchy h, make_hierarchy(cfg, *unified_mount(mounts), own, inner), "");
        return std::unique_ptr<Manager>(
            std::make_unique<V2Manager>(std::move(inner), std::move(h), std::move(fs)));
    }
    std::vector<Hierarchy> hs;
    for (const auto& m : mounts) {
        if (!m.unified && managed(m)) {
            COVE_ASSIGN(Hierarchy h, make_hierarchy(cfg, m, own, inner), "");
            hs.push_back(std::move(h));
        }
    }
    // runc refuses to run without the devices hierarchy: device access would be unconfined.
    bool devices = std::any_of(hs.begin(), hs.end(), [](const Hierarchy& h) {
        return std::find(h.controllers.begin(), h.controllers.end(), "devices") !=
               h.controllers.end();
    });
    if (!devices) {
        return make_error("cgroup: the v1 devices controller is not mounted");
    }
    if (mode == Mode::kHybrid) {
        COVE_ASSIGN(Hierarchy h, make_hierarchy(cfg, *unified_mount(mounts), own, inner), "");
        hs.push_back(std::move(h));
    }
    return std::unique_ptr<Manager>(
        std::make_unique<V1Manager>(mode, std::move(inner), std::move(hs), std::move(fs)));
}

Result<std::unique_ptr<Manager>> load_manager(const nlohmann::json& saved,
                                              std::shared_ptr<CgroupFs> fs) {
    return FsManager::from_json(saved, fs ? std::move(fs) : real_cgroupfs());
}

namespace {
Error unsupported(const char* what) {
    return make_error(std::string("cgroup: ") + what + ": not supported by this cgroup manager");
}
}  // namespace

Status Manager::apply(const Resources&) {
    return unsupported("linux.resources");
}
Status Manager::update(const Resources&) {
    return unsupported("update");
}
Status Manager::freeze(bool) {
    return unsupported("freeze");
}
Result<bool> Manager::frozen() {
    return unsupported("freezer state");
}
Result<nlohmann::json> Manager::stats() {
    return unsupported("stats");
}
Result<uint64_t> Manager::oom_kill_count() {
    return unsupported("oom events");
}
Result<bool> Manager::kill_all(int) {
    return false;
}

}  // namespace cove::cgroups
