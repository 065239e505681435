// What the host mounted: cgroup and cgroup2 entries of /proc/self/mountinfo, the mode they
// make (unified, hybrid, legacy), and the caller's own cgroups from /proc/self/cgroup.
// Pure parsing plus the two file reads, so tests feed fixtures.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "cgroups/manager.hpp"
#include "runtime/base/error.hpp"

namespace cove::cgroups {

struct CgroupMount {
    std::string mountpoint;  // where it is mounted (mountinfo field 5, unescaped)
    std::string root;        // the cgroup mounted there (field 4): "/" unless nested
    bool unified = false;    // cgroup2
    // v1 only: "cpu", "cpuacct", "name=systemd", ... from the super options.
    std::vector<std::string> controllers;
};

// cgroup and cgroup2 mounts in mountinfo order; a v1 hierarchy mounted twice is listed once.
std::vector<CgroupMount> parse_cgroup_mounts(std::string_view mountinfo);
Result<std::vector<CgroupMount>> read_cgroup_mounts(const std::string& mountinfo_path);

// The mode the mounts make; an error when there is no cgroup mount at all.
Result<Mode> mode_of(const std::vector<CgroupMount>& mounts);

// The cgroup2 mount to use: the one at /sys/fs/cgroup, then /sys/fs/cgroup/unified, then
// the first. Null when there is none.
const CgroupMount* unified_mount(const std::vector<CgroupMount>& mounts);

// /proc/<pid>/cgroup: every v1 controller ("memory", "name=systemd") -> its cgroup path;
// the cgroup2 line ("0::/path") under "".
using ProcCgroups = std::map<std::string, std::string>;
Result<ProcCgroups> parse_proc_cgroup(std::string_view text);
Result<ProcCgroups> read_proc_cgroup(const std::string& path);

}  // namespace cove::cgroups
