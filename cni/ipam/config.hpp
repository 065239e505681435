// host-local IPAM configuration, read like the reference host-local: "ranges" (a list of range
// sets; one address is allocated from each set, so [[v4...],[v6...]] gives dual stack), the
// legacy single-range form (subnet/rangeStart/rangeEnd/gateway), "routes", "dataDir",
// "resolvConf", runtimeConfig.ipRanges, and the requested addresses from CNI_ARGS "IP=",
// args.cni.ips and runtimeConfig.ips. Ranges are canonicalised and checked here.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cni/skel/ip.hpp"
#include "cni/skel/skel.hpp"
#include "cni/skel/types.hpp"
#include "runtime/base/error.hpp"
#include "runtime/base/json.hpp"

namespace cove::cni::ipam {

inline constexpr const char* kDefaultDataDir = "/var/lib/cni/networks";

struct Range {
    IpNet subnet;  // network address (host bits clear) and prefix
    IpAddr start;  // first allocatable address (inclusive)
    IpAddr end;    // last allocatable address (inclusive)
    IpAddr gateway;

    // Whether a is in [start, end] of this subnet.
    bool contains(const IpAddr& a) const;
    // Whether a may be handed out: in the range, not the gateway, not the network address,
    // not the IPv4 broadcast address.
    bool allocatable(const IpAddr& a) const;
    std::string to_string() const;  // "10.1.0.2-10.1.255.254"
};

using RangeSet = std::vector<Range>;

// The range of set containing a, or nullptr.
const Range* range_for(const RangeSet& set, const IpAddr& a);
std::string range_set_string(const RangeSet& set);

// Fills defaults (gateway .1, start .1, end: last address but the IPv4 broadcast) and checks
// the range (errors name the field).
Status canonicalize(Range* r);

struct HostLocalConfig {
    std::string name;  // network name: the store directory
    std::string data_dir = kDefaultDataDir;
    std::vector<RangeSet> range_sets;
    std::vector<Route> routes;
    Dns dns;                        // from resolvConf
    std::vector<IpAddr> requested;  // IP=, args.cni.ips, runtimeConfig.ips (deduplicated)
};

// Reads req's ipam section (and CNI_ARGS, args, runtimeConfig). Errors carry code 7
// (invalid config) or 4 (bad CNI_ARGS).
Result<HostLocalConfig> load_config(const Request& req);

// Parses a range object {"subnet","rangeStart","rangeEnd","gateway"} and canonicalises it.
Result<Range> parse_range(const json::Json& j);

// Parses resolv.conf text (nameserver, domain, search, options lines).
Dns parse_resolv_conf(std::string_view text);

}  // namespace cove::cni::ipam
