// cgroup v1 cpu (shares, CFS quota/period/burst, RT runtime/period, idle) and cpuset.
#include <string>

#include "cgroups/files.hpp"
#include "cgroups/v1/controllers.hpp"

namespace cove::cgroups::v1 {

namespace {

Status set_shares(CgroupFs& fs, const std::string& dir, uint64_t shares) {
    COVE_TRY(
        write_field(fs, dir, "cpu.shares", std::to_string(shares), "linux.resources.cpu.shares"),
        "");
    // The kernel clamps to [2, 262144]; tell the user rather than silently differ (runc).
    COVE_ASSIGN(uint64_t got, read_number(fs, join_path(dir, "cpu.shares")),
                "linux.resources.cpu.shares");
    if (got < shares) {
        return make_error("linux.resources.cpu.shares: the maximum allowed cpu-shares is " +
                          std::to_string(got));
    }
    if (got > shares) {
        return make_error("linux.resources.cpu.shares: the minimum allowed cpu-shares is " +
                          std::to_string(got));
    }
    return {};
}

// A period (or burst) the kernel refuses with EINVAL may only fit once the quota has changed
// (old quota / new period above the parent's): when a quota follows, retry after it.
Result<bool> write_or_defer(CgroupFs& fs,
                            const std::string& dir,
                            const char* name,
                            const std::string& value,
                            bool quota_follows,
                            const char* field,
                            bool enxio_ok = false) {
    auto st = fs.write(join_path(dir, name), value);
    if (st) {
        return false;
    }
    if (enxio_ok && (st.error().code() == ENXIO || st.error().code() == ENOENT)) {
        return false;  // burst is not supported by this kernel: ignored, as runc does
    }
    if (st.error().code() == EINVAL && quota_follows) {
        return true;
    }
    return std::move(st).error().wrap(field);
}

Status set_rt(CgroupFs& fs, const std::string& dir, const Resources::Cpu& c) {
    bool runtime = set(c.realtime_runtime);
    bool retry_period = false;
    if (set(c.realtime_period)) {
        COVE_ASSIGN(retry_period,
                    write_or_defer(fs, dir, "cpu.rt_period_us", std::to_string(*c.realtime_period),
                                   runtime, "linux.resources.cpu.realtimePeriod"),
                    "");
    }
    if (runtime) {
        COVE_TRY(write_field(fs, dir, "cpu.rt_runtime_us", std::to_string(*c.realtime_runtime),
                             "linux.resources.cpu.realtimeRuntime"),
                 "");
        if (retry_period) {
            COVE_TRY(write_field(fs, dir, "cpu.rt_period_us", std::to_string(*c.realtime_period),
                                 "linux.resources.cpu.realtimePeriod"),
                     "");
        }
    }
    return {};
}

}  // namespace

bool cpu_set(const Resources::Cpu& c) {
    return set(c.shares) || set(c.quota) || set(c.period) || c.burst || set(c.realtime_runtime) ||
           set(c.realtime_period) || c.idle;
}

Status set_cpu(CgroupFs& fs, const std::string& dir, const Resources::Cpu& c) {
    // RT first: a task with an RT policy cannot join a cgroup whose rt_runtime is 0.
    COVE_TRY(set_rt(fs, dir, c), "");
    if (set(c.shares)) {
        COVE_TRY(set_shares(fs, dir, *c.shares), "");
    }
    bool quota = set(c.quota);
    bool retry_period = false;
    bool retry_burst = false;
    if (set(c.period)) {
        COVE_ASSIGN(retry_period,
                    write_or_defer(fs, dir, "cpu.cfs_period_us", std::to_string(*c.period), quota,
                                   "linux.resources.cpu.period"),
                    "");
    }
    if (c.burst) {
        COVE_ASSIGN(retry_burst,
                    write_or_defer(fs, dir, "cpu.cfs_burst_us", std::to_string(*c.burst), quota,
                                   "linux.resources.cpu.burst", true),
                    "");
    }
    if (quota) {
        COVE_TRY(write_field(fs, dir, "cpu.cfs_quota_us", std::to_string(*c.quota),
                             "linux.resources.cpu.quota"),
                 "");
        if (retry_period) {
            COVE_TRY(write_field(fs, dir, "cpu.cfs_period_us", std::to_string(*c.period),
                                 "linux.resources.cpu.period"),
                     "");
        }
        if (retry_burst) {
            COVE_TRY(write_field(fs, dir, "cpu.cfs_burst_us", std::to_string(*c.burst),
                                 "linux.resources.cpu.burst"),
                     "");
        }
    }
    if (c.idle) {
        COVE_TRY(
            write_field(fs, dir, "cpu.idle", std::to_string(*c.idle), "linux.resources.cpu.idle"),
            "");
    }
    return {};
}

Status set_cpuset(CgroupFs& fs, const std::string& dir, const Resources::Cpu& c) {
    std::string parent = parent_dir(dir);
    if (!c.cpus.empty()) {
        COVE_TRY(check_cpuset_subset(fs, join_path(parent, "cpuset.effective_cpus"), c.cpus,
                                     "linux.resources.cpu.cpus"),
                 "");
        COVE_TRY(write_field(fs, dir, "cpuset.cpus", c.cpus, "linux.resources.cpu.cpus"), "");
    }
    if (!c.mems.empty()) {
        COVE_TRY(check_cpuset_subset(fs, join_path(parent, "cpuset.effective_mems"), c.mems,
                                     "linux.resources.cpu.mems"),
                 "");
        COVE_TRY(write_field(fs, dir, "cpuset.mems", c.mems, "linux.resources.cpu.mems"), "");
    }
    return {};
}

}  // namespace cove::cgroups::v1
