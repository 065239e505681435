// CNI wire types: the result of ADD (interfaces, ips, routes, dns) as one typed struct, encoded
// for and decoded from every result version cove speaks (0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0),
// the well-known error codes, and the error object a plugin prints on failure.
//
// Version differences handled here: 0.3.x/0.4.0 carry ips[].version ("4"/"6"); 1.x drops it.
// 1.1.0 adds interfaces[].mtu/socketPath/pciID and routes[].mtu/advmss/priority/table/scope;
// those are left out when encoding for older versions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cni/skel/ip.hpp"
#include "runtime/base/error.hpp"
#include "runtime/base/json.hpp"

namespace cove::cni {

// The versions whose results cove encodes and decodes, oldest first.
inline constexpr std::string_view kSupportedVersions[] = {"0.3.0", "0.3.1", "0.4.0", "1.0.0",
                                                          "1.1.0"};
inline constexpr std::string_view kLatestVersion = "1.1.0";

bool is_supported_version(std::string_view v);
// Semantic-version comparison of "a.b.c" strings: <0, 0, >0; nullopt when one does not parse.
std::optional<int> compare_versions(std::string_view a, std::string_view b);

// Well-known error codes (SPEC.md "Error"). Values 100+ are plugin specific.
enum ErrorCode : int {
    kErrIncompatibleVersion = 1,
    kErrUnsupportedField = 2,
    kErrUnknownContainer = 3,
    kErrInvalidEnv = 4,
    kErrIoFailure = 5,
    kErrDecodingFailure = 6,
    kErrInvalidNetworkConfig = 7,
    kErrInvalidNetns = 8,  // libcni's ErrInvalidNetNS
    kErrTryAgainLater = 11,
    kErrPluginNotAvailable = 50,
    kErrLimitedConnectivity = 51,
    kErrInternal = 999,  // libcni's code for errors without a well-known one
};

// A cove::Error carrying a CNI error code (in exit_code()). COVE_TRY/wrap keep the code, so
// a plugin returns cni_error(kErrInvalidNetworkConfig, "ipam: ranges: ...") from deep inside
// and the skel prints {"code":7,...}. Errors without a code print as 999.
Error cni_error(int code, std::string msg);
int cni_code_of(const Error& e);

// The JSON error object: {"cniVersion","code","msg","details"}.
struct CniError {
    std::string cni_version;
    int code = kErrInternal;
    std::string msg;
    std::string details;  // omitted when empty

    static CniError from(const Error& e, std::string_view cni_version);
    json::Json to_json() const;
    // Parses a plugin's error output; nullopt when it is not an error object.
    static std::optional<CniError> parse(std::string_view text);
    // Back to a cove::Error (code kept); "msg: details" when details are set.
    Error to_error() const;
};

struct Interface {
    std::string name;
    std::string mac;
    std::optional<int> mtu;   // 1.1.0
    std::string sandbox;      // netns path for container interfaces, empty for host ones
    std::string socket_path;  // 1.1.0
    std::string pci_id;       // 1.1.0
};

struct IpConfig {
    IpNet address;  // "10.1.2.3/24"
    std::optional<IpAddr> gateway;
    std::optional<int> interface;  // index into CniResult::interfaces
};

struct Route {
    IpNet dst;
    std::optional<IpAddr> gw;
    std::optional<int> mtu;  // 1.1.0 from here on
    std::optional<int> advmss;
    std::optional<int> priority;
    std::optional<int> table;
    std::optional<int> scope;
};

struct Dns {
    std::vector<std::string> nameservers;
    std::string domain;
    std::vector<std::string> search;
    std::vector<std::string> options;

    bool empty() const {
        return nameservers.empty() && domain.empty() && search.empty() && options.empty();
    }
};

// The ADD result (and prevResult), version-independent.
struct CniResult {
    std::string cni_version;  // the version it was decoded from / is to be encoded as
    std::vector<Interface> interfaces;
    std::vector<IpConfig> ips;
    std::vector<Route> routes;
    Dns dns;
};

// Encodes r as the given version (r.cni_version is ignored); a version cove does not speak
// is an error with code kErrIncompatibleVersion.
Result<json::Json> encode_result(const CniResult& r, std::string_view version);
// Decodes a result of any supported version; the version comes from its "cniVersion" (or
// `version` when the object has none, as prevResult objects written by old runtimes may).
// Errors carry kErrDecodingFailure.
Result<CniResult> decode_result(const json::Json& j, std::string_view version = {});
Result<CniResult> decode_result_text(std::string_view text, std::string_view version = {});

// DNS and route objects as they appear in configs ("dns", "ipam.routes").
Result<Dns> decode_dns(const json::Json& j);
Result<Route> decode_route(const json::Json& j);
json::Json encode_dns(const Dns& d);
json::Json encode_route(const Route& r, std::string_view version);

}  // namespace cove::cni
