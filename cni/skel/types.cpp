#include "cni/skel/types.hpp"

#include <charconv>

namespace cove::cni {

using json::Json;

bool is_supported_version(std::string_view v) {
    for (auto s : kSupportedVersions) {
        if (s == v) {
            return true;
        }
    }
    return false;
}

std::optional<int> compare_versions(std::string_view a, std::string_view b) {
    auto parts = [](std::string_view s) -> std::optional<std::array<int, 3>> {
        std::array<int, 3> r{};
        for (size_t i = 0; i < 3; ++i) {
            auto dot = s.find('.');
            std::string_view p = i < 2 ? s.substr(0, dot) : s;
            if (i < 2 && dot == std::string_view::npos) {
                return std::nullopt;
            }
            auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), r[i]);
            if (p.empty() || ec != std::errc() || end != p.data() + p.size()) {
                return std::nullopt;
            }
            if (i < 2) {
                s.remove_prefix(dot + 1);
            }
        }
        return r;
    };
    auto pa = parts(a);
    auto pb = parts(b);
    if (!pa || !pb) {
        return std::nullopt;
    }
    for (size_t i = 0; i < 3; ++i) {
        if ((*pa)[i] != (*pb)[i]) {
            return (*pa)[i] < (*pb)[i] ? -1 : 1;
        }
    }
    return 0;
}

Error cni_error(int code, std::string msg) {
    return make_error(std::move(msg)).with_exit_code(code);
}

int cni_code_of(const Error& e) {
    return e.exit_code() != 0 ? e.exit_code() : kErrInternal;
}

CniError CniError::from(const Error& e, std::string_view cni_version) {
    CniError r;
    r.cni_version = std::string(cni_version);
    r.code = cni_code_of(e);
    r.msg = e.to_string();
    return r;
}

Json CniError::to_json() const {
    Json j = Json::object();
    j["cniVersion"] = cni_version.empty() ? std::string(kLatestVersion) : cni_version;
    j["code"] = code;
    j["msg"] = msg;
    if (!details.empty()) {
        j["details"] = details;
    }
    return j;
}

std::optional<CniError> CniError::parse(std::string_view text) {
    try {
        Json j = Json::parse(text);
        if (!j.is_object() || !j.contains("code") || !j["code"].is_number_integer()) {
            return std::nullopt;
        }
        CniError e;
        e.code = j["code"].get<int>();
        json::optional(j, "cniVersion", e.cni_version);
        json::optional(j, "msg", e.msg);
        json::optional(j, "details", e.details);
        return e;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

Error CniError::to_error() const {
    std::string m = msg;
    if (!details.empty()) {
        m += m.empty() ? details : ": " + details;
    }
    if (m.empty()) {
        m = "error code " + std::to_string(code);
    }
    return cni_error(code, std::move(m));
}

namespace {

// Readers that throw std::runtime_error with the field name; caught in decode_result.
struct DecodeError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

IpNet get_net(const Json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) {
        throw DecodeError(std::string(key) + ": missing or not a string");
    }
    auto n = IpNet::parse(it->get_ref<const std::string&>());
    if (!n) {
        throw DecodeError(std::string(key) + ": invalid CIDR address \"" + it->get<std::string>() +
                          "\"");
    }
    return *n;
}

std::optional<IpAddr> get_ip(const Json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null() ||
        (it->is_string() && it->get_ref<const std::string&>().empty())) {
        return std::nullopt;
    }
    if (!it->is_string()) {
        throw DecodeError(std::string(key) + ": not a string");
    }
    auto a = IpAddr::parse(it->get_ref<const std::string&>());
    if (!a) {
        throw DecodeError(std::string(key) + ": invalid IP address \"" + it->get<std::string>() +
                          "\"");
    }
    return a;
}

Route route_from(const Json& j) {
    Route r;
    r.dst = get_net(j, "dst");
    r.gw = get_ip(j, "gw");
    json::optional(j, "mtu", r.mtu);
    json::optional(j, "advmss", r.advmss);
    json::optional(j, "priority", r.priority);
    json::optional(j, "table", r.table);
    json::optional(j, "scope", r.scope);
    return r;
}

Dns dns_from(const Json& j) {
    Dns d;
    if (j.is_null()) {
        return d;
    }
    json::optional(j, "nameservers", d.nameservers);
    json::optional(j, "domain", d.domain);
    json::optional(j, "search", d.search);
    json::optional(j, "options", d.options);
    return d;
}

bool is_v1_1(std::string_view version) {
    auto c = compare_versions(version, "1.1.0");
    return c && *c >= 0;
}

bool has_ip_version_field(std::string_view version) {
    auto c = compare_versions(version, "1.0.0");
    return c && *c < 0;
}

}  // namespace

Json encode_dns(const Dns& d) {
    Json j = Json::object();
    if (!d.nameservers.empty()) {
        j["nameservers"] = d.nameservers;
    }
    if (!d.domain.empty()) {
        j["domain"] = d.domain;
    }
    if (!d.search.empty()) {
        j["search"] = d.search;
    }
    if (!d.options.empty()) {
        j["options"] = d.options;
    }
    return j;
}

Json encode_route(const Route& r, std::string_view version) {
    Json j = Json::object();
    j["dst"] = r.dst.to_string();
    if (r.gw) {
        j["gw"] = r.gw->to_string();
    }
    if (is_v1_1(version)) {
        auto put = [&](const char* k, const std::optional<int>& v) {
            if (v) {
                j[k] = *v;
            }
        };
        put("mtu", r.mtu);
        put("advmss", r.advmss);
        put("priority", r.priority);
        put("table", r.table);
        put("scope", r.scope);
    }
    return j;
}

