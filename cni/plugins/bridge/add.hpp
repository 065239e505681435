// cove-bridge's verbs. ADD (add.cpp): bridge, veth pair, IPAM, addresses, routes, forwarding,
// nftables rules, undone in reverse order when any step fails. DEL, CHECK, STATUS, GC and
// main() are in bridge.cpp.
#pragma once

#include "cni/skel/skel.hpp"
#include "cni/skel/types.hpp"

namespace cove::bridge {

Result<cni::CniResult> cmd_add(const cni::Request& req);
Status cmd_del(const cni::Request& req);
Status cmd_check(const cni::Request& req);
Status cmd_status(const cni::Request& req);
Status cmd_gc(const cni::Request& req);

}  // namespace cove::bridge
