#include "cni/ipam/allocator.hpp"

#include <cstdint>
#include <limits>

namespace cove::cni::ipam {

namespace {

using U128 = unsigned __int128;

U128 as_int(const IpAddr& a) {
    U128 v = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        v = (v << 8) | a.bytes[i];
    }
    return v;
}

// Addresses of r that are never handed out although inside [start, end].
uint64_t excluded_in(const Range& r) {
    uint64_t n = 0;
    IpAddr net = r.subnet.network();
    if (r.contains(net)) {
        ++n;
    }
    if (r.gateway != net && r.contains(r.gateway)) {
        ++n;
    }
    IpAddr bcast = r.subnet.last();
    if (bcast.is_v4() && bcast != r.gateway && r.contains(bcast)) {
        ++n;
    }
    return n;
}

// Allocatable addresses of set that are not in reserved (saturating at UINT64_MAX).
uint64_t count_free(const RangeSet& set, const std::set<IpAddr>& reserved) {
    constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
    uint64_t total = 0;
    for (const auto& r : set) {
        U128 size = as_int(r.end) - as_int(r.start) + 1;
        if (size >= kMax) {
            return kMax;
        }
        uint64_t s = static_cast<uint64_t>(size);
        uint64_t used = excluded_in(r);
        for (const auto& ip : reserved) {
            if (r.allocatable(ip)) {
                ++used;
            }
        }
        uint64_t avail = s > used ? s - used : 0;
        total = total > kMax - avail ? kMax : total + avail;
    }
    return total;
}

}  // namespace

Result<std::set<IpAddr>> Allocator::reserved_in_set() {
    COVE_ASSIGN(auto leases, store_.leases(), "");
    std::set<IpAddr> out;
    for (const auto& l : leases) {
        if (range_for(set_, l.ip) != nullptr) {
            out.insert(l.ip);
        }
    }
    return out;
}

Result<uint64_t> Allocator::free_count() {
    COVE_ASSIGN(auto reserved, reserved_in_set(), "");
    return count_free(set_, reserved);
}

Result<IpConfig> Allocator::get(const std::string& id,
                                const std::string& ifname,
                                const std::optional<IpAddr>& requested) {
    const std::string set_name = range_set_string(set_);
    if (requested) {
        const Range* r = range_for(set_, *requested);
        if (r == nullptr) {
            return cni_error(kErrInvalidNetworkConfig, "requested IP address " +
                                                           requested->to_string() +
                                                           " is not in range set " + set_name);
        }
        if (*requested == r->gateway) {
            return make_error("requested IP address " + requested->to_string() +
                              " is the subnet's gateway");
        }
        if (!r->allocatable(*requested)) {
            return make_error("requested IP address " + requested->to_string() +
                              " is the network or broadcast address of " + r->subnet.to_string());
        }
        COVE_ASSIGN(bool ok, store_.reserve(id, ifname, *requested, range_id_), "");
        if (!ok) {
            return make_error("requested IP address " + requested->to_string() +
                              " is not available in range set " + set_name);
        }
        return IpConfig{IpNet{*requested, r->subnet.prefix}, r->gateway, std::nullopt};
    }

    // A second ADD for the same attachment is a runtime bug; SPEC.md forbids it.
    COVE_ASSIGN(auto leases, store_.leases(), "");
    std::set<IpAddr> reserved;
    for (const auto& l : leases) {
        if (range_for(set_, l.ip) == nullptr) {
            continue;
        }
        if (l.container_id == id && l.ifname == ifname) {
            return make_error(l.ip.to_string() + " has been allocated to " + id + "/" + ifname +
                              ", duplicate allocation is not allowed");
        }
        reserved.insert(l.ip);
    }
    if (count_free(set_, reserved) == 0) {
        return make_error("no IP addresses available in range set " + set_name);
    }

    // Round robin: start after the last address reserved from this set (when it is still
    // in the set), else at the first range's start. The walk wraps once around the set;
    // it is bounded by the reserved and excluded addresses it has to skip.
    size_t ri = 0;
    IpAddr cur = set_[0].start;
    bool advance_first = false;
    if (auto last = store_.last_reserved(range_id_)) {
        for (size_t i = 0; i < set_.size(); ++i) {
            if (set_[i].contains(*last)) {
                ri = i;
                cur = *last;
                advance_first = true;
                break;
            }
        }
    }
    auto advance = [&] {
        if (cur == set_[ri].end) {
            ri = (ri + 1) % set_.size();
            cur = set_[ri].start;
        } else {
            cur = cur.next();
        }
    };
    if (advance_first) {
        advance();
    }
    const IpAddr first = cur;
    for (;;) {
        const Range& r = set_[ri];
        if (r.allocatable(cur) && reserved.count(cur) == 0) {
            COVE_ASSIGN(bool ok, store_.reserve(id, ifname, cur, range_id_), "");
            if (ok) {
                return IpConfig{IpNet{cur, r.subnet.prefix}, r.gateway, std::nullopt};
            }
        }
        advance();
        if (cur == first) {
            break;
        }
    }
    return make_error("no IP addresses available in range set " + set_name);
}

}  // namespace cove::cni::ipam
