// Netlink: one rtnetlink connection (libnl nl_sock) bound to the network namespace that was
// current when it was opened, with the link, bridge, address, route and neighbour operations
// the CNI plugins need. Mutations are sent as requests with an ack; the kernel's errno (and
// its extended-ack text when it gives one) come back in the error, which names the object:
// "netlink: add veth veth1a2b3c4d (peer eth0 in netns /run/netns/x): File exists".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cni/netlink/handle.hpp"
#include "cni/skel/ip.hpp"
#include "runtime/base/error.hpp"

namespace cove::nl {

using cni::IpAddr;
using cni::IpNet;

struct LinkInfo {
    int index = 0;
    std::string name;
    std::string kind;  // IFLA_INFO_KIND: "veth", "bridge", ...; empty for plain devices
    std::string mac;   // "0a:58:0a:01:00:05"; empty when the link has none
    unsigned mtu = 0;
    int master = 0;      // ifindex of the master (bridge); 0: none
    int peer_index = 0;  // IFLA_LINK: a veth's peer ifindex (in the peer's netns); 0: none
    bool up = false;     // IFF_UP (administratively)
    bool promisc = false;
};

struct Route {
    IpNet dst;                 // 0.0.0.0/0 or ::/0 for a default route
    std::optional<IpAddr> gw;  // none: a link-scope route on ifindex
    int ifindex = 0;
    uint32_t table = 254;  // RT_TABLE_MAIN
};

struct Neighbour {
    IpAddr ip;
    std::string mac;
    int ifindex = 0;
    int state = 0;  // NUD_*
};

struct BridgeOptions {
    std::string name;
    unsigned mtu = 0;  // 0: kernel default; applied only when the bridge is created
    bool vlan_filtering = false;
    bool promisc = false;
};

struct VethOptions {
    std::string host_name;  // empty: "veth" + 8 random hex digits, retried on collision
    std::string peer_name;
    std::string peer_mac;  // empty: the kernel's random MAC
    unsigned mtu = 0;      // 0: kernel default
    int peer_netns_fd = -1;
    std::string peer_netns_name;  // the netns path, for messages
};

struct BridgePortFlags {
    std::optional<bool> hairpin;
    std::optional<bool> isolated;
};

class Netlink {
public:
    // A NETLINK_ROUTE socket (O_CLOEXEC) in the current network namespace.
    static Result<Netlink> open();

    // Links.
    Result<LinkInfo> link(const std::string& name);
    Result<LinkInfo> link(int index);
    // nullopt when no link has that name.
    Result<std::optional<LinkInfo>> find_link(const std::string& name);
    Result<std::vector<LinkInfo>> links();
    Status set_up(int index, bool up);
    Status set_mtu(int index, unsigned mtu);
    Status set_promisc(int index, bool on);
    Status set_mac(int index, const std::string& mac);
    Status set_master(int index, int master_index);
    // Missing is fine (ENODEV/ENOENT give ok).
    Status del_link(int index);
    Status del_link(const std::string& name);

    // Bridges (cni/netlink/bridge.cpp).
    // Creates the bridge, or reuses the existing one (an error when name is not a bridge);
    // turns vlan_filtering/promisc on when asked, and sets it up.
    Result<LinkInfo> ensure_bridge(const BridgeOptions& opts);
    Status set_vlan_filtering(int bridge_index, bool on);
    Status set_bridge_port(int index, const BridgePortFlags& flags);
    // Adds VLANs vid..vid_end (inclusive) to a bridge port; self: on the bridge device itself.
    Status bridge_vlan_add(
        int index, uint16_t vid, uint16_t vid_end, bool pvid, bool untagged, bool self = false);
    Status bridge_vlan_del(int index, uint16_t vid, uint16_t vid_end, bool self = false);
    // Creates a veth pair; the peer goes straight into opts.peer_netns_fd. Returns the host
    // side; the peer's index is its peer_index.
    Result<LinkInfo> add_veth(const VethOptions& opts);

    // Addresses. nodad: IFA_F_NODAD (IPv6 skips duplicate address detection).
    Status add_address(int index, const IpNet& addr, bool nodad = false);
    Status del_address(int index, const IpNet& addr);  // missing is fine
    // Addresses on a link (all scopes), of one family or both (0).
    Result<std::vector<IpNet>> addresses(int index, int family = 0);

    // Routes in the main table (family 0: both); ifindex 0: on any link.
    Status add_route(const Route& r);
    Status del_route(const Route& r);  // missing is fine
    Result<std::vector<Route>> routes(int family = 0, int ifindex = 0);

    Result<std::vector<Neighbour>> neighbours(int ifindex = 0);

    // Sends a request built by the callers above and waits for its ack; what names it.
    Status request(nl_msg* msg, const std::string& what);

private:
    explicit Netlink(NlSock s) : sock_(std::move(s)) {}
    Result<LinkInfo> get_link(int index, const char* name);
    NlSock sock_;
};

// "aa:bb:cc:dd:ee:ff" <-> 6 bytes.
Result<std::vector<uint8_t>> parse_mac(const std::string& mac);
std::string format_mac(const uint8_t* bytes, size_t len);
// A libnl NLE_* code as the closest errno.
int nl_errno(int nle);

}  // namespace cove::nl
