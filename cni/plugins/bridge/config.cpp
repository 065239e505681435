#include "cni/plugins/bridge/config.hpp"

#include "runtime/base/json.hpp"

namespace cove::bridge {

namespace {

using json::Json;

Error invalid(const std::string& msg) {
    return cni::cni_error(cni::kErrInvalidNetworkConfig, msg);
}

// A bool key; the reference plugin also accepts portIsolation as a string ("true").
Result<bool> get_bool(const Json& j, const char* key, bool def) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
        return def;
    }
    if (it->is_boolean()) {
        return it->get<bool>();
    }
    if (it->is_string() && (*it == "true" || *it == "false")) {
        return *it == "true";
    }
    return invalid(std::string(key) + ": must be a boolean");
}

Result<int64_t> get_int(const Json& j, const char* key, int64_t def) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
        return def;
    }
    if (!it->is_number_integer()) {
        return invalid(std::string(key) + ": must be an integer");
    }
    return it->get<int64_t>();
}

Result<uint16_t> vlan_id(const Json& j, const char* key, const std::string& where) {
    COVE_ASSIGN(int64_t v, get_int(j, key, -1), where);
    if (v < 1 || v > 4094) {
        return invalid(where + "." + key + ": must be between 1 and 4094");
    }
    return static_cast<uint16_t>(v);
}

Result<std::vector<VlanRange>> parse_trunk(const Json& raw) {
    std::vector<VlanRange> out;
    auto it = raw.find("vlanTrunk");
    if (it == raw.end() || it->is_null()) {
        return out;
    }
    if (!it->is_array()) {
        return invalid("vlanTrunk: must be a list");
    }
    for (size_t i = 0; i < it->size(); ++i) {
        const Json& e = (*it)[i];
        std::string where = "vlanTrunk[" + std::to_string(i) + "]";
        if (!e.is_object()) {
            return invalid(where + ": must be an object");
        }
        VlanRange r;
        bool has_min = e.contains("minID");
        bool has_max = e.contains("maxID");
        if (has_min != has_max) {
            return invalid(where + ": minID and maxID go together");
        }
        if (has_min) {
            COVE_ASSIGN(r.min, vlan_id(e, "minID", where), "");
            COVE_ASSIGN(r.max, vlan_id(e, "maxID", where), "");
            if (r.max < r.min) {
                return invalid(where + ": maxID must not be less than minID");
            }
            out.push_back(r);
        }
        if (e.contains("id")) {
            COVE_ASSIGN(r.min, vlan_id(e, "id", where), "");
            r.max = r.min;
            out.push_back(r);
        }
        if (!has_min && !e.contains("id")) {
            return invalid(where + ": needs id or minID/maxID");
        }
    }
    return out;
}

}  // namespace

Result<BridgeConf> parse_bridge_conf(const cni::Request& req) {
    const Json& raw = req.raw;
    BridgeConf c;
    if (auto it = raw.find("bridge"); it != raw.end() && !it->is_null()) {
        if (!it->is_string()) {
            return invalid("bridge: must be a string");
        }
        c.bridge = it->get<std::string>();
    }
    if (c.bridge.empty() || c.bridge.size() > 15 || c.bridge.find('/') != std::string::npos ||
        c.bridge == "." || c.bridge == "..") {
        return invalid("bridge: \"" + c.bridge + "\" is not a valid interface name");
    }
    COVE_ASSIGN(c.is_gateway, get_bool(raw, "isGateway", false), "");
    COVE_ASSIGN(c.is_default_gateway, get_bool(raw, "isDefaultGateway", false), "");
    c.is_gateway = c.is_gateway || c.is_default_gateway;
    COVE_ASSIGN(c.force_address, get_bool(raw, "forceAddress", false), "");
    COVE_ASSIGN(c.ip_masq, get_bool(raw, "ipMasq", false), "");
    if (auto it = raw.find("ipMasqBackend"); it != raw.end() && !it->is_null()) {
        // Masquerading is always done with nftables here; "iptables" is accepted (the
        // traffic result is the same) so configs written for the reference plugin load.
        if (!it->is_string() || (*it != "nftables" && *it != "iptables")) {
            return invalid("ipMasqBackend: must be \"nftables\" or \"iptables\"");
        }
    }
    COVE_ASSIGN(int64_t mtu, get_int(raw, "mtu", 0), "");
    if (mtu < 0 || mtu > 65535) {
        return invalid("mtu: must be between 0 and 65535");
    }
    c.mtu = static_cast<unsigned>(mtu);
    COVE_ASSIGN(c.hairpin, get_bool(raw, "hairpinMode", false), "");
    COVE_ASSIGN(c.promisc, get_bool(raw, "promiscMode", false), "");
    COVE_ASSIGN(int64_t vlan, get_int(raw, "vlan", 0), "");
    if (vlan < 0 || vlan > 4094) {
        return invalid("vlan: invalid VLAN ID " + std::to_string(vlan) +
                       " (must be between 0 and 4094)");
    }
    c.vlan = static_cast<uint16_t>(vlan);
    COVE_ASSIGN(c.vlan_trunk, parse_trunk(raw), "");
    COVE_ASSIGN(c.preserve_default_vlan, get_bool(raw, "preserveDefaultVlan", true), "");
    COVE_ASSIGN(c.mac_spoof_check, get_bool(raw, "macspoofchk", false), "");
    COVE_ASSIGN(c.enable_dad, get_bool(raw, "enabledad", false), "");
    COVE_ASSIGN(c.disable_container_interface, get_bool(raw, "disableContainerInterface", false),
                "");
    COVE_ASSIGN(c.port_isolation, get_bool(raw, "portIsolation", false), "");
    if (c.is_gateway && c.vlan != 0) {
        // The reference plugin puts the gateway on an extra veth into the VLAN; cove does not.
        return invalid("isGateway with vlan is not supported");
    }
    c.has_ipam = !req.conf.ipam_type.empty();
    if (c.disable_container_interface && c.has_ipam) {
        return invalid("disableContainerInterface: cannot be used with an ipam plugin");
    }
    c.mac = req.conf.runtime_mac;
    if (auto m = req.cni_arg("MAC")) {
        c.mac = *m;
    }
    return c;
}

}  // namespace cove::bridge
