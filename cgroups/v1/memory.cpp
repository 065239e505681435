// cgroup v1 memory: limit_in_bytes, memsw.limit_in_bytes, soft_limit_in_bytes, swappiness,
// oom_control. Kernel memory (kmem) is ignored, as runc ignores it.
#include <string>

#include "cgroups/files.hpp"
#include "cgroups/v1/controllers.hpp"

namespace cove::cgroups::v1 {

namespace {

constexpr const char* kLimit = "memory.limit_in_bytes";
constexpr const char* kSwap = "memory.memsw.limit_in_bytes";

Status write_limit(CgroupFs& fs, const std::string& dir, int64_t limit) {
    if (limit == 0) {
        return {};
    }
    auto st = fs.write(join_path(dir, kLimit), std::to_string(limit));
    if (!st && st.error().code() == EBUSY) {
        // The kernel could not reclaim down to the new limit (runc's message).
        auto usage = read_number(fs, join_path(dir, "memory.usage_in_bytes"));
        auto peak = read_number(fs, join_path(dir, "memory.max_usage_in_bytes"));
        return make_error("linux.resources.memory.limit: unable to set memory limit to " +
                          std::to_string(limit) +
                          " (current usage: " + (usage ? std::to_string(*usage) : "?") +
                          ", peak usage: " + (peak ? std::to_string(*peak) : "?") + ")");
    }
    COVE_TRY(std::move(st), "linux.resources.memory.limit");
    return {};
}

Status write_swap(CgroupFs& fs, const std::string& dir, int64_t swap) {
    if (swap == 0) {
        return {};
    }
    return write_field(fs, dir, kSwap, std::to_string(swap), "linux.resources.memory.swap");
}

}  // namespace

bool memory_set(const Resources::Memory& m) {
    return m.limit || m.reservation || m.swap || m.swappiness || m.disable_oom_killer;
}

Status set_memory(CgroupFs& fs, const std::string& dir, const Resources::Memory& m, bool update) {
    int64_t limit = m.limit.value_or(0);
    int64_t swap = m.swap.value_or(0);
    bool has_swap_file = file_exists(fs, join_path(dir, kSwap));
    if (update && m.check_before_update.value_or(false) && limit > 0) {
        COVE_ASSIGN(uint64_t usage, read_number(fs, join_path(dir, "memory.usage_in_bytes")),
                    "linux.resources.memory.checkBeforeUpdate");
        if (static_cast<uint64_t>(limit) < usage) {
            return make_error("linux.resources.memory.limit: rejecting memory limit " +
                              std::to_string(limit) + " below the current usage " +
                              std::to_string(usage) + " (checkBeforeUpdate)");
        }
    }
    if (!has_swap_file) {
        // No swap accounting (swapaccount=0): memory+swap cannot be limited. Asking for no
        // swap (swap == limit) or unlimited swap is satisfied by the memory limit alone.
        if (swap != 0 && swap != -1 && swap != limit) {
            return make_error("linux.resources.memory.swap: this kernel has no swap accounting (" +
                              join_path(dir, kSwap) + " is missing; boot with swapaccount=1)");
        }
        swap = 0;
    } else if (limit == -1 && swap == 0) {
        // An unlimited memory without a swap value means unlimited memory+swap too.
        swap = -1;
    }
    bool swap_first = false;
    if (limit != 0 && swap != 0) {
        // memsw must stay >= limit at every step: raise memsw first when it grows.
        COVE_ASSIGN(uint64_t cur, read_number(fs, join_path(dir, kLimit)),
                    "linux.resources.memory.limit");
        swap_first = swap == -1 || cur < static_cast<uint64_t>(swap);
    }
    if (swap_first) {
        COVE_TRY(write_swap(fs, dir, swap), "");
        COVE_TRY(write_limit(fs, dir, limit), "");
    } else {
        COVE_TRY(write_limit(fs, dir, limit), "");
        COVE_TRY(write_swap(fs, dir, swap), "");
    }
    if (set(m.reservation)) {
        COVE_TRY(write_field(fs, dir, "memory.soft_limit_in_bytes", std::to_string(*m.reservation),
                             "linux.resources.memory.reservation"),
                 "");
    }
    if (m.disable_oom_killer) {
        COVE_TRY(write_field(fs, dir, "memory.oom_control", *m.disable_oom_killer ? "1" : "0",
                             "linux.resources.memory.disableOOMKiller"),
                 "");
    }
    if (m.swappiness) {
        COVE_TRY(write_field(fs, dir, "memory.swappiness", std::to_string(*m.swappiness),
                             "linux.resources.memory.swappiness"),
                 "");
    }
    // useHierarchy is left alone, as runc does: kernels >= 5.x always use the hierarchy and
    // refuse a write of 0.
    return {};
}

}  // namespace cove::cgroups::v1
