#include "cni/plugins/bridge/firewall.hpp"

#include <cstdio>

#include "cni/netlink/nft.hpp"
#include "runtime/base/strings.hpp"

namespace cove::bridge {

namespace {

const nl::NftChain kMasq4{"ip", "cove-cni", "postrouting",
                          "type nat hook postrouting priority srcnat; policy accept;"};
const nl::NftChain kMasq6{"ip6", "cove-cni", "postrouting",
                          "type nat hook postrouting priority srcnat; policy accept;"};
const nl::NftChain kSpoof{"bridge", "cove-cni", "prerouting",
                          "type filter hook prerouting priority -300; policy accept;"};

std::string fnv_hex(const std::string& s) {
    uint64_t h = 1469598103934665603ULL;
    for (unsigned char c : s) {
        h = (h ^ c) * 1099511628211ULL;
    }
    char buf[24];
    std::snprintf(buf, sizeof(buf), "h%016llx", static_cast<unsigned long long>(h));
    return buf;
}

std::string net_part(const std::string& network) {
    return network.size() > 40 ? fnv_hex(network) : network;
}

}  // namespace

std::string attachment_tag(const std::string& network,
                           const std::string& container_id,
                           const std::string& ifname) {
    std::string cid = container_id.size() > 70 ? fnv_hex(container_id) : container_id;
    return net_part(network) + "/" + cid + "/" + ifname;
}

Status masquerade_add(const std::string& tag, const std::vector<cni::IpNet>& addrs) {
    std::vector<std::string> v4;
    std::vector<std::string> v6;
    for (const auto& a : addrs) {
        std::string subnet = cni::IpNet{a.network(), a.prefix}.to_string();
        if (a.ip.is_v4()) {
            v4.push_back("ip saddr " + a.ip.to_string() + " ip daddr != " + subnet +
                         " ip daddr != 224.0.0.0/4 masquerade");
        } else {
            v6.push_back("ip6 saddr " + a.ip.to_string() + " ip6 daddr != " + subnet +
                         " ip6 daddr != ff00::/8 masquerade");
        }
    }
    COVE_ASSIGN(nl::Nft nft, nl::Nft::open(), "ipMasq");
    if (!v4.empty()) {
        COVE_TRY(nl::replace_tagged_rules(nft, kMasq4, tag, v4), "ipMasq");
    }
    if (!v6.empty()) {
        COVE_TRY(nl::replace_tagged_rules(nft, kMasq6, tag, v6), "ipMasq");
    }
    return ok_status();
}

Status spoofchk_add(const std::string& tag, const std::string& host_veth, const std::string& mac) {
    COVE_ASSIGN(nl::Nft nft, nl::Nft::open(), "macspoofchk");
    COVE_ASSIGN(std::string dev, nl::nft_quote(host_veth), "macspoofchk");
    COVE_TRY(nl::replace_tagged_rules(nft, kSpoof, tag,
                                      {"iifname " + dev + " ether saddr != " + mac + " drop"}),
             "macspoofchk");
    return ok_status();
}

Status rules_del(const std::string& tag) {
    COVE_ASSIGN(nl::Nft nft, nl::Nft::open(), "firewall");
    auto match = [&](const std::string& t) { return t == tag; };
    for (const auto* c : {&kMasq4, &kMasq6, &kSpoof}) {
        COVE_TRY(nl::delete_tagged_rules(nft, *c, match), "firewall");
    }
    return ok_status();
}

Result<bool> masquerade_present(const std::string& tag) {
    COVE_ASSIGN(nl::Nft nft, nl::Nft::open(), "ipMasq");
    for (const auto* c : {&kMasq4, &kMasq6}) {
        COVE_ASSIGN(auto rules, nl::list_tagged_rules(nft, *c), "ipMasq");
        for (const auto& r : rules) {
            if (r.tag == tag) {
                return true;
            }
        }
    }
    return false;
}

Status rules_gc(const std::string& network, const std::vector<cni::Attachment>& valid) {
    std::string prefix = net_part(network) + "/";
    auto stale = [&](const std::string& t) {
        if (!str::starts_with(t, prefix)) {
            return false;  // another network's
        }
        for (const auto& a : valid) {
            if (attachment_tag(network, a.container_id, a.ifname) == t) {
                return false;
            }
        }
        return true;
    };
    COVE_ASSIGN(nl::Nft nft, nl::Nft::open(), "gc");
    for (const auto* c : {&kMasq4, &kMasq6, &kSpoof}) {
        COVE_TRY(nl::delete_tagged_rules(nft, *c, stale), "gc");
    }
    return ok_status();
}

}  // namespace cove::bridge
