#include "cni/skel/skel.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>

#include "runtime/base/strings.hpp"

namespace cove::cni {

using json::Json;

std::optional<Verb> parse_verb(std::string_view s) {
    if (s == "ADD") {
        return Verb::kAdd;
    }
    if (s == "DEL") {
        return Verb::kDel;
    }
    if (s == "CHECK") {
        return Verb::kCheck;
    }
    if (s == "VERSION") {
        return Verb::kVersion;
    }
    if (s == "STATUS") {
        return Verb::kStatus;
    }
    if (s == "GC") {
        return Verb::kGc;
    }
    return std::nullopt;
}

std::string_view verb_name(Verb v) {
    switch (v) {
        case Verb::kAdd:
            return "ADD";
        case Verb::kDel:
            return "DEL";
        case Verb::kCheck:
            return "CHECK";
        case Verb::kVersion:
            return "VERSION";
        case Verb::kStatus:
            return "STATUS";
        case Verb::kGc:
            return "GC";
    }
    return "";
}

std::optional<std::string> Request::cni_arg(std::string_view key) const {
    for (const auto& [k, v] : cni_args) {
        if (k == key) {
            return v;
        }
    }
    return std::nullopt;
}

namespace {

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (size_t i = 0; i < a.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i]))) {
            return false;
        }
    }
    return true;
}

}  // namespace

Status Request::check_cni_args(std::initializer_list<std::string_view> known) const {
    auto ignore = cni_arg("IgnoreUnknown");
    if (ignore && (*ignore == "1" || iequals(*ignore, "true"))) {
        return ok_status();
    }
    for (const auto& [k, v] : cni_args) {
        if (k == "IgnoreUnknown") {
            continue;
        }
        bool found = false;
        for (auto n : known) {
            found = found || n == k;
        }
        if (!found) {
            return cni_error(kErrInvalidEnv, "CNI_ARGS: unknown key \"" + k +
                                                 "\" (set IgnoreUnknown=1 to ignore it)");
        }
    }
    return ok_status();
}

Result<std::vector<std::pair<std::string, std::string>>> parse_cni_args(std::string_view s) {
    std::vector<std::pair<std::string, std::string>> out;
    if (s.empty()) {
        return out;
    }
    for (const auto& pair : str::split(s, ';')) {
        auto eq = pair.find('=');
        if (eq == std::string::npos || eq == 0) {
            return cni_error(kErrInvalidEnv, "CNI_ARGS: invalid pair \"" + pair + "\"");
        }
        out.emplace_back(pair.substr(0, eq), pair.substr(eq + 1));
    }
    return out;
}

namespace {

bool is_alnum(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0;
}

// ^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$ (SPEC.md, for container ids and network names).
bool valid_id(std::string_view s) {
    if (s.empty() || !is_alnum(s[0])) {
        return false;
    }
    for (char c : s) {
        if (!is_alnum(c) && c != '_' && c != '.' && c != '-') {
            return false;
        }
    }
    return true;
}

}  // namespace

Status validate_container_id(std::string_view id) {
    if (id.empty()) {
        return cni_error(kErrInvalidEnv, "CNI_CONTAINERID: missing");
    }
    if (!valid_id(id)) {
        return cni_error(kErrInvalidEnv,
                         "CNI_CONTAINERID: invalid characters in \"" + std::string(id) + "\"");
    }
    return ok_status();
}

Status validate_ifname(std::string_view name) {
    if (name.empty()) {
        return cni_error(kErrInvalidEnv, "CNI_IFNAME: missing");
    }
    if (name.size() > 15) {
        return cni_error(kErrInvalidEnv,
                         "CNI_IFNAME: \"" + std::string(name) + "\" is longer than 15 characters");
    }
    if (name == "." || name == "..") {
        return cni_error(kErrInvalidEnv,
                         "CNI_IFNAME: \"" + std::string(name) + "\" is not allowed");
    }
    for (char c : name) {
        if (c == '/' || c == ':' || std::isspace(static_cast<unsigned char>(c))) {
            return cni_error(kErrInvalidEnv, "CNI_IFNAME: \"" + std::string(name) +
                                                 "\" contains '/', ':' or whitespace");
        }
    }
    return ok_status();
}

