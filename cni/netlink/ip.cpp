#include "cni/netlink/ip.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

#include "runtime/base/strings.hpp"

namespace cove::nl {

Result<IpAddr> IpAddr::parse(std::string_view text) {
    std::string s(text);
    IpAddr a;
    if (::inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) {
        a.family = AF_INET;
        return a;
    }
    if (::inet_pton(AF_INET6, s.c_str(), a.bytes.data()) == 1) {
        a.family = AF_INET6;
        return a;
    }
    return make_error("invalid IP address \"" + s + "\"");
}

size_t IpAddr::size() const {
    return family == AF_INET ? 4 : 16;
}

bool IpAddr::is_v4() const {
    return family == AF_INET;
}

std::string IpAddr::to_string() const {
    char buf[INET6_ADDRSTRLEN] = {};
    if (family == 0 || ::inet_ntop(family, bytes.data(), buf, sizeof(buf)) == nullptr) {
        return "<invalid>";
    }
    return buf;
}

IpAddr IpAddr::next(uint32_t n) const {
    IpAddr r = *this;
    uint64_t carry = n;
    for (size_t i = size(); i-- > 0 && carry != 0;) {
        carry += r.bytes[i];
        r.bytes[i] = static_cast<uint8_t>(carry & 0xff);
        carry >>= 8;
    }
    return r;
}

Result<IpNet> IpNet::parse(std::string_view text) {
    auto slash = text.find('/');
    COVE_ASSIGN(IpAddr a, IpAddr::parse(text.substr(0, slash)), "");
    int max = static_cast<int>(a.size() * 8);
    int len = max;
    if (slash != std::string_view::npos) {
        auto v = str::parse_int(text.substr(slash + 1));
        if (!v || *v < 0 || *v > max) {
            return make_error("invalid prefix length in \"" + std::string(text) + "\"");
        }
        len = static_cast<int>(*v);
    }
    return IpNet{a, len};
}

IpAddr IpNet::network() const {
    IpAddr r = addr;
    for (size_t i = 0; i < r.size(); ++i) {
        int bits = prefix_len - static_cast<int>(i * 8);
        if (bits >= 8) {
            continue;
        }
        r.bytes[i] &= bits <= 0 ? 0 : static_cast<uint8_t>(0xff << (8 - bits));
    }
    return r;
}

bool IpNet::contains(const IpAddr& a) const {
    if (a.family != addr.family) {
        return false;
    }
    return IpNet{a, prefix_len}.network() == network();
}

std::string IpNet::to_string() const {
    return addr.to_string() + "/" + std::to_string(prefix_len);
}

}  // namespace cove::nl
