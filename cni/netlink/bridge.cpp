// The bridge half of Netlink: the bridge device, its ports' flags and VLANs. libnl 3.7 has no
// setters for vlan_filtering, port isolation or VLAN entries, so these messages are built
// here with libnl's message API, as iproute2's `ip link`/`bridge` send them.
#include <sys/socket.h>

#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "cni/netlink/netlink.hpp"

namespace cove::nl {

namespace {

NlMsg bridge_msg(int type, int flags, int family, int index) {
    NlMsg msg(nlmsg_alloc_simple(type, flags));
    ifinfomsg ifi = {};
    ifi.ifi_family = static_cast<unsigned char>(family);
    ifi.ifi_index = index;
    if (!msg || nlmsg_append(msg.get(), &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0) {
        return NlMsg();
    }
    return msg;
}

Error nomem(const std::string& what) {
    return errno_error(ENOMEM, what + ": build message");
}

// IFLA_LINKINFO { KIND "bridge", DATA { IFLA_BR_VLAN_FILTERING } }.
bool put_bridge_info(nl_msg* msg, std::optional<bool> vlan_filtering) {
    nlattr* info = nla_nest_start(msg, IFLA_LINKINFO);
    if (info == nullptr || nla_put_string(msg, IFLA_INFO_KIND, "bridge") < 0) {
        return false;
    }
    if (vlan_filtering) {
        nlattr* data = nla_nest_start(msg, IFLA_INFO_DATA);
        if (data == nullptr ||
            nla_put_u8(msg, IFLA_BR_VLAN_FILTERING, *vlan_filtering ? 1 : 0) < 0) {
            return false;
        }
        nla_nest_end(msg, data);
    }
    nla_nest_end(msg, info);
    return true;
}

}  // namespace

Result<LinkInfo> Netlink::ensure_bridge(const BridgeOptions& opts) {
    std::string what = "netlink: add bridge " + opts.name;
    if (opts.name.empty() || opts.name.size() >= 16) {
        return make_error(what + ": invalid name (1 to 15 characters)");
    }
    COVE_ASSIGN(auto existing, find_link(opts.name), what);
    if (!existing) {
        NlMsg msg = bridge_msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, AF_UNSPEC, 0);
        if (!msg || nla_put_string(msg.get(), IFLA_IFNAME, opts.name.c_str()) < 0 ||
            (opts.mtu != 0 && nla_put_u32(msg.get(), IFLA_MTU, opts.mtu) < 0) ||
            !put_bridge_info(msg.get(),
                             opts.vlan_filtering ? std::optional<bool>(true) : std::nullopt)) {
            return nomem(what);
        }
        auto st = request(msg.get(), what);
        // Another plugin call may have created it between the lookup and here.
        if (!st && st.error().code() != EEXIST) {
            return std::move(st).error();
        }
        COVE_ASSIGN(existing, find_link(opts.name), what);
        if (!existing) {
            return errno_error(ENODEV, what + ": bridge vanished after creation");
        }
    } else if (opts.vlan_filtering) {
        if (existing->kind != "bridge") {
            return make_error(what + ": " + opts.name + " already exists but is not a bridge");
        }
        COVE_TRY(set_vlan_filtering(existing->index, true), "");
    }
    if (existing->kind != "bridge") {
        return make_error(what + ": " + opts.name + " already exists but is not a bridge");
    }
    if (opts.promisc && !existing->promisc) {
        COVE_TRY(set_promisc(existing->index, true), "");
    }
    if (!existing->up) {
        COVE_TRY(set_up(existing->index, true), "");
    }
    return link(existing->index);
}

Status Netlink::set_vlan_filtering(int bridge_index, bool on) {
    std::string what = "netlink: set bridge #" + std::to_string(bridge_index) + " vlan_filtering " +
                       (on ? "1" : "0");
    NlMsg msg = bridge_msg(RTM_NEWLINK, 0, AF_UNSPEC, bridge_index);
    if (!msg || !put_bridge_info(msg.get(), on)) {
        return nomem(what);
    }
    return request(msg.get(), what);
}

Status Netlink::set_bridge_port(int index, const BridgePortFlags& flags) {
    std::string what = "netlink: set bridge port #" + std::to_string(index);
    if (flags.hairpin) {
        what += std::string(" hairpin ") + (*flags.hairpin ? "on" : "off");
    }
    if (flags.isolated) {
        what += std::string(" isolated ") + (*flags.isolated ? "on" : "off");
    }
    if (!flags.hairpin && !flags.isolated) {
        return ok_status();
    }
    NlMsg msg = bridge_msg(RTM_SETLINK, 0, AF_BRIDGE, index);
    nlattr* prot = msg ? nla_nest_start(msg.get(), IFLA_PROTINFO | NLA_F_NESTED) : nullptr;
    if (prot == nullptr ||
        (flags.hairpin && nla_put_u8(msg.get(), IFLA_BRPORT_MODE, *flags.hairpin ? 1 : 0) < 0) ||
        (flags.isolated &&
         nla_put_u8(msg.get(), IFLA_BRPORT_ISOLATED, *flags.isolated ? 1 : 0) < 0)) {
        return nomem(what);
    }
    nla_nest_end(msg.get(), prot);
    return request(msg.get(), what);
}

namespace {

Result<NlMsg> vlan_msg(int type,
                       int index,
                       uint16_t vid,
                       uint16_t vid_end,
                       uint16_t flags,
                       bool self,
                       const std::string& what) {
    if (vid == 0 || vid > 4094 || vid_end < vid || vid_end > 4094) {
        return make_error(what + ": VLAN IDs must be 1..4094");
    }
    NlMsg msg = bridge_msg(type, 0, AF_BRIDGE, index);
    nlattr* spec = msg ? nla_nest_start(msg.get(), IFLA_AF_SPEC) : nullptr;
    if (spec == nullptr ||
        (self && nla_put_u16(msg.get(), IFLA_BRIDGE_FLAGS, BRIDGE_FLAGS_SELF) < 0)) {
        return nomem(what);
    }
    bridge_vlan_info vi = {};
    if (vid == vid_end) {
        vi.flags = flags;
        vi.vid = vid;
        if (nla_put(msg.get(), IFLA_BRIDGE_VLAN_INFO, sizeof(vi), &vi) < 0) {
            return nomem(what);
        }
    } else {
        vi.flags = static_cast<uint16_t>(flags | BRIDGE_VLAN_INFO_RANGE_BEGIN);
        vi.vid = vid;
        if (nla_put(msg.get(), IFLA_BRIDGE_VLAN_INFO, sizeof(vi), &vi) < 0) {
            return nomem(what);
        }
        vi.flags = static_cast<uint16_t>(flags | BRIDGE_VLAN_INFO_RANGE_END);
        vi.vid = vid_end;
        if (nla_put(msg.get(), IFLA_BRIDGE_VLAN_INFO, sizeof(vi), &vi) < 0) {
            return nomem(what);
        }
    }
    nla_nest_end(msg.get(), spec);
    return msg;
}

std::string vid_text(uint16_t vid, uint16_t vid_end) {
    return std::to_string(vid) + (vid_end != vid ? "-" + std::to_string(vid_end) : "");
}

}  // namespace

Status Netlink::bridge_vlan_add(
    int index, uint16_t vid, uint16_t vid_end, bool pvid, bool untagged, bool self) {
    std::string what =
        "netlink: add vlan " + vid_text(vid, vid_end) + " to bridge port #" + std::to_string(index);
    uint16_t flags = static_cast<uint16_t>((pvid ? BRIDGE_VLAN_INFO_PVID : 0) |
                                           (untagged ? BRIDGE_VLAN_INFO_UNTAGGED : 0));
    COVE_ASSIGN(NlMsg msg, vlan_msg(RTM_SETLINK, index, vid, vid_end, flags, self, what), "");
    return request(msg.get(), what);
}

Status Netlink::bridge_vlan_del(int index, uint16_t vid, uint16_t vid_end, bool self) {
    std::string what = "netlink: delete vlan " + vid_text(vid, vid_end) + " from bridge port #" +
                       std::to_string(index);
    COVE_ASSIGN(NlMsg msg, vlan_msg(RTM_DELLINK, index, vid, vid_end, 0, self, what), "");
    auto st = request(msg.get(), what);
    if (!st && st.error().code() == ENOENT) {
        return ok_status();
    }
    return st;
}

}  // namespace cove::nl
