// CHandle<T, Free>: the one owner of a C library object (libnl sockets, links, addresses,
// routes, caches, messages; libnftables contexts), freed with its library's own function.
// The aliases below name every libnl object cni/netlink holds.
#pragma once

#include <memory>

#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/route.h>
#include <netlink/socket.h>

namespace cove::nl {

template <typename T, auto Free>
struct CFree {
    void operator()(T* p) const noexcept {
        if (p != nullptr) {
            Free(p);
        }
    }
};

template <typename T, auto Free>
using CHandle = std::unique_ptr<T, CFree<T, Free>>;

using NlSock = CHandle<nl_sock, nl_socket_free>;
using NlMsg = CHandle<nl_msg, nlmsg_free>;
using NlCache = CHandle<nl_cache, nl_cache_free>;
using NlAddr = CHandle<nl_addr, nl_addr_put>;
using NlCb = CHandle<nl_cb, nl_cb_put>;
using RtnlLink = CHandle<rtnl_link, rtnl_link_put>;
using RtnlAddr = CHandle<rtnl_addr, rtnl_addr_put>;
using RtnlRoute = CHandle<rtnl_route, rtnl_route_put>;
using RtnlNexthop = CHandle<rtnl_nexthop, rtnl_route_nh_free>;
using RtnlNeigh = CHandle<rtnl_neigh, rtnl_neigh_put>;

}  // namespace cove::nl
