// Network namespaces by path (what CNI_NETNS names): open_netns checks the path really is a
// network namespace; ScopedNetns enters one for the length of a scope and setns()es back to
// the namespace it came from when the scope ends. Every fd is O_CLOEXEC.
//
// Netlink sockets keep the namespace they were created in, so the usual pattern is: enter,
// open a Netlink (and read /proc/sys) inside, leave; the socket still works afterwards.
#pragma once

#include <string>

#include "runtime/base/error.hpp"
#include "runtime/base/unique_fd.hpp"

namespace cove::nl {

// Opens path O_RDONLY|O_CLOEXEC and checks it is a network namespace (nsfs, CLONE_NEWNET).
Result<UniqueFd> open_netns(const std::string& path);

class ScopedNetns {
public:
    // Enters the network namespace at path (checked as with open_netns).
    static Result<ScopedNetns> enter(const std::string& path);
    static Result<ScopedNetns> enter_fd(int netns_fd, const std::string& name);

    ScopedNetns(ScopedNetns&& o) noexcept = default;
    ScopedNetns& operator=(ScopedNetns&&) = delete;
    ScopedNetns(const ScopedNetns&) = delete;
    ScopedNetns& operator=(const ScopedNetns&) = delete;
    // Returns to the original namespace; aborts if that fails, since carrying on in the
    // container's namespace would configure the wrong network.
    ~ScopedNetns();

private:
    explicit ScopedNetns(UniqueFd orig) : orig_(std::move(orig)) {}
    UniqueFd orig_;
};

}  // namespace cove::nl
