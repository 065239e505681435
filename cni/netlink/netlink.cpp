#include "cni/netlink/netlink.hpp"

#include <net/if_arp.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include <netlink/errno.h>

namespace cove::nl {

namespace {

struct AckState {
    int error = 0;  // positive errno; 0: acked
    std::string ext_msg;
};

int on_error(sockaddr_nl* /*who*/, nlmsgerr* e, void* arg) {
    auto* st = static_cast<AckState*>(arg);
    st->error = -e->error;
    // With NETLINK_CAP_ACK the request is not echoed: extended-ack TLVs follow the nlmsgerr.
    auto* hdr = reinterpret_cast<nlmsghdr*>(reinterpret_cast<char*>(e) - NLMSG_HDRLEN);
    if ((hdr->nlmsg_flags & NLM_F_ACK_TLVS) != 0 && (hdr->nlmsg_flags & NLM_F_CAPPED) != 0) {
        auto* start = reinterpret_cast<char*>(e) + sizeof(*e);
        int len = static_cast<int>(hdr->nlmsg_len) - static_cast<int>(NLMSG_HDRLEN + sizeof(*e));
        nlattr* tb[NLMSGERR_ATTR_MAX + 1] = {};
        if (len > 0 &&
            nla_parse(tb, NLMSGERR_ATTR_MAX, reinterpret_cast<nlattr*>(start), len, nullptr) == 0 &&
            tb[NLMSGERR_ATTR_MSG] != nullptr) {
            st->ext_msg = nla_get_string(tb[NLMSGERR_ATTR_MSG]);
        }
    }
    return NL_STOP;
}

int on_ack(nl_msg* /*msg*/, void* /*arg*/) {
    return NL_STOP;
}

Error nl_error(int nle, const std::string& what) {
    int code = nl_errno(nle < 0 ? -nle : nle);
    if (code != 0) {
        return errno_error(code, what);
    }
    return make_error(what + ": " + nl_geterror(nle));
}

NlMsg link_msg(int type, int flags, int family, int index) {
    NlMsg msg(nlmsg_alloc_simple(type, flags));
    if (!msg) {
        return msg;
    }
    ifinfomsg ifi = {};
    ifi.ifi_family = static_cast<unsigned char>(family);
    ifi.ifi_index = index;
    if (nlmsg_append(msg.get(), &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0) {
        return NlMsg();
    }
    return msg;
}

Error nomem(const std::string& what) {
    return errno_error(ENOMEM, what + ": build message");
}

LinkInfo to_info(rtnl_link* l) {
    LinkInfo info;
    info.index = rtnl_link_get_ifindex(l);
    const char* name = rtnl_link_get_name(l);
    info.name = name != nullptr ? name : "";
    const char* kind = rtnl_link_get_type(l);
    info.kind = kind != nullptr ? kind : "";
    nl_addr* a = rtnl_link_get_addr(l);
    if (a != nullptr && nl_addr_get_len(a) > 0) {
        info.mac =
            format_mac(static_cast<const uint8_t*>(nl_addr_get_binary_addr(a)), nl_addr_get_len(a));
    }
    info.mtu = rtnl_link_get_mtu(l);
    info.master = rtnl_link_get_master(l);
    info.peer_index = rtnl_link_get_link(l);
    unsigned flags = rtnl_link_get_flags(l);
    info.up = (flags & IFF_UP) != 0;
    info.promisc = (flags & IFF_PROMISC) != 0;
    return info;
}

IpAddr to_ip(nl_addr* a, int family) {
    IpAddr ip;
    ip.family = family;
    if (a != nullptr) {
        size_t n = std::min<size_t>(nl_addr_get_len(a), ip.bytes.size());
        std::memcpy(ip.bytes.data(), nl_addr_get_binary_addr(a), n);
    }
    return ip;
}

Status put_ip(nl_msg* msg, int type, const IpAddr& ip) {
    if (nla_put(msg, type, static_cast<int>(ip.size()), ip.bytes.data()) < 0) {
        return make_error("netlink: message too long");
    }
    return ok_status();
}

std::string random_veth_name() {
    uint32_t r = 0;
    if (::getrandom(&r, sizeof(r), 0) != sizeof(r)) {
        r = static_cast<uint32_t>(::getpid()) ^ static_cast<uint32_t>(::time(nullptr));
    }
    char buf[16];
    std::snprintf(buf, sizeof(buf), "veth%08x", r);
    return buf;
}

}  // namespace

int nl_errno(int nle) {
    switch (nle) {
        case NLE_SUCCESS:
            return 0;
        case NLE_INTR:
            return EINTR;
        case NLE_BAD_SOCK:
            return EBADF;
        case NLE_AGAIN:
            return EAGAIN;
        case NLE_NOMEM:
            return ENOMEM;
        case NLE_EXIST:
            return EEXIST;
        case NLE_INVAL:
            return EINVAL;
        case NLE_RANGE:
            return ERANGE;
        case NLE_MSGSIZE:
            return EMSGSIZE;
        case NLE_OPNOTSUPP:
            return EOPNOTSUPP;
        case NLE_AF_NOSUPPORT:
            return EAFNOSUPPORT;
        case NLE_OBJ_NOTFOUND:
            return ENOENT;
        case NLE_NOADDR:
            return EADDRNOTAVAIL;
        case NLE_BUSY:
            return EBUSY;
        case NLE_NOACCESS:
            return EACCES;
        case NLE_PERM:
            return EPERM;
        case NLE_NODEV:
            return ENODEV;
        default:
            return 0;
    }
}

Result<std::vector<uint8_t>> parse_mac(const std::string& mac) {
    std::vector<uint8_t> out(6);
    unsigned b[6];
    char tail = 0;
    if (std::sscanf(mac.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4],
                    &b[5], &tail) != 6 ||
        mac.size() != 17) {
        return make_error("invalid MAC address \"" + mac + "\"");
    }
    for (int i = 0; i < 6; ++i) {
        out[i] = static_cast<uint8_t>(b[i]);
    }
    return out;
}

std::string format_mac(const uint8_t* bytes, size_t len) {
    std::string s;
    char buf[4];
    for (size_t i = 0; i < len; ++i) {
        std::snprintf(buf, sizeof(buf), i == 0 ? "%02x" : ":%02x", bytes[i]);
        s += buf;
    }
    return s;
}

Result<Netlink> Netlink::open() {
    NlSock sk(nl_socket_alloc());
    if (!sk) {
        return errno_error(ENOMEM, "netlink: allocate socket");
    }
    // libnl opens its socket with SOCK_CLOEXEC.
    if (int err = nl_connect(sk.get(), NETLINK_ROUTE); err < 0) {
        return nl_error(err, "netlink: connect");
    }
    int one = 1;
    int fd = nl_socket_get_fd(sk.get());
    // Best effort: kernels without them still answer with a plain errno.
    (void)::setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
    (void)::setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
    return Netlink(std::move(sk));
}

Status Netlink::request(nl_msg* msg, const std::string& what) {
    // nl_socket_get_cb takes a reference: own it, or the socket's cb outlives the socket.
    NlCb base(nl_socket_get_cb(sock_.get()));
    NlCb cb(nl_cb_clone(base.get()));
    if (!cb) {
        return errno_error(ENOMEM, what);
    }
    AckState st;
    nl_cb_err(cb.get(), NL_CB_CUSTOM, on_error, &st);
    nl_cb_set(cb.get(), NL_CB_ACK, NL_CB_CUSTOM, on_ack, &st);
    if (int err = nl_send_auto(sock_.get(), msg); err < 0) {
        return nl_error(err, what + ": send");
    }
    int err = nl_recvmsgs(sock_.get(), cb.get());
    if (st.error != 0) {
        std::string w = what;
        if (!st.ext_msg.empty()) {
            w += ": " + st.ext_msg;
        }
        return errno_error(st.error, w);
    }
    if (err < 0) {
        return nl_error(err, what + ": receive");
    }
    return ok_status();
}

Result<LinkInfo> Netlink::get_link(int index, const char* name) {
    rtnl_link* raw = nullptr;
    int err = rtnl_link_get_kernel(sock_.get(), index, name, &raw);
    RtnlLink l(raw);
    std::string what =
        "netlink: get link " + (name != nullptr ? std::string(name) : "#" + std::to_string(index));
    if (err < 0) {
        Error e = nl_error(err, what);
        if (e.code() == ENOENT) {
            e = errno_error(ENODEV, what);
        }
        return e;
    }
    return to_info(l.get());
}

Result<LinkInfo> Netlink::link(const std::string& name) {
    return get_link(0, name.c_str());
}

Result<LinkInfo> Netlink::link(int index) {
    return get_link(index, nullptr);
}

Result<std::optional<LinkInfo>> Netlink::find_link(const std::string& name) {
    auto r = get_link(0, name.c_str());
    if (!r) {
        if (r.error().code() == ENODEV) {
            return std::optional<LinkInfo>();
        }
        return std::move(r).error();
    }
    return std::optional<LinkInfo>(std::move(r).value());
}

Result<std::vector<LinkInfo>> Netlink::links() {
    nl_cache* raw = nullptr;
    if (int err = rtnl_link_alloc_cache(sock_.get(), AF_UNSPEC, &raw); err < 0) {
        return nl_error(err, "netlink: list links");
    }
    NlCache cache(raw);
    std::vector<LinkInfo> out;
    for (nl_object* o = nl_cache_get_first(cache.get()); o != nullptr; o = nl_cache_get_next(o)) {
        out.push_back(to_info(reinterpret_cast<rtnl_link*>(o)));
    }
    return out;
}

namespace {

Status flag_change(Netlink& nl, int index, unsigned flag, bool on, const std::string& what) {
    NlMsg msg = link_msg(RTM_NEWLINK, 0, AF_UNSPEC, index);
    if (!msg) {
        return nomem(what);
    }
    auto* ifi = static_cast<ifinfomsg*>(nlmsg_data(nlmsg_hdr(msg.get())));
    ifi->ifi_flags = on ? flag : 0;
    ifi->ifi_change = flag;
    return nl.request(msg.get(), what);
}

}  // namespace

Status Netlink::set_up(int index, bool up) {
    return flag_change(*this, index, IFF_UP, up,
                       "netlink: set link #" + std::to_string(index) + (up ? " up" : " down"));
}

Status Netlink::set_promisc(int index, bool on) {
    return flag_change(
        *this, index, IFF_PROMISC, on,
        "netlink: set link #" + std::to_string(index) + " promisc " + (on ? "on" : "off"));
}

Status Netlink::set_mtu(int index, unsigned mtu) {
    std::string what =
        "netlink: set link #" + std::to_string(index) + " mtu " + std::to_string(mtu);
    NlMsg msg = link_msg(RTM_NEWLINK, 0, AF_UNSPEC, index);
    if (!msg || nla_put_u32(msg.get(), IFLA_MTU, mtu) < 0) {
        return nomem(what);
    }
    return request(msg.get(), what);
}

Status Netlink::set_mac(int index, const std::string& mac) {
    std::string what = "netlink: set link #" + std::to_string(index) + " address " + mac;
    COVE_ASSIGN(auto bytes, parse_mac(mac), what);
    NlMsg msg = link_msg(RTM_NEWLINK, 0, AF_UNSPEC, index);
    if (!msg ||
        nla_put(msg.get(), IFLA_ADDRESS, static_cast<int>(bytes.size()), bytes.data()) < 0) {
        return nomem(what);
    }
    return request(msg.get(), what);
}

Status Netlink::set_master(int index, int master_index) {
    std::string what =
        "netlink: set link #" + std::to_string(index) + " master #" + std::to_string(master_index);
    NlMsg msg = link_msg(RTM_NEWLINK, 0, AF_UNSPEC, index);
    if (!msg || nla_put_u32(msg.get(), IFLA_MASTER, static_cast<uint32_t>(master_index)) < 0) {
        return nomem(what);
    }
    return request(msg.get(), what);
}

Status Netlink::del_link(int index) {
    std::string what = "netlink: delete link #" + std::to_string(index);
    NlMsg msg = link_msg(RTM_DELLINK, 0, AF_UNSPEC, index);
    if (!msg) {
        return nomem(what);
    }
    auto st = request(msg.get(), what);
    if (!st && (st.error().code() == ENODEV || st.error().code() == ENOENT)) {
        return ok_status();
    }
    return st;
}

Status Netlink::del_link(const std::string& name) {
    std::string what = "netlink: delete link " + name;
    NlMsg msg = link_msg(RTM_DELLINK, 0, AF_UNSPEC, 0);
    if (!msg || nla_put_string(msg.get(), IFLA_IFNAME, name.c_str()) < 0) {
        return nomem(what);
    }
    auto st = request(msg.get(), what);
    if (!st && (st.error().code() == ENODEV || st.error().code() == ENOENT)) {
        return ok_status();
    }
    return st;
}

Result<LinkInfo> Netlink::add_veth(const VethOptions& opts) {
    std::string where = opts.peer_netns_fd >= 0 ? " in netns " + opts.peer_netns_name : "";
    std::vector<uint8_t> mac;
    if (!opts.peer_mac.empty()) {
        COVE_ASSIGN(mac, parse_mac(opts.peer_mac), "netlink: add veth peer " + opts.peer_name);
    }
    // A random host name can collide with another attachment's: retry a few times.
    for (int attempt = 0;; ++attempt) {
        std::string host = opts.host_name.empty() ? random_veth_name() : opts.host_name;
        std::string what = "netlink: add veth " + host + " (peer " + opts.peer_name + where + ")";
        NlMsg msg = link_msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, AF_UNSPEC, 0);
        if (!msg || nla_put_string(msg.get(), IFLA_IFNAME, host.c_str()) < 0 ||
            (opts.mtu != 0 && nla_put_u32(msg.get(), IFLA_MTU, opts.mtu) < 0)) {
            return nomem(what);
        }
        nlattr* info = nla_nest_start(msg.get(), IFLA_LINKINFO);
        nla_put_string(msg.get(), IFLA_INFO_KIND, "veth");
        nlattr* data = nla_nest_start(msg.get(), IFLA_INFO_DATA);
        nlattr* peer = nla_nest_start(msg.get(), 1 /* VETH_INFO_PEER */);
        ifinfomsg pifi = {};
        if (info == nullptr || data == nullptr || peer == nullptr ||
            nlmsg_append(msg.get(), &pifi, sizeof(pifi), NLMSG_ALIGNTO) < 0 ||
            nla_put_string(msg.get(), IFLA_IFNAME, opts.peer_name.c_str()) < 0 ||
            (opts.mtu != 0 && nla_put_u32(msg.get(), IFLA_MTU, opts.mtu) < 0) ||
            (!mac.empty() &&
             nla_put(msg.get(), IFLA_ADDRESS, static_cast<int>(mac.size()), mac.data()) < 0) ||
            (opts.peer_netns_fd >= 0 &&
             nla_put_u32(msg.get(), IFLA_NET_NS_FD, static_cast<uint32_t>(opts.peer_netns_fd)) <
                 0)) {
            return nomem(what);
        }
        nla_nest_end(msg.get(), peer);
        nla_nest_end(msg.get(), data);
        nla_nest_end(msg.get(), info);
        auto st = request(msg.get(), what);
        if (!st) {
            if (st.error().code() == EEXIST && opts.host_name.empty() && attempt < 8) {
                continue;
            }
            return std::move(st).error();
        }
        COVE_ASSIGN(LinkInfo l, link(host), what);
        return l;
    }
}

