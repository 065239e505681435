// cgroup v2 memory and pids.
#include <string>

#include "cgroups/files.hpp"
#include "cgroups/v2/controllers.hpp"

namespace cove::cgroups::v2 {

Status set_pids(CgroupFs& fs, const std::string& dir, const Resources::Pids& p) {
    if (!set(p.limit)) {
        return {};
    }
    return write_field(fs, dir, "pids.max", max_or(*p.limit), "linux.resources.pids.limit");
}

Status set_memory(CgroupFs& fs, const std::string& dir, const Resources::Memory& m, bool update) {
    int64_t limit = m.limit.value_or(0);
    int64_t swap = m.swap.value_or(0);
    if (limit == 0 && swap == 0 && !set(m.reservation)) {
        return {};
    }
    if (update && m.check_before_update.value_or(false) && limit > 0) {
        COVE_ASSIGN(uint64_t usage, read_number(fs, join_path(dir, "memory.current")),
                    "linux.resources.memory.checkBeforeUpdate");
        if (usage >= static_cast<uint64_t>(limit)) {
            return make_error("linux.resources.memory.limit: rejecting memory limit " +
                              std::to_string(limit) + " below the current usage " +
                              std::to_string(usage) + " (checkBeforeUpdate)");
        }
    }
    COVE_ASSIGN(std::string swap_max, memory_swap_to_v2(swap, limit), "");
    if (!swap_max.empty()) {
        auto st = fs.write(join_path(dir, "memory.swap.max"), swap_max);
        // Without swap (no memory.swap.max), "no swap" and "unlimited swap" both hold.
        if (!st && !(st.error().code() == ENOENT && (swap_max == "max" || swap_max == "0"))) {
            return std::move(st).error().wrap("linux.resources.memory.swap");
        }
    }
    if (limit != 0) {
        COVE_TRY(write_field(fs, dir, "memory.max", max_or(limit), "linux.resources.memory.limit"),
                 "");
    }
    if (set(m.reservation)) {
        COVE_TRY(write_field(fs, dir, "memory.low", max_or(*m.reservation),
                             "linux.resources.memory.reservation"),
                 "");
    }
    return {};
}

}  // namespace cove::cgroups::v2