Status validate_network_name(std::string_view name) {
    if (name.empty()) {
        return cni_error(kErrInvalidNetworkConfig, "config: missing network name");
    }
    if (!valid_id(name)) {
        return cni_error(kErrInvalidNetworkConfig,
                         "config: name: invalid characters in \"" + std::string(name) + "\"");
    }
    return ok_status();
}

namespace {

std::string supported_list() {
    std::string s = "[";
    for (auto v : kSupportedVersions) {
        s += (s.size() > 1 ? ", " : "") + std::string(v);
    }
    return s + "]";
}

void read_attachments(const Json& arr, std::vector<Attachment>* out) {
    for (const auto& o : arr) {
        Attachment a;
        json::required(o, "containerID", a.container_id);
        json::optional(o, "ifname", a.ifname);
        out->push_back(std::move(a));
    }
}

// Fields after cniVersion/name; throws nlohmann's exceptions (type errors) to parse_config.
Status read_fields(const Json& j, NetConf* c) {
    json::optional(j, "type", c->type);
    if (auto it = j.find("ipam"); it != j.end() && !it->is_null()) {
        c->ipam = *it;
        json::optional(*it, "type", c->ipam_type);
    }
    if (auto it = j.find("dns"); it != j.end() && !it->is_null()) {
        COVE_ASSIGN(c->dns, decode_dns(*it), "config");
    }
    if (auto it = j.find("args"); it != j.end() && !it->is_null()) {
        c->args = *it;
        if (auto cni = it->find("cni"); cni != it->end() && cni->is_object()) {
            json::optional(*cni, "ips", c->args_cni_ips);
        }
    }
    if (auto it = j.find("runtimeConfig"); it != j.end() && !it->is_null()) {
        c->runtime_config = *it;
        json::optional(*it, "mac", c->runtime_mac);
        json::optional(*it, "ips", c->runtime_ips);
    }
    if (auto it = j.find("prevResult"); it != j.end() && !it->is_null()) {
        c->raw_prev_result = *it;
        COVE_ASSIGN(c->prev_result, decode_result(*it, c->cni_version), "config: prevResult");
    }
    // libcni before 1.2.1 sent the list as "cni.dev/attachments" (cni#1101); take either.
    for (const char* key : {"cni.dev/valid-attachments", "cni.dev/attachments"}) {
        if (auto it = j.find(key); it != j.end() && !it->is_null()) {
            read_attachments(*it, &c->valid_attachments);
            break;
        }
    }
    return ok_status();
}

}  // namespace

Status parse_config(std::string_view data, Request* req) {
    req->stdin_data = std::string(data);
    try {
        req->raw = Json::parse(data);
    } catch (const std::exception& e) {
        std::string msg = json::describe(e);
        if (auto p = msg.find("parse error at "); p != std::string::npos) {
            msg = msg.substr(p + 15);
        }
        return cni_error(kErrDecodingFailure, "config: " + msg);
    }
    const Json& j = req->raw;
    if (!j.is_object()) {
        return cni_error(kErrDecodingFailure, "config: not a JSON object");
    }
    NetConf& c = req->conf;
    try {
        json::optional(j, "name", c.name);
        COVE_TRY(validate_network_name(c.name), "");
        auto v = j.find("cniVersion");
        if (v == j.end() || v->is_null() || (v->is_string() && v->get<std::string>().empty())) {
            return cni_error(kErrIncompatibleVersion,
                             "incompatible CNI versions: config has no cniVersion (0.1.0), "
                             "plugin supports " +
                                 supported_list());
        }
        if (!v->is_string()) {
            return cni_error(kErrDecodingFailure, "config: cniVersion: not a string");
        }
        c.cni_version = v->get<std::string>();
        if (!compare_versions(c.cni_version, "0.0.0")) {
            return cni_error(kErrDecodingFailure,
                             "config: cniVersion: \"" + c.cni_version + "\" is not a version");
        }
        if (!is_supported_version(c.cni_version)) {
            return cni_error(kErrIncompatibleVersion, "incompatible CNI versions: config is \"" +
                                                          c.cni_version + "\", plugin supports " +
                                                          supported_list());
        }
        return read_fields(j, &c);
    } catch (const std::exception& e) {
        return cni_error(kErrInvalidNetworkConfig, "config: " + json::describe(e));
    }
}

