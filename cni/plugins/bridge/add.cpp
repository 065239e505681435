#include "cni/plugins/bridge/add.hpp"

#include <functional>
#include <vector>

#include "cni/netlink/netlink.hpp"
#include "cni/netlink/netns.hpp"
#include "cni/netlink/sysctl.hpp"
#include "cni/plugins/bridge/config.hpp"
#include "cni/plugins/bridge/firewall.hpp"
#include "cni/skel/invoke.hpp"

namespace cove::bridge {

namespace {

// Undo steps of a multi-step ADD, run newest first unless commit() is called.
class Rollback {
public:
    Rollback() = default;
    Rollback(const Rollback&) = delete;
    Rollback& operator=(const Rollback&) = delete;
    ~Rollback() {
        for (auto it = steps_.rbegin(); it != steps_.rend(); ++it) {
            (*it)();
        }
    }
    void add(std::function<void()> f) { steps_.push_back(std::move(f)); }
    void commit() { steps_.clear(); }

private:
    std::vector<std::function<void()>> steps_;
};

Status setup_host_port(nl::Netlink& host,
                       const BridgeConf& c,
                       const nl::LinkInfo& br,
                       const nl::LinkInfo& veth) {
    COVE_TRY(host.set_master(veth.index, br.index), "");
    nl::BridgePortFlags flags;
    if (c.hairpin) {
        flags.hairpin = true;
    }
    if (c.port_isolation) {
        flags.isolated = true;
    }
    COVE_TRY(host.set_bridge_port(veth.index, flags), "");
    if (c.vlan_filtering()) {
        if (!c.preserve_default_vlan) {
            COVE_TRY(host.bridge_vlan_del(veth.index, 1, 1), "");
        }
        if (c.vlan != 0) {
            COVE_TRY(host.bridge_vlan_add(veth.index, c.vlan, c.vlan, true, true), "");
        }
        for (const auto& r : c.vlan_trunk) {
            COVE_TRY(host.bridge_vlan_add(veth.index, r.min, r.max, false, false), "");
        }
    }
    return host.set_up(veth.index, true);
}

// The gateway address on the bridge. IPv4 allows one address: another one is an error unless
// forceAddress, which replaces it. IPv6 addresses are added beside existing ones.
Status ensure_bridge_addr(nl::Netlink& host,
                          const BridgeConf& c,
                          const nl::LinkInfo& br,
                          const nl::IpNet& want) {
    COVE_ASSIGN(auto have, host.addresses(br.index, want.ip.family), "");
    for (const auto& a : have) {
        if (a == want) {
            return ok_status();
        }
    }
    if (want.ip.is_v4()) {
        for (const auto& a : have) {
            if (!c.force_address) {
                return make_error("bridge " + br.name + " already has an IP address (" +
                                  a.to_string() + ") different from " + want.to_string());
            }
            COVE_TRY(host.del_address(br.index, a), "");
        }
    }
    auto st = host.add_address(br.index, want, !c.enable_dad && !want.ip.is_v4());
    if (!st && st.error().code() == EEXIST) {
        return ok_status();  // a concurrent ADD on the same bridge won
    }
    return st;
}

Status setup_gateway(nl::Netlink& host,
                     const BridgeConf& c,
                     const nl::LinkInfo& br,
                     const cni::CniResult& res) {
    bool v4 = false;
    bool v6 = false;
    for (const auto& ip : res.ips) {
        (ip.address.ip.is_v4() ? v4 : v6) = true;
    }
    if (v6) {
        // Best effort: a kernel without IPv6 fails on the address below with a clear error.
        (void)nl::sysctl_set("net/ipv6/conf/" + br.name + "/disable_ipv6", "0");
    }
    if (c.is_gateway) {
        for (const auto& ip : res.ips) {
            if (ip.gateway) {
                COVE_TRY(ensure_bridge_addr(host, c, br, nl::IpNet{*ip.gateway, ip.address.prefix}),
                         "gateway");
            }
        }
    }
    if (c.is_gateway || c.ip_masq) {
        if (v4) {
            COVE_TRY(nl::sysctl_set("net/ipv4/ip_forward", "1"), "");
        }
        if (v6) {
            COVE_TRY(nl::sysctl_set("net/ipv6/conf/all/forwarding", "1"), "");
        }
    }
    return ok_status();
}

// Gateways the IPAM left out (the subnet's first address) and the default routes of
// isDefaultGateway.
void complete_result(const BridgeConf& c, cni::CniResult& res) {
    for (auto& ip : res.ips) {
        ip.interface = 2;
        if (!ip.gateway && c.is_gateway) {
            ip.gateway = ip.address.network().next();
        }
    }
    if (!c.is_default_gateway) {
        return;
    }
    for (int fam : {AF_INET, AF_INET6}) {
        const cni::IpConfig* first = nullptr;
        for (const auto& ip : res.ips) {
            if (ip.address.ip.family == fam && ip.gateway && first == nullptr) {
                first = &ip;
            }
        }
        if (first == nullptr) {
            continue;
        }
        bool have = false;
        for (const auto& r : res.routes) {
            have |= r.dst.ip.family == fam && r.dst.prefix == 0;
        }
        if (!have) {
            cni::Route r;
            r.dst = cni::IpNet{first->address.ip.masked(0), 0};
            r.gw = first->gateway;
            res.routes.push_back(r);
        }
    }
}

// Inside the container's netns: link up, addresses, routes.
Status configure_container(nl::Netlink& cont,
                           const BridgeConf& c,
                           const cni::Request& req,
                           int cidx,
                           const cni::CniResult& res) {
    for (const auto& ip : res.ips) {
        if (!ip.address.ip.is_v4()) {
            COVE_TRY(nl::sysctl_set("net/ipv6/conf/" + req.ifname + "/disable_ipv6", "0"), "");
            if (!c.enable_dad) {
                COVE_TRY(nl::sysctl_set("net/ipv6/conf/" + req.ifname + "/accept_dad", "0"), "");
            }
            break;
        }
    }
    COVE_TRY(cont.set_up(cidx, true), "");
    for (const auto& ip : res.ips) {
        COVE_TRY(cont.add_address(cidx, ip.address, !c.enable_dad), "");
    }
    for (const auto& r : res.routes) {
        nl::Route nr;
        nr.dst = r.dst;
        nr.gw = r.gw;
        nr.ifindex = cidx;
        if (!nr.gw) {
            for (const auto& ip : res.ips) {
                if (ip.address.ip.family == r.dst.ip.family && ip.gateway) {
                    nr.gw = ip.gateway;
                    break;
                }
            }
        }
        auto st = cont.add_route(nr);
        if (!st && st.error().code() != EEXIST) {
            return st;
        }
    }
    return ok_status();
}

}  // namespace

Result<cni::CniResult> cmd_add(const cni::Request& req) {
    COVE_ASSIGN(BridgeConf c, parse_bridge_conf(req), "");
    auto nsfd = nl::open_netns(req.netns);
    if (!nsfd) {
        return cni::cni_error(cni::kErrInvalidNetns, nsfd.error().to_string());
    }
    COVE_ASSIGN(nl::Netlink host, nl::Netlink::open(), "");
    Result<nl::Netlink> cont_r = make_error("unset");
    {
        COVE_ASSIGN(auto scope, nl::ScopedNetns::enter_fd(nsfd->get(), req.netns), "");
        cont_r = nl::Netlink::open();
    }
    COVE_ASSIGN(nl::Netlink cont, std::move(cont_r), "");

    nl::BridgeOptions bo;
    bo.name = c.bridge;
    bo.mtu = c.mtu;
    bo.vlan_filtering = c.vlan_filtering();
    bo.promisc = c.promisc;
    auto br_r = host.ensure_bridge(bo);
    if (!br_r && br_r.error().code() == EOPNOTSUPP && c.vlan_filtering()) {
        return std::move(br_r).error().wrap(
            "vlan: the kernel's bridge has no VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING)");
    }
    COVE_ASSIGN(nl::LinkInfo br, std::move(br_r), "");
    COVE_ASSIGN(auto clash, cont.find_link(req.ifname), "");
    if (clash) {
        return make_error("container interface " + req.ifname + " already exists in netns " +
                          req.netns);
    }

    Rollback rb;
    nl::VethOptions vo;
    vo.peer_name = req.ifname;
    vo.peer_mac = c.mac;
    vo.mtu = c.mtu;
    vo.peer_netns_fd = nsfd->get();
    vo.peer_netns_name = req.netns;
    COVE_ASSIGN(nl::LinkInfo hv, host.add_veth(vo), "");
    rb.add([&host, idx = hv.index] { (void)host.del_link(idx); });
    COVE_TRY(setup_host_port(host, c, br, hv), "host veth " + hv.name);
    COVE_ASSIGN(nl::LinkInfo cv, cont.link(req.ifname), "");

    std::string tag = attachment_tag(req.conf.name, req.container_id, req.ifname);
    cni::CniResult res;
    if (c.has_ipam) {
        COVE_ASSIGN(res, cni::ipam_exec_add(req), "");
        rb.add([&req] { (void)cni::ipam_exec_del(req); });
        if (res.ips.empty()) {
            return make_error("ipam: plugin " + req.conf.ipam_type + " returned no IP address");
        }
        complete_result(c, res);
        {
            COVE_ASSIGN(auto scope, nl::ScopedNetns::enter_fd(nsfd->get(), req.netns), "");
            COVE_TRY(configure_container(cont, c, req, cv.index, res),
                     "container interface " + req.ifname);
        }
        COVE_TRY(setup_gateway(host, c, br, res), "bridge " + br.name);
        if (c.ip_masq) {
            rb.add([tag] { (void)rules_del(tag); });
            std::vector<cni::IpNet> addrs;
            for (const auto& ip : res.ips) {
                addrs.push_back(ip.address);
            }
            COVE_TRY(masquerade_add(tag, addrs), "");
        }
    } else if (!c.disable_container_interface) {
        COVE_TRY(cont.set_up(cv.index, true), "container interface " + req.ifname);
    }
    if (c.mac_spoof_check) {
        rb.add([tag] { (void)rules_del(tag); });
        COVE_TRY(spoofchk_add(tag, hv.name, cv.mac), "");
    }
    if (res.dns.empty()) {
        res.dns = req.conf.dns;
    }
    // The bridge takes a port's MAC when it has none of its own: read it after the port.
    COVE_ASSIGN(br, host.link(br.index), "");
    res.interfaces = {
        cni::Interface{br.name, br.mac, {}, {}, {}, {}},
        cni::Interface{hv.name, hv.mac, {}, {}, {}, {}},
        cni::Interface{cv.name, cv.mac, {}, req.netns, {}, {}},
    };
    if (c.mtu != 0) {
        for (auto& i : res.interfaces) {
            i.mtu = static_cast<int>(c.mtu);
        }
    }
    rb.commit();
    return res;
}

}  // namespace cove::bridge
