// cgroup v2 cpu and cpuset.
#include <string>

#include "cgroups/files.hpp"
#include "cgroups/v2/controllers.hpp"

namespace cove::cgroups::v2 {

Status set_cpu(CgroupFs& fs, const std::string& dir, const Resources::Cpu& c) {
    if (set(c.shares)) {
        COVE_TRY(write_field(fs, dir, "cpu.weight", std::to_string(cpu_shares_to_weight(*c.shares)),
                             "linux.resources.cpu.shares"),
                 "");
    }
    if (c.idle) {
        COVE_TRY(
            write_field(fs, dir, "cpu.idle", std::to_string(*c.idle), "linux.resources.cpu.idle"),
            "");
    }
    bool quota = set(c.quota) || set(c.period);
    bool retry_burst = false;
    if (c.burst) {
        auto st = fs.write(join_path(dir, "cpu.max.burst"), std::to_string(*c.burst));
        if (!st) {
            int e = st.error().code();
            // ENXIO/ENOENT: no burst in this kernel (ignored, as runc does); EINVAL: it may
            // only fit the new quota, written next.
            if (e == EINVAL && set(c.quota)) {
                retry_burst = true;
            } else if (e != ENXIO && e != ENOENT) {
                return std::move(st).error().wrap("linux.resources.cpu.burst");
            }
        }
    }
    if (quota) {
        std::string v = c.quota && *c.quota > 0 ? std::to_string(*c.quota) : "max";
        if (set(c.period)) {
            v += " " + std::to_string(*c.period);
        }
        COVE_TRY(write_field(fs, dir, "cpu.max", v, "linux.resources.cpu.quota"), "");
        if (retry_burst) {
            COVE_TRY(write_field(fs, dir, "cpu.max.burst", std::to_string(*c.burst),
                                 "linux.resources.cpu.burst"),
                     "");
        }
    }
    return {};
}

Status set_cpuset(CgroupFs& fs, const std::string& dir, const Resources::Cpu& c) {
    std::string parent = parent_dir(dir);
    if (!c.cpus.empty()) {
        COVE_TRY(check_cpuset_subset(fs, join_path(parent, "cpuset.cpus.effective"), c.cpus,
                                     "linux.resources.cpu.cpus"),
                 "");
        COVE_TRY(write_field(fs, dir, "cpuset.cpus", c.cpus, "linux.resources.cpu.cpus"), "");
    }
    if (!c.mems.empty()) {
        COVE_TRY(check_cpuset_subset(fs, join_path(parent, "cpuset.mems.effective"), c.mems,
                                     "linux.resources.cpu.mems"),
                 "");
        COVE_TRY(write_field(fs, dir, "cpuset.mems", c.mems, "linux.resources.cpu.mems"), "");
    }
    return {};
}

}  // namespace cove::cgroups::v2