Status Netlink::add_address(int index, const IpNet& addr, bool nodad) {
    std::string what =
        "netlink: add address " + addr.to_string() + " to link #" + std::to_string(index);
    NlMsg msg(nlmsg_alloc_simple(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL));
    ifaddrmsg ifa = {};
    ifa.ifa_family = static_cast<unsigned char>(addr.ip.family);
    ifa.ifa_prefixlen = static_cast<unsigned char>(addr.prefix);
    ifa.ifa_flags = nodad ? IFA_F_NODAD : 0;
    ifa.ifa_scope = RT_SCOPE_UNIVERSE;
    ifa.ifa_index = static_cast<uint32_t>(index);
    if (!msg || nlmsg_append(msg.get(), &ifa, sizeof(ifa), NLMSG_ALIGNTO) < 0) {
        return nomem(what);
    }
    COVE_TRY(put_ip(msg.get(), IFA_LOCAL, addr.ip), what);
    COVE_TRY(put_ip(msg.get(), IFA_ADDRESS, addr.ip), what);
    if (addr.ip.is_v4() && addr.prefix < 31) {
        COVE_TRY(put_ip(msg.get(), IFA_BROADCAST, addr.last()), what);
    }
    return request(msg.get(), what);
}

Status Netlink::del_address(int index, const IpNet& addr) {
    std::string what =
        "netlink: delete address " + addr.to_string() + " from link #" + std::to_string(index);
    NlMsg msg(nlmsg_alloc_simple(RTM_DELADDR, 0));
    ifaddrmsg ifa = {};
    ifa.ifa_family = static_cast<unsigned char>(addr.ip.family);
    ifa.ifa_prefixlen = static_cast<unsigned char>(addr.prefix);
    ifa.ifa_index = static_cast<uint32_t>(index);
    if (!msg || nlmsg_append(msg.get(), &ifa, sizeof(ifa), NLMSG_ALIGNTO) < 0) {
        return nomem(what);
    }
    COVE_TRY(put_ip(msg.get(), IFA_LOCAL, addr.ip), what);
    auto st = request(msg.get(), what);
    if (!st && st.error().code() == EADDRNOTAVAIL) {
        return ok_status();
    }
    return st;
}

