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

    Status freeze(bool frozen) override;
    Result<bool> frozen() override;
    Result<nlohmann::json> stats() override;
    // memory.oom_control's oom_kill (kernel 4.13+).
    Result<uint64_t> oom_kill_count() override;
    // runc's v1 way: freeze, signal every task, thaw (a frozen task cannot fork away from the
    // signal, and SIGKILL lands once thawed). Returns true: the caller has nothing left to do.
    Result<bool> kill_all(int sig) override;

private:
    // Every set field to its controller's hierarchy, in runc's subsystem order (cpuset,
    // devices, memory, cpu, pids, blkio, hugetlb, net_cls, net_prio, rdma), then `unified`
    // keys to the cgroup2 dir (hybrid only, and only for controllers it offers). A field whose
    // controller is not mounted is an error naming both.
    Status set(const Resources& r, bool update) override;
    // The dir of controller, or an error naming the field that needs it.
    Result<std::string> dir_for(const char* controller, const char* field) const;
    Status set_unified(const std::map<std::string, std::string>& unified);
    Status set_hugepages(const std::vector<Resources::HugepageLimit>& limits);
    // dir's cgroup.controllers lists controller (cgroup2).
    bool unified_offers(const std::string& dir, const std::string& controller);
    Status create_in(const Hierarchy& h);
    Status copy_cpuset_from_parent(const std::string& dir, const std::string& parent);
};

}  // namespace cove::cgroups
