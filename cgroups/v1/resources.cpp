// V1Manager's resource control: apply/update dispatch, freezer, OOM count, kill_all, unified.
#include <signal.h>

#include <algorithm>

#include "cgroups/files.hpp"
#include "cgroups/v1/controllers.hpp"
#include "cgroups/v1/manager.hpp"
#include "runtime/base/strings.hpp"

namespace cove::cgroups {

Result<std::string> V1Manager::dir_for(const char* controller, const char* field) const {
    std::string dir = path(controller);
    if (dir.empty()) {
        return make_error(std::string(field) + ": the " + controller +
                          " cgroup controller is not mounted on this host");
    }
    return dir;
}

Status V1Manager::set(const Resources& r, bool update) {
    CgroupFs& f = fs();
    if (!r.cpu.cpus.empty() || !r.cpu.mems.empty()) {
        COVE_ASSIGN(std::string d, dir_for("cpuset", "linux.resources.cpu.cpus"), "");
        COVE_TRY(v1::set_cpuset(f, d, r.cpu), "");
    }
    if (!r.devices.empty()) {
        COVE_ASSIGN(std::string d, dir_for("devices", "linux.resources.devices"), "");
        COVE_TRY(v1::set_devices(f, d, r.devices), "");
    }
    if (v1::memory_set(r.memory)) {
        COVE_ASSIGN(std::string d, dir_for("memory", "linux.resources.memory"), "");
        COVE_TRY(v1::set_memory(f, d, r.memory, update), "");
    }
    if (v1::cpu_set(r.cpu)) {
        COVE_ASSIGN(std::string d, dir_for("cpu", "linux.resources.cpu"), "");
        COVE_TRY(v1::set_cpu(f, d, r.cpu), "");
    }
    if (cgroups::set(r.pids.limit)) {
        COVE_ASSIGN(std::string d, dir_for("pids", "linux.resources.pids"), "");
        COVE_TRY(v1::set_pids(f, d, r.pids), "");
    }
    if (v1::blkio_set(r.block_io)) {
        COVE_ASSIGN(std::string d, dir_for("blkio", "linux.resources.blockIO"), "");
        COVE_TRY(v1::set_blkio(f, d, r.block_io), "");
    }
    if (!r.hugepage_limits.empty()) {
        COVE_TRY(set_hugepages(r.hugepage_limits), "");
    }
    if (r.network.class_id && *r.network.class_id != 0) {
        COVE_ASSIGN(std::string d, dir_for("net_cls", "linux.resources.network.classID"), "");
        COVE_TRY(v1::set_net_cls(f, d, r.network), "");
    }
    if (!r.network.priorities.empty()) {
        COVE_ASSIGN(std::string d, dir_for("net_prio", "linux.resources.network.priorities"), "");
        COVE_TRY(v1::set_net_prio(f, d, r.network), "");
    }
    if (!r.rdma.empty()) {
        COVE_ASSIGN(std::string d, dir_for("rdma", "linux.resources.rdma"), "");
        COVE_TRY(set_rdma(f, d, r.rdma), "");
    }
    if (!r.unified.empty()) {
        COVE_TRY(set_unified(r.unified), "");
    }
    return {};
}

// Hugepage limits go to the v1 hugetlb hierarchy; on a hybrid host without one whose cgroup2
// offers hugetlb, to cgroup2's hugetlb.<size>.max.
Status V1Manager::set_hugepages(const std::vector<Resources::HugepageLimit>& limits) {
    std::string d = path("hugetlb");
    if (!d.empty()) {
        return v1::set_hugetlb(fs(), d, limits);
    }
    std::string u = path("");
    if (!u.empty() && unified_offers(u, "hugetlb")) {
        for (const auto& h : limits) {
            std::string file = "hugetlb." + h.page_size + ".max";
            COVE_TRY(write_field(fs(), u, file.c_str(), std::to_string(h.limit),
                                 "linux.resources.hugepageLimits[" + h.page_size + "]"),
                     "");
        }
        return {};
    }
    return make_error(
        "linux.resources.hugepageLimits: the hugetlb cgroup controller is not "
        "mounted on this host");
}

bool V1Manager::unified_offers(const std::string& dir, const std::string& controller) {
    auto ctrls = fs().read(join_path(dir, "cgroup.controllers"));
    if (!ctrls) {
        return false;
    }
    auto list = str::split(str::trim(*ctrls), ' ');
    return std::find(list.begin(), list.end(), controller) != list.end();
}

Status V1Manager::set_unified(const std::map<std::string, std::string>& unified) {
    std::string u = path("");
    if (u.empty()) {
        return make_error(
            "linux.resources.unified: this host has no cgroup2 hierarchy "
            "(legacy cgroup v1)");
    }
    for (const auto& [key, value] : unified) {
        std::string field = "linux.resources.unified." + key;
        std::string controller = key.substr(0, key.find('.'));
        if (controller != "cgroup" && !unified_offers(u, controller)) {
            return make_error(field + ": the " + controller +
                              " controller is not available in the cgroup2 hierarchy of this "
                              "hybrid host (" +
                              u + ")");
        }
        COVE_TRY(write_field(fs(), u, key.c_str(), value, field), "");
    }
    return {};
}

Status V1Manager::freeze(bool frozen) {
    COVE_ASSIGN(std::string d, dir_for("freezer", frozen ? "pause" : "resume"), "");
    return v1::set_freezer(fs(), d, frozen);
}

Result<bool> V1Manager::frozen() {
    std::string d = path("freezer");
    if (d.empty()) {
        return false;
    }
    return v1::freezer_frozen(fs(), d);
}

Result<nlohmann::json> V1Manager::stats() {
    nlohmann::json out = nlohmann::json::object();
    v1::cpu_stats(fs(), path("cpu"), path("cpuacct"), out);
    if (auto d = path("memory"); !d.empty()) {
        v1::memory_stats(fs(), d, out);
    }
    if (auto d = path("pids"); !d.empty()) {
        v1::pids_stats(fs(), d, out);
    }
    if (auto d = path("blkio"); !d.empty()) {
        v1::blkio_stats(fs(), d, out);
    }
    if (auto d = path("hugetlb"); !d.empty()) {
        v1::hugetlb_stats(fs(), d, out);
    }
    return out;
}

Result<uint64_t> V1Manager::oom_kill_count() {
    COVE_ASSIGN(std::string d, dir_for("memory", "oom events"), "");
    std::string file = join_path(d, "memory.oom_control");
    COVE_ASSIGN(auto values, read_keyed(fs(), file), "oom events");
    auto it = values.find("oom_kill");
    if (it == values.end()) {
        return make_error("oom events: " + file + " has no oom_kill (kernel older than 4.13)");
    }
    return it->second;
}

Result<bool> V1Manager::kill_all(int sig) {
    std::string freezer = path("freezer");
    auto state = freezer.empty() ? Result<bool>(false) : v1::freezer_frozen(fs(), freezer);
    bool was_frozen = state && *state;
    bool froze = !freezer.empty() && !was_frozen && v1::set_freezer(fs(), freezer, true).ok();
    Status first;
    auto pids_r = pids();
    if (!pids_r) {
        first = std::move(pids_r).error();
    } else {
        for (pid_t p : *pids_r) {
            auto st = fs().kill(p, sig);
            if (!st && st.error().code() != ESRCH && first) {
                first = std::move(st).error();
            }
        }
    }
    // A frozen task dies of SIGKILL only once thawed; a paused container stays paused for
    // other signals.
    if (froze || (was_frozen && sig == SIGKILL)) {
        COVE_TRY(v1::set_freezer(fs(), freezer, false), "kill");
    }
    COVE_TRY(std::move(first), "kill");
    return true;
}

}  // namespace cove::cgroups