Result<std::vector<IpNet>> Netlink::addresses(int index, int family) {
    nl_cache* raw = nullptr;
    if (int err = rtnl_addr_alloc_cache(sock_.get(), &raw); err < 0) {
        return nl_error(err, "netlink: list addresses");
    }
    NlCache cache(raw);
    std::vector<IpNet> out;
    for (nl_object* o = nl_cache_get_first(cache.get()); o != nullptr; o = nl_cache_get_next(o)) {
        auto* a = reinterpret_cast<rtnl_addr*>(o);
        int fam = rtnl_addr_get_family(a);
        if ((index != 0 && rtnl_addr_get_ifindex(a) != index) || (family != 0 && fam != family)) {
            continue;
        }
        out.push_back(IpNet{to_ip(rtnl_addr_get_local(a), fam), rtnl_addr_get_prefixlen(a)});
    }
    return out;
}

namespace {

Result<NlMsg> route_msg(int type, int flags, const Route& r, const std::string& what) {
    NlMsg msg(nlmsg_alloc_simple(type, flags));
    rtmsg rtm = {};
    rtm.rtm_family = static_cast<unsigned char>(r.dst.ip.family);
    rtm.rtm_dst_len = static_cast<unsigned char>(r.dst.prefix);
    rtm.rtm_table = r.table < 256 ? static_cast<unsigned char>(r.table)
                                  : static_cast<unsigned char>(RT_TABLE_UNSPEC);
    rtm.rtm_protocol = RTPROT_BOOT;
    rtm.rtm_scope = r.gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
    rtm.rtm_type = RTN_UNICAST;
    if (!msg || nlmsg_append(msg.get(), &rtm, sizeof(rtm), NLMSG_ALIGNTO) < 0) {
        return nomem(what);
    }
    COVE_TRY(put_ip(msg.get(), RTA_DST, r.dst.network()), what);
    if (r.gw) {
        COVE_TRY(put_ip(msg.get(), RTA_GATEWAY, *r.gw), what);
    }
    if ((r.ifindex != 0 && nla_put_u32(msg.get(), RTA_OIF, static_cast<uint32_t>(r.ifindex)) < 0) ||
        (r.table >= 256 && nla_put_u32(msg.get(), RTA_TABLE, r.table) < 0)) {
        return nomem(what);
    }
    return msg;
}

std::string route_name(const Route& r) {
    return IpNet{r.dst.network(), r.dst.prefix}.to_string() +
           (r.gw ? " via " + r.gw->to_string() : "") +
           (r.ifindex != 0 ? " dev #" + std::to_string(r.ifindex) : "");
}

}  // namespace

