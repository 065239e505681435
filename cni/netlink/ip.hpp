// IP addresses and prefixes as values (IPv4 and IPv6): parse from and format to the text
// CNI uses ("10.1.0.5/24", "fd00::5/64"), network arithmetic for gateways and routes.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "runtime/base/error.hpp"

namespace cove::nl {

struct IpAddr {
    int family = 0;  // AF_INET or AF_INET6; 0: unset
    std::array<uint8_t, 16> bytes{};

    static Result<IpAddr> parse(std::string_view text);
    size_t size() const;  // 4 or 16
    bool is_v4() const;
    std::string to_string() const;
    // The address plus n (wraps within the family).
    IpAddr next(uint32_t n = 1) const;
    bool operator==(const IpAddr& o) const = default;
};

struct IpNet {
    IpAddr addr;         // the host address (not masked)
    int prefix_len = 0;  // 0..32 or 0..128

    // "10.1.0.5/24"; a bare address is a host prefix (/32, /128).
    static Result<IpNet> parse(std::string_view text);
    // The address with host bits cleared.
    IpAddr network() const;
    IpNet masked() const { return IpNet{network(), prefix_len}; }
    bool contains(const IpAddr& a) const;
    std::string to_string() const;
    bool operator==(const IpNet& o) const = default;
};

}  // namespace cove::nl
