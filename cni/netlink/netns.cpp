#include "cni/netlink/netns.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/vfs.h>

#include <linux/magic.h>
#include <linux/nsfs.h>

#include <cstdlib>

#include "runtime/base/log.hpp"

namespace cove::nl {

namespace {

Status check_netns_fd(int fd, const std::string& name) {
    struct statfs st = {};
    if (::fstatfs(fd, &st) != 0) {
        return sys_error("netns " + name + ": statfs");
    }
    // /proc/<pid>/ns/net is nsfs too; a plain file or a tmpfs bind-mount source is not.
    if (st.f_type != NSFS_MAGIC && st.f_type != PROC_SUPER_MAGIC) {
        return make_error("netns " + name + ": not a network namespace (not on nsfs)");
    }
    int type = ::ioctl(fd, NS_GET_NSTYPE);
    if (type < 0) {
        return sys_error("netns " + name + ": NS_GET_NSTYPE");
    }
    if (type != CLONE_NEWNET) {
        return make_error("netns " + name + ": not a network namespace");
    }
    return ok_status();
}

}  // namespace

Result<UniqueFd> open_netns(const std::string& path) {
    if (path.empty()) {
        return make_error("netns: empty path");
    }
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        return sys_error("netns " + path + ": open");
    }
    COVE_TRY(check_netns_fd(fd.get(), path), "");
    return fd;
}

Result<ScopedNetns> ScopedNetns::enter(const std::string& path) {
    COVE_ASSIGN(UniqueFd fd, open_netns(path), "");
    return enter_fd(fd.get(), path);
}

Result<ScopedNetns> ScopedNetns::enter_fd(int netns_fd, const std::string& name) {
    COVE_TRY(check_netns_fd(netns_fd, name), "");
    UniqueFd orig(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    if (!orig) {
        return sys_error("netns: open /proc/thread-self/ns/net");
    }
    if (::setns(netns_fd, CLONE_NEWNET) != 0) {
        return sys_error("netns " + name + ": setns");
    }
    return ScopedNetns(std::move(orig));
}

ScopedNetns::~ScopedNetns() {
    if (!orig_) {
        return;  // moved from
    }
    if (::setns(orig_.get(), CLONE_NEWNET) != 0) {
        log::error(sys_error("netns: setns back to the original namespace").to_string());
        std::abort();
    }
}

}  // namespace cove::nl