namespace {

const char* env_or_empty(const Getenv& getenv, const char* name) {
    const char* v = getenv(name);
    return v != nullptr ? v : "";
}

// The environment variables SPEC.md 1.1 requires per verb (CNI_COMMAND aside).
std::vector<const char*> required_env(Verb v) {
    switch (v) {
        case Verb::kAdd:
        case Verb::kCheck:
            return {"CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME"};
        case Verb::kDel:
            return {"CNI_CONTAINERID", "CNI_IFNAME"};
        case Verb::kGc:
            return {"CNI_PATH"};
        case Verb::kStatus:
        case Verb::kVersion:
            return {};
    }
    return {};
}

// Refuses CNI_NETNS naming the plugin's own netns (libcni's CheckNetNS): an ADD there would
// reconfigure the host. A path that cannot be stat'ed is left to the plugin that enters it.
Status check_netns(const std::string& netns) {
    struct stat ns {};
    struct stat self {};
    if (netns.empty() || ::stat(netns.c_str(), &ns) != 0 ||
        ::stat("/proc/self/ns/net", &self) != 0) {
        return ok_status();
    }
    if (ns.st_dev == self.st_dev && ns.st_ino == self.st_ino) {
        return cni_error(kErrInvalidNetns,
                         "CNI_NETNS: " + netns + " is the plugin's own network namespace");
    }
    return ok_status();
}

Status min_version(const Request& req, std::string_view min) {
    auto c = compare_versions(req.conf.cni_version, min);
    if (!c || *c < 0) {
        return cni_error(kErrIncompatibleVersion, "config version \"" + req.conf.cni_version +
                                                      "\" does not allow " +
                                                      std::string(verb_name(req.verb)) +
                                                      " (needs " + std::string(min) + " or later)");
    }
    return ok_status();
}

std::string version_output(std::string_view stdin_data) {
    std::string version(kLatestVersion);
    try {
        if (!str::trim(stdin_data).empty()) {
            Json in = Json::parse(stdin_data);
            if (in.is_object() && in.contains("cniVersion") && in["cniVersion"].is_string() &&
                is_supported_version(in["cniVersion"].get<std::string>())) {
                version = in["cniVersion"].get<std::string>();
            }
        }
    } catch (const std::exception&) {
        // VERSION needs no input; an unreadable one is answered in the latest version.
    }
    Json j = Json::object();
    j["cniVersion"] = version;
    Json list = Json::array();
    for (auto v : kSupportedVersions) {
        list.push_back(std::string(v));
    }
    j["supportedVersions"] = std::move(list);
    return j.dump(4) + "\n";
}

Status run_verb(const Plugin& p, Request& req, std::string* out) {
    switch (req.verb) {
        case Verb::kAdd: {
            if (!p.add) {
                return cni_error(kErrInvalidEnv, "CNI_COMMAND: ADD is not supported");
            }
            COVE_TRY(check_netns(req.netns), "");
            COVE_ASSIGN(CniResult r, p.add(req), "");
            COVE_ASSIGN(Json j, encode_result(r, req.conf.cni_version), "");
            *out = j.dump(4) + "\n";
            return ok_status();
        }
        case Verb::kDel:
            return p.del ? p.del(req) : ok_status();
        case Verb::kCheck:
            COVE_TRY(min_version(req, "0.4.0"), "");
            COVE_TRY(check_netns(req.netns), "");
            return p.check ? p.check(req) : ok_status();
        case Verb::kStatus:
            COVE_TRY(min_version(req, "1.1.0"), "");
            return p.status ? p.status(req) : ok_status();
        case Verb::kGc:
            COVE_TRY(min_version(req, "1.1.0"), "");
            return p.gc ? p.gc(req) : ok_status();
        case Verb::kVersion:
            break;
    }
    return ok_status();
}

// Everything between the environment and the plugin's callback.
Status prepare(const Getenv& getenv,
               const std::function<Result<std::string>()>& read_stdin,
               Request& req,
               const std::string& cmd) {
    auto verb = parse_verb(cmd);
    if (!verb) {
        return cni_error(kErrInvalidEnv, "CNI_COMMAND: unknown command \"" + cmd + "\"");
    }
    req.verb = *verb;
    req.container_id = env_or_empty(getenv, "CNI_CONTAINERID");
    req.netns = env_or_empty(getenv, "CNI_NETNS");
    req.ifname = env_or_empty(getenv, "CNI_IFNAME");
    req.args = env_or_empty(getenv, "CNI_ARGS");
    req.path = env_or_empty(getenv, "CNI_PATH");
    std::string missing;
    for (const char* name : required_env(req.verb)) {
        if (*env_or_empty(getenv, name) == '\0') {
            missing += (missing.empty() ? "" : ",") + std::string(name);
        }
    }
    if (!missing.empty()) {
        return cni_error(kErrInvalidEnv, "required env variables [" + missing + "] missing");
    }
    for (auto& d : str::split(req.path, ':')) {
        if (!d.empty()) {
            req.path_dirs.push_back(std::move(d));
        }
    }
    auto data = read_stdin();
    if (!data) {
        return cni_error(kErrIoFailure, "reading config from stdin: " + data.error().to_string());
    }
    if (req.verb == Verb::kVersion) {
        req.stdin_data = std::move(*data);
        return ok_status();
    }
    COVE_TRY(parse_config(*data, &req), "");
    if (req.verb == Verb::kAdd || req.verb == Verb::kDel || req.verb == Verb::kCheck) {
        COVE_TRY(validate_container_id(req.container_id), "");
        COVE_TRY(validate_ifname(req.ifname), "");
    }
    COVE_ASSIGN(req.cni_args, parse_cni_args(req.args), "");
    return ok_status();
}

}  // namespace

