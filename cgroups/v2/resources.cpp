// V2Manager's resource control: apply/update dispatch, freezer, stats, OOM count, kill_all.
#include <signal.h>

#include "cgroups/files.hpp"
#include "cgroups/v2/controllers.hpp"
#include "cgroups/v2/devices_ebpf.hpp"
#include "cgroups/v2/manager.hpp"

namespace cove::cgroups {

Status V2Manager::set(const Resources& r, bool update) {
    COVE_TRY(v2::check_supported(r), "");
    const std::string& dir = hierarchies_.front().dir;
    CgroupFs& f = fs();
    COVE_TRY(v2::set_pids(f, dir, r.pids), "");
    COVE_TRY(v2::set_memory(f, dir, r.memory, update), "");
    COVE_TRY(v2::set_io(f, dir, r.block_io), "");
    COVE_TRY(v2::set_cpu(f, dir, r.cpu), "");
    if (!r.devices.empty()) {
        COVE_TRY(f.set_device_filter(dir, device_filter_program(r.devices)),
                 "linux.resources.devices");
    }
    COVE_TRY(v2::set_cpuset(f, dir, r.cpu), "");
    COVE_TRY(v2::set_hugetlb(f, dir, r.hugepage_limits), "");
    COVE_TRY(set_rdma(f, dir, r.rdma), "");
    COVE_TRY(v2::set_unified(f, dir, r.unified), "");
    return {};
}

Status V2Manager::freeze(bool frozen) {
    return v2::set_freeze(fs(), hierarchies_.front().dir, frozen);
}

Result<bool> V2Manager::frozen() {
    return v2::is_frozen(fs(), hierarchies_.front().dir);
}

Result<nlohmann::json> V2Manager::stats() {
    return v2::stats(fs(), hierarchies_.front().dir);
}

Result<uint64_t> V2Manager::oom_kill_count() {
    std::string file = join_path(hierarchies_.front().dir, "memory.events");
    COVE_ASSIGN(auto values, read_keyed(fs(), file), "oom events");
    auto it = values.find("oom_kill");
    return it == values.end() ? 0 : it->second;
}

Result<bool> V2Manager::kill_all(int sig) {
    const std::string& dir = hierarchies_.front().dir;
    if (sig == SIGKILL) {
        auto st = fs().write(join_path(dir, "cgroup.kill"), "1");
        if (st) {
            return true;
        }
        if (st.error().code() != ENOENT) {
            return std::move(st).error().wrap("kill");
        }
    }
    auto state = v2::is_frozen(fs(), dir);
    bool was_frozen = state && *state;
    bool froze = !was_frozen && v2::set_freeze(fs(), dir, true).ok();
    Status first;
    auto list = pids();
    if (!list) {
        first = std::move(list).error();
    } else {
        for (pid_t p : *list) {
            auto st = fs().kill(p, sig);
            if (!st && st.error().code() != ESRCH && first) {
                first = std::move(st).error();
            }
        }
    }
    if (froze) {
        COVE_TRY(v2::set_freeze(fs(), dir, false), "kill");
    }
    COVE_TRY(std::move(first), "kill");
    return true;
}

}  // namespace cove::cgroups
