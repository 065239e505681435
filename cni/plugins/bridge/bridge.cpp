// cove-bridge: the CNI bridge plugin (containernetworking's plugins/main/bridge, same config),
// on cni/skel, cni/netlink and nftables. DEL, CHECK, STATUS, GC and main(); ADD is in add.cpp.
#include <algorithm>

#include "cni/netlink/netlink.hpp"
#include "cni/netlink/netns.hpp"
#include "cni/plugins/bridge/add.hpp"
#include "cni/plugins/bridge/config.hpp"
#include "cni/plugins/bridge/firewall.hpp"
#include "cni/skel/invoke.hpp"

namespace cove::bridge {

// DEL is idempotent: a missing netns, interface, rule or lease is fine.
Status cmd_del(const cni::Request& req) {
    COVE_ASSIGN(BridgeConf c, parse_bridge_conf(req), "");
    if (!req.netns.empty()) {
        auto nsfd = nl::open_netns(req.netns);
        if (!nsfd && nsfd.error().code() != ENOENT) {
            return std::move(nsfd).error();
        }
        if (nsfd) {
            Result<nl::Netlink> cont = make_error("unset");
            {
                COVE_ASSIGN(auto scope, nl::ScopedNetns::enter_fd(nsfd->get(), req.netns), "");
                cont = nl::Netlink::open();
            }
            COVE_ASSIGN(nl::Netlink nl, std::move(cont), "");
            // Deleting the container end removes the host end of the pair too.
            COVE_TRY(nl.del_link(req.ifname), "container interface");
        }
    }
    // Like the reference, the rules DEL removes are those its config asks for (GC removes any
    // left by a config that changed); without them nftables is never loaded.
    if (c.ip_masq || c.mac_spoof_check) {
        COVE_TRY(rules_del(attachment_tag(req.conf.name, req.container_id, req.ifname)), "");
    }
    if (c.has_ipam) {
        COVE_TRY(cni::ipam_exec_del(req), "");
    }
    return ok_status();
}

namespace {

Error check_failed(const std::string& msg) {
    return make_error("CHECK: " + msg);
}

bool has_route(const std::vector<nl::Route>& have, const cni::Route& want) {
    return std::any_of(have.begin(), have.end(), [&](const nl::Route& r) {
        return r.dst.network() == want.dst.network() && r.dst.prefix == want.dst.prefix &&
               (!want.gw || (r.gw && *r.gw == *want.gw));
    });
}

Status check_container(nl::Netlink& cont,
                       const cni::Request& req,
                       const cni::CniResult& prev,
                       const cni::Interface& want,
                       int* peer_index) {
    COVE_ASSIGN(auto link, cont.find_link(req.ifname), "CHECK");
    if (!link) {
        return check_failed("interface " + req.ifname + " not found in netns " + req.netns);
    }
    if (!want.mac.empty() && link->mac != want.mac) {
        return check_failed("interface " + req.ifname + " has MAC " + link->mac + ", expected " +
                            want.mac);
    }
    *peer_index = link->peer_index;
    COVE_ASSIGN(auto addrs, cont.addresses(link->index), "CHECK");
    for (const auto& ip : prev.ips) {
        if (std::find(addrs.begin(), addrs.end(), ip.address) == addrs.end()) {
            return check_failed("interface " + req.ifname + " lacks address " +
                                ip.address.to_string());
        }
    }
    COVE_ASSIGN(auto routes, cont.routes(0, link->index), "CHECK");
    for (const auto& r : prev.routes) {
        if (!has_route(routes, r)) {
            return check_failed("route " + r.dst.to_string() +
                                (r.gw ? " via " + r.gw->to_string() : "") + " missing in netns " +
                                req.netns);
        }
    }
    return ok_status();
}

}  // namespace

Status cmd_check(const cni::Request& req) {
    COVE_ASSIGN(BridgeConf c, parse_bridge_conf(req), "");
    if (!req.conf.prev_result) {
        return cni::cni_error(cni::kErrInvalidNetworkConfig, "CHECK: prevResult is required");
    }
    const cni::CniResult& prev = *req.conf.prev_result;
    if (c.has_ipam) {
        COVE_TRY(cni::ipam_exec_check(req), "");
    }
    const cni::Interface* cif = nullptr;
    const cni::Interface* hif = nullptr;
    for (const auto& i : prev.interfaces) {
        if (!i.sandbox.empty() && i.name == req.ifname) {
            cif = &i;
        } else if (i.sandbox.empty() && i.name != c.bridge) {
            hif = &i;
        }
    }
    if (cif == nullptr) {
        return check_failed("prevResult has no interface " + req.ifname + " in a sandbox");
    }
    if (cif->sandbox != req.netns) {
        return check_failed("interface " + req.ifname + " is in sandbox " + cif->sandbox +
                            ", not " + req.netns);
    }
    COVE_ASSIGN(nl::Netlink host, nl::Netlink::open(), "CHECK");
    COVE_ASSIGN(auto br, host.find_link(c.bridge), "CHECK");
    if (!br || br->kind != "bridge") {
        return check_failed("bridge " + c.bridge + " not found");
    }
    auto nsfd = nl::open_netns(req.netns);
    if (!nsfd) {
        return cni::cni_error(cni::kErrInvalidNetns, "CHECK: " + nsfd.error().to_string());
    }
    Result<nl::Netlink> cont_r = make_error("unset");
    {
        COVE_ASSIGN(auto scope, nl::ScopedNetns::enter_fd(nsfd->get(), req.netns), "CHECK");
        cont_r = nl::Netlink::open();
    }
    COVE_ASSIGN(nl::Netlink cont, std::move(cont_r), "CHECK");
    int peer = 0;
    COVE_TRY(check_container(cont, req, prev, *cif, &peer), "");
    // The container's veth peer is a port of the bridge.
    auto hv = host.link(peer);
    if (!hv || (hif != nullptr && hv->name != hif->name)) {
        return check_failed("host end of " + req.ifname + " (" +
                            (hif != nullptr ? hif->name : "#" + std::to_string(peer)) +
                            ") not found");
    }
    if (hv->master != br->index) {
        return check_failed("host veth " + hv->name + " is not a port of bridge " + c.bridge);
    }
    if (c.ip_masq && !prev.ips.empty()) {
        COVE_ASSIGN(bool present,
                    masquerade_present(attachment_tag(req.conf.name, req.container_id, req.ifname)),
                    "CHECK");
        if (!present) {
            return check_failed("masquerade rule for " + req.container_id + " missing");
        }
    }
    return ok_status();
}

Status cmd_status(const cni::Request& req) {
    COVE_ASSIGN(BridgeConf c, parse_bridge_conf(req), "");
    if (c.has_ipam) {
        return cni::ipam_exec_status(req);
    }
    return ok_status();
}

Status cmd_gc(const cni::Request& req) {
    COVE_ASSIGN(BridgeConf c, parse_bridge_conf(req), "");
    if (c.has_ipam) {
        COVE_TRY(cni::ipam_exec_gc(req), "");
    }
    return rules_gc(req.conf.name, req.conf.valid_attachments);
}

}  // namespace cove::bridge

int main() {
    cove::cni::Plugin p;
    p.about = "cove-bridge " COVE_VERSION;
    p.add = cove::bridge::cmd_add;
    p.del = cove::bridge::cmd_del;
    p.check = cove::bridge::cmd_check;
    p.status = cove::bridge::cmd_status;
    p.gc = cove::bridge::cmd_gc;
    return cove::cni::plugin_main(p);
}
