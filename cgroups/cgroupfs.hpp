// CgroupFs: the few file operations the managers make on a cgroup filesystem, behind one
// small interface so unit tests can run the managers on a temp dir that emulates the kernel
// (control files appearing on mkdir, rmdir of a dir holding files). The real one is plain
// syscalls; every fd is O_CLOEXEC. Also the tree helpers built on it: join, list, remove.
#pragma once

#include <sys/types.h>

#include <linux/bpf.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/base/error.hpp"
#include "runtime/base/unique_fd.hpp"

namespace cove::cgroups {

class CgroupFs {
public:
    virtual ~CgroupFs() = default;
    // Errors carry the errno (EEXIST, ENOENT, EBUSY matter to callers) and name the path.
    virtual Status mkdir(const std::string& dir);
    virtual Status rmdir(const std::string& dir);
    virtual Result<std::string> read(const std::string& file);
    // One open + write of the whole value: cgroup files take a value per write(2).
    virtual Status write(const std::string& file, std::string_view data);
    // Names of the sub-directories (sub-cgroups) of dir.
    virtual Result<std::vector<std::string>> subdirs(const std::string& dir);
    // O_RDONLY|O_DIRECTORY|O_CLOEXEC, as clone3's CLONE_INTO_CGROUP wants.
    virtual Result<UniqueFd> open_dir(const std::string& dir);
    // kill(2); a seam so tests of kill_all on a fake tree signal nothing real.
    virtual Status kill(pid_t pid, int sig);
    // cgroup v2 device control: loads prog (BPF_PROG_TYPE_CGROUP_DEVICE), attaches it to
    // dir (BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI) and detaches the programs attached before,
    // so an update replaces the filter without a moment of no filter.
    virtual Status set_device_filter(const std::string& dir, const std::vector<bpf_insn>& prog);
};

std::shared_ptr<CgroupFs> real_cgroupfs();

// Writes pid to dir/cgroup.procs.
Status write_pid(CgroupFs& fs, const std::string& dir, pid_t pid);

// Appends the pids in dir/cgroup.procs and in every sub-cgroup's. ENOENT of dir itself
// yields nothing.
Status collect_pids(CgroupFs& fs, const std::string& dir, std::vector<pid_t>& out);

struct RemoveRetry {
    int attempts = 7;         // rmdir attempts on EBUSY, per directory
    int first_delay_ms = 10;  // doubled after each attempt: about 1.3 s in all
};

// Removes dir and its sub-cgroups, deepest first (runc's RemovePath). A missing dir is
// fine. rmdir is retried on EBUSY: tasks that were just killed may still be exiting.
Status remove_cgroup(CgroupFs& fs, const std::string& dir, const RemoveRetry& retry = {});

// "a/b" joined under "/x" -> "/x/a/b"; tolerant of leading/trailing slashes.
std::string join_path(std::string_view base, std::string_view rel);

}  // namespace cove::cgroups