Status Netlink::add_route(const Route& r) {
    std::string what = "netlink: add route " + route_name(r);
    COVE_ASSIGN(NlMsg msg, route_msg(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, r, what), "");
    return request(msg.get(), what);
}

Status Netlink::del_route(const Route& r) {
    std::string what = "netlink: delete route " + route_name(r);
    COVE_ASSIGN(NlMsg msg, route_msg(RTM_DELROUTE, 0, r, what), "");
    auto st = request(msg.get(), what);
    if (!st && st.error().code() == ESRCH) {
        return ok_status();
    }
    return st;
}

Result<std::vector<Route>> Netlink::routes(int family, int ifindex) {
    nl_cache* raw = nullptr;
    if (int err = rtnl_route_alloc_cache(sock_.get(), family, 0, &raw); err < 0) {
        return nl_error(err, "netlink: list routes");
    }
    NlCache cache(raw);
    std::vector<Route> out;
    for (nl_object* o = nl_cache_get_first(cache.get()); o != nullptr; o = nl_cache_get_next(o)) {
        auto* rt = reinterpret_cast<rtnl_route*>(o);
        if (rtnl_route_get_type(rt) != RTN_UNICAST || rtnl_route_get_table(rt) != RT_TABLE_MAIN) {
            continue;
        }
        int fam = rtnl_route_get_family(rt);
        nl_addr* dst = rtnl_route_get_dst(rt);
        Route r;
        r.dst = IpNet{to_ip(dst, fam),
                      dst != nullptr ? static_cast<int>(nl_addr_get_prefixlen(dst)) : 0};
        if (rtnl_route_get_nnexthops(rt) > 0) {
            rtnl_nexthop* nh = rtnl_route_nexthop_n(rt, 0);
            r.ifindex = rtnl_route_nh_get_ifindex(nh);
            if (nl_addr* gw = rtnl_route_nh_get_gateway(nh); gw != nullptr) {
                r.gw = to_ip(gw, fam);
            }
        }
        if (ifindex != 0 && r.ifindex != ifindex) {
            continue;
        }
        out.push_back(r);
    }
    return out;
}

