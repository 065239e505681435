// cove-bridge's nftables rules, all tagged "<network>/<container id>/<ifname>" so DEL and GC
// remove exactly one attachment's rules:
//   table ip  cove-cni / chain postrouting (nat): ipMasq, one rule per container address
//   table ip6 cove-cni / chain postrouting (nat): the same for IPv6
//   table bridge cove-cni / chain prerouting (filter, -300): macspoofchk, frames entering
//     the bridge from the container's veth must carry the container's MAC
#pragma once

#include <string>
#include <vector>

#include "cni/skel/ip.hpp"
#include "cni/skel/skel.hpp"
#include "runtime/base/error.hpp"

namespace cove::bridge {

// The tag of one attachment; long names are shortened to a hash to fit nft's 127 characters.
std::string attachment_tag(const std::string& network,
                           const std::string& container_id,
                           const std::string& ifname);

// Masquerades traffic from each address to destinations outside its subnet (and not multicast).
Status masquerade_add(const std::string& tag, const std::vector<cni::IpNet>& addrs);
Status spoofchk_add(const std::string& tag, const std::string& host_veth, const std::string& mac);
// Removes every rule of the attachment (all three chains); nothing to remove is fine.
Status rules_del(const std::string& tag);
// Whether the attachment's masquerade rules exist (CHECK).
Result<bool> masquerade_present(const std::string& tag);
// Removes the rules of `network` whose attachment is not in `valid` (GC).
Status rules_gc(const std::string& network, const std::vector<cni::Attachment>& valid);

}  // namespace cove::bridge
