// The host-local lease store, on disk in the reference host-local's format so either plugin
// can take over a node: <dataDir>/<network>/<ip> holds "<containerID>\r\n<ifname>",
// last_reserved_ip.<range set index> holds the last address handed out from that set, and
// an flock on <dataDir>/<network>/lock serialises every invocation on the network.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cni/skel/ip.hpp"
#include "runtime/base/error.hpp"
#include "runtime/base/unique_fd.hpp"

namespace cove::cni::ipam {

struct Lease {
    IpAddr ip;
    std::string container_id;
    std::string ifname;  // empty for leases written by host-local before 0.7 (id only)
};

class Store {
public:
    // Opens <data_dir>/<network>; create: make it (0755) when missing. Without create, a
    // missing directory is an error with code ENOENT (callers treat it as "no leases").
    static Result<Store> open(const std::string& data_dir, const std::string& network, bool create);

    // Takes the network's lock (blocking flock LOCK_EX); it is held until the Store dies.
    Status lock();

    // Creates the lease file for ip (O_EXCL); false when it already exists. Records ip as
    // the last reserved address of range set range_id.
    Result<bool> reserve(const std::string& id,
                         const std::string& ifname,
                         const IpAddr& ip,
                         int range_id);
    std::optional<IpAddr> last_reserved(int range_id) const;
    // Removes the lease file of ip (missing is fine).
    Status release(const IpAddr& ip);
    // Removes every lease of (id, ifname), or of id alone for old id-only leases when none
    // matched; returns how many were removed.
    Result<int> release_by_id(const std::string& id, const std::string& ifname);
    // Every lease in the directory (files whose name is an IP address).
    Result<std::vector<Lease>> leases() const;

    const std::string& dir() const { return dir_; }

private:
    Store() = default;
    std::string dir_;
    UniqueFd dir_fd_;
    UniqueFd lock_fd_;
};

}  // namespace cove::cni::ipam