Result<std::vector<Neighbour>> Netlink::neighbours(int ifindex) {
    nl_cache* raw = nullptr;
    if (int err = rtnl_neigh_alloc_cache(sock_.get(), &raw); err < 0) {
        return nl_error(err, "netlink: list neighbours");
    }
    NlCache cache(raw);
    std::vector<Neighbour> out;
    for (nl_object* o = nl_cache_get_first(cache.get()); o != nullptr; o = nl_cache_get_next(o)) {
        auto* n = reinterpret_cast<rtnl_neigh*>(o);
        if (ifindex != 0 && rtnl_neigh_get_ifindex(n) != ifindex) {
            continue;
        }
        int fam = rtnl_neigh_get_family(n);
        if (fam != AF_INET && fam != AF_INET6) {
            continue;
        }
        Neighbour nb;
        nb.ip = to_ip(rtnl_neigh_get_dst(n), fam);
        if (nl_addr* ll = rtnl_neigh_get_lladdr(n); ll != nullptr) {
            nb.mac = format_mac(static_cast<const uint8_t*>(nl_addr_get_binary_addr(ll)),
                                nl_addr_get_len(ll));
        }
        nb.ifindex = rtnl_neigh_get_ifindex(n);
        nb.state = rtnl_neigh_get_state(n);
        out.push_back(nb);
    }
    return out;
}

}  // namespace cove::nl
