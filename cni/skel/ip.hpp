// IP addresses and prefixes for the CNI plugins: IpAddr (v4 or v6, 16 bytes, v4 in the low 4),
// IpNet ("10.1.2.3/24": an address with its prefix length, host bits kept, as CNI results
// carry them), parsing and printing in the forms Go's net package uses, and the arithmetic the
// IPAM allocator needs (mask, next/prev, contains, compare).
#pragma once

#include <sys/socket.h>

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cove::cni {

struct IpAddr {
    int family = AF_INET;  // AF_INET or AF_INET6
    // Network byte order. For AF_INET only bytes[0..3] are used, the rest stay zero.
    std::array<uint8_t, 16> bytes{};

    bool is_v4() const { return family == AF_INET; }
    int bits() const { return is_v4() ? 32 : 128; }
    size_t size() const { return is_v4() ? 4 : 16; }
    const uint8_t* data() const { return bytes.data(); }

    // "10.0.0.1", "fd00::1"; an IPv4-mapped IPv6 text ("::ffff:10.0.0.1") parses as IPv4,
    // like Go's net.ParseIP.
    static std::optional<IpAddr> parse(std::string_view text);
    static IpAddr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d);
    std::string to_string() const;

    // Address arithmetic within the family; wraps around at the ends.
    IpAddr next() const;
    IpAddr prev() const;
    // The address with the low (bits() - prefix) bits cleared / set.
    IpAddr masked(int prefix) const;
    IpAddr last_in(int prefix) const;

    friend bool operator==(const IpAddr& a, const IpAddr& b) = default;
    // Orders by family first (v4 before v6), then numerically.
    friend std::strong_ordering operator<=>(const IpAddr& a, const IpAddr& b);
};

struct IpNet {
    IpAddr ip;
    int prefix = 0;

    // "10.1.2.3/24" (host bits kept); a bare address is refused unless allow_bare, in which
    // case it gets the full-length prefix (/32 or /128).
    static std::optional<IpNet> parse(std::string_view text, bool allow_bare = false);
    std::string to_string() const;

    IpAddr network() const { return ip.masked(prefix); }
    // Last address of the prefix (the IPv4 broadcast address).
    IpAddr last() const { return ip.last_in(prefix); }
    bool contains(const IpAddr& a) const {
        return a.family == ip.family && a.masked(prefix) == network();
    }
    // Whether two prefixes share any address.
    bool overlaps(const IpNet& o) const;
    // "255.255.255.0" style mask (for IPv4), or the prefix bits as an address.
    IpAddr mask() const;

    friend bool operator==(const IpNet& a, const IpNet& b) = default;
};

}  // namespace cove::cni
