// The v1 backend for legacy and hybrid hosts: one directory per mounted hierarchy (cpu,
// cpuacct, cpuset, memory, devices, freezer, blkio, pids, net_cls/net_prio, perf_event,
// hugetlb, rdma, name=systemd) and, on hybrid hosts, in the cgroup2 mount too, as runc does.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cgroups/fs_manager.hpp"

namespace cove::cgroups {

class V1Manager : public FsManager {
public:
    V1Manager(Mode mode,
              std::string cgroup,
              std::vector<Hierarchy> hierarchies,
              std::shared_ptr<CgroupFs> fs)
        : FsManager(mode, std::move(cgroup), std::move(hierarchies), std::move(fs)) {}

    // mkdir every level in every hierarchy. In cpuset, a level's empty cpuset.cpus and
    // cpuset.mems are filled from its parent, top down, before anything can join: a task
    // cannot enter a cpuset without cpus or mems (ENOSPC).
    Status create() override;
    // v1 has no CLONE_INTO_CGROUP: the caller joins the child with add_pid().
    Result<UniqueFd> clone_fd() override { return UniqueFd(); }

private:
    Status create_in(const Hierarchy& h);
    Status copy_cpuset_from_parent(const std::string& dir, const std::string& parent);
};

}  // namespace cove::cgroups
