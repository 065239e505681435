// cove-bridge's network configuration: the reference bridge plugin's keys (bridge, isGateway,
// isDefaultGateway, forceAddress, ipMasq, mtu, hairpinMode, promiscMode, vlan, vlanTrunk,
// preserveDefaultVlan, macspoofchk, enabledad, disableContainerInterface, portIsolation),
// parsed and checked; errors carry CNI code 7 (invalid network config) and name the key.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cni/skel/skel.hpp"
#include "runtime/base/error.hpp"

namespace cove::bridge {

struct VlanRange {
    uint16_t min = 0;
    uint16_t max = 0;
};

struct BridgeConf {
    std::string bridge = "cni0";
    bool is_gateway = false;
    bool is_default_gateway = false;  // implies is_gateway
    bool force_address = false;
    bool ip_masq = false;
    unsigned mtu = 0;  // 0: kernel default
    bool hairpin = false;
    bool promisc = false;
    uint16_t vlan = 0;  // 0: none
    std::vector<VlanRange> vlan_trunk;
    bool preserve_default_vlan = true;
    bool mac_spoof_check = false;
    bool enable_dad = false;
    bool disable_container_interface = false;
    bool port_isolation = false;
    std::string mac;  // runtimeConfig.mac or CNI_ARGS MAC=
    bool has_ipam = false;

    bool vlan_filtering() const { return vlan != 0 || !vlan_trunk.empty(); }
};

Result<BridgeConf> parse_bridge_conf(const cni::Request& req);

}  // namespace cove::bridge
