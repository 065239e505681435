// The v2 backend for unified hosts: one directory in the cgroup2 hierarchy. The child is
// cloned straight into it (clone3 CLONE_INTO_CGROUP with clone_fd()), so it never runs a
// single instruction in the parent's cgroup.
#pragma once

#include <memory>
#include <string>

#include "cgroups/fs_manager.hpp"

namespace cove::cgroups {

class V2Manager : public FsManager {
public:
    V2Manager(std::string cgroup, Hierarchy hierarchy, std::shared_ptr<CgroupFs> fs)
        : FsManager(Mode::kUnified, std::move(cgroup), {std::move(hierarchy)}, std::move(fs)) {}

    // mkdir every level; in the mount root and every level above the leaf, enable in
    // cgroup.subtree_control the controllers its cgroup.controllers offers (runc's
    // CreateCgroupPath), so the leaf gets them all. The leaf's own subtree_control stays
    // empty: a cgroup with tasks cannot enable controllers for children ("no internal
    // processes"). Enabling is best effort, as in runc: what a delegated or busy level
    // refuses fails later, when a resource limit needs it.
    Status create() override;
    Result<UniqueFd> clone_fd() override;

    Status freeze(bool frozen) override;
    Result<bool> frozen() override;
    Result<nlohmann::json> stats() override;
    // memory.events oom_kill.
    Result<uint64_t> oom_kill_count() override;
    // SIGKILL with cgroup.kill (5.14+): one write. Otherwise freeze, signal every task, thaw.
    // Returns true either way.
    Result<bool> kill_all(int sig) override;

private:
    // Refuses v1-only fields first (nothing is written then), then writes in runc's order:
    // pids, memory, io, cpu, devices (an eBPF program), cpuset, hugetlb, rdma, unified.
    Status set(const Resources& r, bool update) override;
    void enable_controllers(const std::string& dir);
};

}  // namespace cove::cgroups
