#include "cni/skel/ip.hpp"

#include <arpa/inet.h>

#include <charconv>

namespace cove::cni {

namespace {

const uint8_t kV4MappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

}  // namespace

std::optional<IpAddr> IpAddr::parse(std::string_view text) {
    if (text.empty() || text.size() >= INET6_ADDRSTRLEN) {
        return std::nullopt;
    }
    char buf[INET6_ADDRSTRLEN];
    text.copy(buf, text.size());
    buf[text.size()] = '\0';
    IpAddr a;
    if (text.find(':') == std::string_view::npos) {
        if (::inet_pton(AF_INET, buf, a.bytes.data()) != 1) {
            return std::nullopt;
        }
        a.family = AF_INET;
        return a;
    }
    if (::inet_pton(AF_INET6, buf, a.bytes.data()) != 1) {
        return std::nullopt;
    }
    a.family = AF_INET6;
    if (std::equal(std::begin(kV4MappedPrefix), std::end(kV4MappedPrefix), a.bytes.begin())) {
        IpAddr v4;
        std::copy(a.bytes.begin() + 12, a.bytes.end(), v4.bytes.begin());
        return v4;
    }
    return a;
}

IpAddr IpAddr::v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    IpAddr r;
    r.bytes[0] = a;
    r.bytes[1] = b;
    r.bytes[2] = c;
    r.bytes[3] = d;
    return r;
}

std::string IpAddr::to_string() const {
    char buf[INET6_ADDRSTRLEN];
    if (::inet_ntop(family, bytes.data(), buf, sizeof buf) == nullptr) {
        return {};
    }
    return buf;
}

IpAddr IpAddr::next() const {
    IpAddr r = *this;
    for (size_t i = size(); i-- > 0;) {
        if (++r.bytes[i] != 0) {
            break;
        }
    }
    return r;
}

IpAddr IpAddr::prev() const {
    IpAddr r = *this;
    for (size_t i = size(); i-- > 0;) {
        if (r.bytes[i]-- != 0) {
            break;
        }
    }
    return r;
}

IpAddr IpAddr::masked(int prefix) const {
    IpAddr r = *this;
    for (size_t i = 0; i < size(); ++i) {
        int keep = prefix - static_cast<int>(i) * 8;
        if (keep >= 8) {
            continue;
        }
        r.bytes[i] &= keep <= 0 ? 0 : static_cast<uint8_t>(0xff << (8 - keep));
    }
    return r;
}

IpAddr IpAddr::last_in(int prefix) const {
    IpAddr r = *this;
    for (size_t i = 0; i < size(); ++i) {
        int keep = prefix - static_cast<int>(i) * 8;
        if (keep >= 8) {
            continue;
        }
        r.bytes[i] |= keep <= 0 ? 0xff : static_cast<uint8_t>(0xff >> keep);
    }
    return r;
}

std::strong_ordering operator<=>(const IpAddr& a, const IpAddr& b) {
    if (a.family != b.family) {
        return a.is_v4() ? std::strong_ordering::less : std::strong_ordering::greater;
    }
    for (size_t i = 0; i < a.size(); ++i) {
        if (a.bytes[i] != b.bytes[i]) {
            return a.bytes[i] <=> b.bytes[i];
        }
    }
    return std::strong_ordering::equal;
}

std::optional<IpNet> IpNet::parse(std::string_view text, bool allow_bare) {
    auto slash = text.find('/');
    if (slash == std::string_view::npos) {
        if (!allow_bare) {
            return std::nullopt;
        }
        auto ip = IpAddr::parse(text);
        if (!ip) {
            return std::nullopt;
        }
        return IpNet{*ip, ip->bits()};
    }
    auto ip = IpAddr::parse(text.substr(0, slash));
    std::string_view p = text.substr(slash + 1);
    int prefix = -1;
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), prefix);
    if (!ip || p.empty() || ec != std::errc() || end != p.data() + p.size() || prefix < 0) {
        return std::nullopt;
    }
    // Go parses "::ffff:1.2.3.4/120" as a v6 prefix; a mapped address with a v4-sized
    // prefix is what people mean by it.
    if (ip->is_v4() && text.substr(0, slash).find(':') != std::string_view::npos) {
        prefix -= 96;
        if (prefix < 0) {
            return std::nullopt;
        }
    }
    if (prefix > ip->bits()) {
        return std::nullopt;
    }
    return IpNet{*ip, prefix};
}

std::string IpNet::to_string() const {
    return ip.to_string() + "/" + std::to_string(prefix);
}

bool IpNet::overlaps(const IpNet& o) const {
    if (ip.family != o.ip.family) {
        return false;
    }
    int p = prefix < o.prefix ? prefix : o.prefix;
    return ip.masked(p) == o.ip.masked(p);
}

IpAddr IpNet::mask() const {
    IpAddr m;
    m.family = ip.family;
    for (size_t i = 0; i < m.size(); ++i) {
        m.bytes[i] = 0xff;
    }
    return m.masked(prefix);
}

}  // namespace cove::cni
