// The host-local allocator over one range set: round-robin from the address after the set's
// last reserved one (like the reference host-local), skipping gateways, network and IPv4
// broadcast addresses; a requested address is reserved exactly or refused. The caller holds
// the store's lock.
#pragma once

#include <optional>
#include <set>
#include <string>

#include "cni/ipam/config.hpp"
#include "cni/ipam/store.hpp"
#include "cni/skel/types.hpp"

namespace cove::cni::ipam {

class Allocator {
public:
    Allocator(const RangeSet& set, Store& store, int range_id)
        : set_(set), store_(store), range_id_(range_id) {}

    // Reserves an address for (id, ifname): `requested` if given, else the next free one.
    // Errors: the set is exhausted, the requested address is taken/the gateway/outside the
    // set, or (id, ifname) already holds an address of this set (duplicate ADD).
    Result<IpConfig> get(const std::string& id,
                         const std::string& ifname,
                         const std::optional<IpAddr>& requested);

    // How many addresses of the set are still free (saturating; huge IPv6 sets report
    // UINT64_MAX).
    Result<uint64_t> free_count();

private:
    Result<std::set<IpAddr>> reserved_in_set();

    const RangeSet& set_;
    Store& store_;
    int range_id_;
};

}  // namespace cove::cni::ipam
