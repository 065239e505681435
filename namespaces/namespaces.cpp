#include "namespaces/namespaces.hpp"

#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/sched.h>

#include <cstring>

namespace cove::ns {

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

const Kind kKinds[8] = {
    {"user", "user", CLONE_NEWUSER},  {"cgroup", "cgroup", CLONE_NEWCGROUP},
    {"ipc", "ipc", CLONE_NEWIPC},     {"uts", "uts", CLONE_NEWUTS},
    {"network", "net", CLONE_NEWNET}, {"pid", "pid", CLONE_NEWPID},
    {"time", "time", CLONE_NEWTIME},  {"mount", "mnt", CLONE_NEWNS},
};

const Kind* kind_by_spec_name(std::string_view name) {
    for (const auto& k : kKinds) {
        if (name == k.spec_name) {
            return &k;
        }
    }
    return nullptr;
}

Result<Child> clone3(uint64_t flags, int cgroup_fd) {
    struct clone_args args {};
    int pidfd = -1;
    args.flags = flags | CLONE_PIDFD;
    args.pidfd = reinterpret_cast<uint64_t>(&pidfd);
    args.exit_signal = SIGCHLD;
    if (cgroup_fd >= 0) {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = static_cast<uint64_t>(cgroup_fd);
    }
    long pid = ::syscall(SYS_clone3, &args, sizeof args);
    if (pid < 0) {
        return sys_error("clone3");
    }
    Child c;
    c.pid = static_cast<pid_t>(pid);
    if (pid > 0) {
        c.pidfd.reset(pidfd);
    }
    return c;
}

}  // namespace cove::ns
