// The CNI plugin skeleton: reads CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, CNI_ARGS,
// CNI_PATH and the stdin config into a typed Request, checks what SPEC.md 1.1 requires per verb,
// dispatches ADD DEL CHECK VERSION STATUS GC to the plugin's callbacks, and prints the result
// (in the config's cniVersion) or the error object on stdout. A plugin's main() is
//
//     int main() { return cove::cni::plugin_main(make_plugin()); }
//
// No exception leaves this layer: nlohmann's are caught where the config is parsed.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cni/skel/types.hpp"
#include "runtime/base/error.hpp"
#include "runtime/base/json.hpp"

namespace cove::cni {

enum class Verb { kAdd, kDel, kCheck, kVersion, kStatus, kGc };
std::optional<Verb> parse_verb(std::string_view s);
std::string_view verb_name(Verb v);

// One entry of "cni.dev/valid-attachments" (GC).
struct Attachment {
    std::string container_id;
    std::string ifname;
    friend bool operator==(const Attachment&, const Attachment&) = default;
};

// The fields of the stdin config every plugin may look at. Plugin-specific keys are read from
// Request::raw.
struct NetConf {
    std::string cni_version;
    std::string name;
    std::string type;
    std::string ipam_type;  // ipam.type, empty when there is no ipam section
    json::Json ipam;        // the ipam object (null when absent)
    Dns dns;
    json::Json args;                            // "args" (null when absent)
    std::vector<std::string> args_cni_ips;      // args.cni.ips
    json::Json runtime_config;                  // "runtimeConfig" (null when absent)
    std::string runtime_mac;                    // runtimeConfig.mac
    std::vector<std::string> runtime_ips;       // runtimeConfig.ips
    std::optional<CniResult> prev_result;       // decoded "prevResult"
    json::Json raw_prev_result;                 // as given (null when absent)
    std::vector<Attachment> valid_attachments;  // GC: cni.dev/valid-attachments
};

struct Request {
    Verb verb = Verb::kVersion;
    std::string container_id;
    std::string netns;
    std::string ifname;
    std::string args;                                           // CNI_ARGS as given
    std::string path;                                           // CNI_PATH as given
    std::vector<std::pair<std::string, std::string>> cni_args;  // CNI_ARGS parsed, in order
    std::vector<std::string> path_dirs;  // CNI_PATH split on ':' (empty entries dropped)
    std::string stdin_data;              // the config bytes, for delegation
    json::Json raw;                      // the whole config object
    NetConf conf;

    // CNI_ARGS value of key, nullopt when absent.
    std::optional<std::string> cni_arg(std::string_view key) const;
    // OK when every CNI_ARGS key is in `known` or IgnoreUnknown is 1/true (case-insensitive,
    // like libcni's LoadArgs); else a kErrInvalidEnv error naming the key.
    Status check_cni_args(std::initializer_list<std::string_view> known) const;
};

// Parses "K=V;K2=V2" (empty string: no pairs). A pair without '=' is a kErrInvalidEnv error.
Result<std::vector<std::pair<std::string, std::string>>> parse_cni_args(std::string_view s);

// Name checks of SPEC.md / libcni's utils (errors carry the codes libcni uses).
Status validate_container_id(std::string_view id);    // kErrInvalidEnv
Status validate_ifname(std::string_view name);        // kErrInvalidEnv
Status validate_network_name(std::string_view name);  // kErrInvalidNetworkConfig

// Parses the stdin config into req->raw and req->conf (errors: 6 decode, 7 invalid config).
Status parse_config(std::string_view data, Request* req);

struct Plugin {
    std::string about;  // "cove-bridge 0.1.0", printed to stderr when CNI_COMMAND is unset
    std::function<Result<CniResult>(const Request&)> add;
    std::function<Status(const Request&)> del;
    std::function<Status(const Request&)> check;
    std::function<Status(const Request&)> status;  // unset: always ready
    std::function<Status(const Request&)> gc;      // unset: nothing to collect
};

// The process environment as the skel sees it (tests pass their own).
using Getenv = std::function<const char*(const char*)>;

// What dispatch() produced: the text for stdout and stderr, and the exit status.
struct Outcome {
    std::string out;
    std::string err;
    int exit_code = 0;
};

// The whole verb, without touching the process: env from getenv, config from stdin_data.
// read_stdin is called only for verbs that take a config.
Outcome dispatch(const Plugin& p,
                 const Getenv& getenv,
                 const std::function<Result<std::string>()>& read_stdin);

// Reads the real environment and stdin, writes stdout/stderr, returns the exit status.
int plugin_main(const Plugin& p);

}  // namespace cove::cni