Outcome dispatch(const Plugin& p,
                 const Getenv& getenv,
                 const std::function<Result<std::string>()>& read_stdin) {
    Outcome o;
    std::string cmd = env_or_empty(getenv, "CNI_COMMAND");
    if (cmd.empty() && !p.about.empty()) {
        o.err = p.about + "\nCNI protocol versions supported: ";
        for (size_t i = 0; i < std::size(kSupportedVersions); ++i) {
            o.err += (i > 0 ? ", " : "") + std::string(kSupportedVersions[i]);
        }
        o.err += "\n";
    }
    Request req;
    Status st =
        cmd.empty()
            ? Status(cni_error(kErrInvalidEnv, "required env variables [CNI_COMMAND] missing"))
            : prepare(getenv, read_stdin, req, cmd);
    if (st && req.verb == Verb::kVersion) {
        o.out = version_output(req.stdin_data);
        return o;
    }
    if (st) {
        st = run_verb(p, req, &o.out);
    }
    if (!st) {
        std::string version = req.conf.cni_version;
        if (!compare_versions(version, "0.0.0")) {
            version = std::string(kLatestVersion);
        }
        o.out = CniError::from(st.error(), version).to_json().dump(4) + "\n";
        o.exit_code = 1;
    }
    return o;
}

namespace {

void write_all(int fd, std::string_view s) {
    while (!s.empty()) {
        ssize_t n = ::write(fd, s.data(), s.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return;
        }
        s.remove_prefix(static_cast<size_t>(n));
    }
}

}  // namespace

int plugin_main(const Plugin& p) {
    auto read_stdin = []() -> Result<std::string> {
        // VERSION is often run by hand; never wait on a terminal.
        if (::isatty(STDIN_FILENO) == 1) {
            return std::string();
        }
        std::string data;
        char buf[16384];
        for (;;) {
            ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n < 0) {
                if (errno == EBADF) {
                    return data;  // no stdin at all: an empty config
                }
                return sys_error("read stdin");
            }
            if (n == 0) {
                return data;
            }
            data.append(buf, static_cast<size_t>(n));
        }
    };
    Outcome o = dispatch(
        p, [](const char* n) { return ::getenv(n); }, read_stdin);
    write_all(STDOUT_FILENO, o.out);
    write_all(STDERR_FILENO, o.err);
    return o.exit_code;
}

}  // namespace cove::cni
