// The cgroup v2 controllers' writers and stats readers, each given the container's cgroup2
// dir. Only fields that are set are written (runc's rule: a zero value is "unset").
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cgroups/cgroupfs.hpp"
#include "cgroups/resources.hpp"

namespace cove::cgroups::v2 {

// Fields cgroup v2 has no file for: realtime scheduling and net_cls/net_prio are refused
// (runc refuses rt too); kernel memory is ignored (as runc: see resource_warnings).
Status check_supported(const Resources& r);

Status set_pids(CgroupFs& fs, const std::string& dir, const Resources::Pids& p);
// memory.swap.max (runc's conversion), memory.max, memory.low; checkBeforeUpdate against
// memory.current.
Status set_memory(CgroupFs& fs, const std::string& dir, const Resources::Memory& m, bool update);
// io.weight (or io.bfq.weight and its per-device lines when BFQ is there), io.max per device.
Status set_io(CgroupFs& fs, const std::string& dir, const Resources::BlockIo& b);
// cpu.weight (from shares), cpu.idle, cpu.max.burst, cpu.max "quota period".
Status set_cpu(CgroupFs& fs, const std::string& dir, const Resources::Cpu& c);
Status set_cpuset(CgroupFs& fs, const std::string& dir, const Resources::Cpu& c);
Status set_hugetlb(CgroupFs& fs,
                   const std::string& dir,
                   const std::vector<Resources::HugepageLimit>& limits);
// The raw keys, last, so they override what the typed fields wrote.
Status set_unified(CgroupFs& fs,
                   const std::string& dir,
                   const std::map<std::string, std::string>& unified);

// cgroup.freeze, then wait for cgroup.events "frozen".
Status set_freeze(CgroupFs& fs, const std::string& dir, bool frozen);
Result<bool> is_frozen(CgroupFs& fs, const std::string& dir);

// runc's events "data" object from cpu.stat, memory.*, pids.*, io.stat, hugetlb.*.
nlohmann::json stats(CgroupFs& fs, const std::string& dir);

}  // namespace cove::cgroups::v2