Result<Json> encode_result(const CniResult& r, std::string_view version) {
    if (!is_supported_version(version)) {
        return cni_error(kErrIncompatibleVersion,
                         "result: cannot encode version \"" + std::string(version) + "\"");
    }
    const bool v11 = is_v1_1(version);
    Json j = Json::object();
    j["cniVersion"] = std::string(version);
    if (!r.interfaces.empty()) {
        Json arr = Json::array();
        for (const auto& i : r.interfaces) {
            Json o = Json::object();
            o["name"] = i.name;
            if (!i.mac.empty()) {
                o["mac"] = i.mac;
            }
            if (!i.sandbox.empty()) {
                o["sandbox"] = i.sandbox;
            }
            if (v11) {
                if (i.mtu) {
                    o["mtu"] = *i.mtu;
                }
                if (!i.socket_path.empty()) {
                    o["socketPath"] = i.socket_path;
                }
                if (!i.pci_id.empty()) {
                    o["pciID"] = i.pci_id;
                }
            }
            arr.push_back(std::move(o));
        }
        j["interfaces"] = std::move(arr);
    }
    if (!r.ips.empty()) {
        Json arr = Json::array();
        for (const auto& ip : r.ips) {
            Json o = Json::object();
            if (has_ip_version_field(version)) {
                o["version"] = ip.address.ip.is_v4() ? "4" : "6";
            }
            o["address"] = ip.address.to_string();
            if (ip.gateway) {
                o["gateway"] = ip.gateway->to_string();
            }
            if (ip.interface) {
                o["interface"] = *ip.interface;
            }
            arr.push_back(std::move(o));
        }
        j["ips"] = std::move(arr);
    }
    if (!r.routes.empty()) {
        Json arr = Json::array();
        for (const auto& rt : r.routes) {
            arr.push_back(encode_route(rt, version));
        }
        j["routes"] = std::move(arr);
    }
    j["dns"] = encode_dns(r.dns);
    return j;
}

Result<CniResult> decode_result(const Json& j, std::string_view version) {
    try {
        if (!j.is_object()) {
            return cni_error(kErrDecodingFailure, "result: not a JSON object");
        }
        CniResult r;
        if (auto it = j.find("cniVersion"); it != j.end() && it->is_string()) {
            r.cni_version = it->get<std::string>();
        } else {
            r.cni_version = std::string(version);
        }
        if (!is_supported_version(r.cni_version)) {
            return cni_error(kErrIncompatibleVersion,
                             "result: unsupported cniVersion \"" + r.cni_version + "\"");
        }
        if (auto it = j.find("interfaces"); it != j.end() && !it->is_null()) {
            for (const auto& o : *it) {
                Interface i;
                json::optional(o, "name", i.name);
                json::optional(o, "mac", i.mac);
                json::optional(o, "mtu", i.mtu);
                json::optional(o, "sandbox", i.sandbox);
                json::optional(o, "socketPath", i.socket_path);
                json::optional(o, "pciID", i.pci_id);
                r.interfaces.push_back(std::move(i));
            }
        }
        if (auto it = j.find("ips"); it != j.end() && !it->is_null()) {
            for (const auto& o : *it) {
                IpConfig c;
                c.address = get_net(o, "address");
                c.gateway = get_ip(o, "gateway");
                json::optional(o, "interface", c.interface);
                if (auto v = o.find("version"); v != o.end() && v->is_string()) {
                    const auto& s = v->get_ref<const std::string&>();
                    if (s != (c.address.ip.is_v4() ? "4" : "6")) {
                        throw DecodeError("ips: version \"" + s + "\" does not match address " +
                                          c.address.to_string());
                    }
                }
                if (c.interface && (*c.interface < 0 ||
                                    static_cast<size_t>(*c.interface) >= r.interfaces.size())) {
                    throw DecodeError("ips: interface index " + std::to_string(*c.interface) +
                                      " out of range");
                }
                r.ips.push_back(c);
            }
        }
        if (auto it = j.find("routes"); it != j.end() && !it->is_null()) {
            for (const auto& o : *it) {
                r.routes.push_back(route_from(o));
            }
        }
        if (auto it = j.find("dns"); it != j.end()) {
            r.dns = dns_from(*it);
        }
        return r;
    } catch (const DecodeError& e) {
        return cni_error(kErrDecodingFailure, std::string("result: ") + e.what());
    } catch (const std::exception& e) {
        return cni_error(kErrDecodingFailure, "result: " + json::describe(e));
    }
}

Result<CniResult> decode_result_text(std::string_view text, std::string_view version) {
    auto j = json::parse(text);
    if (!j) {
        return cni_error(kErrDecodingFailure, "result: " + j.error().message());
    }
    return decode_result(*j, version);
}

Result<Dns> decode_dns(const Json& j) {
    try {
        return dns_from(j);
    } catch (const std::exception& e) {
        return cni_error(kErrInvalidNetworkConfig, "dns: " + json::describe(e));
    }
}

Result<Route> decode_route(const Json& j) {
    try {
        return route_from(j);
    } catch (const DecodeError& e) {
        return cni_error(kErrInvalidNetworkConfig, std::string("route: ") + e.what());
    } catch (const std::exception& e) {
        return cni_error(kErrInvalidNetworkConfig, "route: " + json::describe(e));
    }
}

}  // namespace cove::cni
