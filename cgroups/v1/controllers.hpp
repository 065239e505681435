// The cgroup v1 controllers' writers, one function per controller, each given the container's
// dir in that controller's hierarchy. Only fields that are set are written (runc's rule: a
// zero value is "unset"). `update` selects runc's update-time checks (checkBeforeUpdate).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cgroups/cgroupfs.hpp"
#include "cgroups/resources.hpp"

namespace cove::cgroups::v1 {

bool memory_set(const Resources::Memory& m);
Status set_memory(CgroupFs& fs, const std::string& dir, const Resources::Memory& m, bool update);

bool cpu_set(const Resources::Cpu& c);
Status set_cpu(CgroupFs& fs, const std::string& dir, const Resources::Cpu& c);
Status set_cpuset(CgroupFs& fs, const std::string& dir, const Resources::Cpu& c);

// devices.deny "a" then the rules (default deny), or devices.allow "a" then the rules.
Status set_devices(CgroupFs& fs, const std::string& dir, const std::vector<DeviceRule>& rules);

Status set_pids(CgroupFs& fs, const std::string& dir, const Resources::Pids& p);
bool blkio_set(const Resources::BlockIo& b);
Status set_blkio(CgroupFs& fs, const std::string& dir, const Resources::BlockIo& b);
Status set_hugetlb(CgroupFs& fs,
                   const std::string& dir,
                   const std::vector<Resources::HugepageLimit>& limits);
Status set_net_cls(CgroupFs& fs, const std::string& dir, const Resources::Network& n);
Status set_net_prio(CgroupFs& fs, const std::string& dir, const Resources::Network& n);

// freezer.state FROZEN/THAWED, then wait until the kernel reports it (FREEZING is transient).
Status set_freezer(CgroupFs& fs, const std::string& dir, bool frozen);
Result<bool> freezer_frozen(CgroupFs& fs, const std::string& dir);

// Stats pieces in runc's events "data" shape; each fills its key of out.
void cpu_stats(CgroupFs& fs,
               const std::string& cpu_dir,
               const std::string& cpuacct_dir,
               nlohmann::json& out);
void memory_stats(CgroupFs& fs, const std::string& dir, nlohmann::json& out);
void pids_stats(CgroupFs& fs, const std::string& dir, nlohmann::json& out);
void blkio_stats(CgroupFs& fs, const std::string& dir, nlohmann::json& out);
void hugetlb_stats(CgroupFs& fs, const std::string& dir, nlohmann::json& out);

}  // namespace cove::cgroups::v1
