#include "runtime/spec/spec_json.hpp"

#include <cstdint>
#include <limits>
#include <type_traits>
#include <utility>

#include "runtime/base/fs.hpp"
#include "runtime/base/json.hpp"

namespace cove::spec {

using Json = nlohmann::json;

namespace {

// Throws like nlohmann does, so the JSON path (JSON_DIAGNOSTICS) leads the message.
[[noreturn]] void fail(const Json& at, const std::string& what) {
    throw Json::type_error::create(302, what, &at);
}

void expect_object(const Json& j) {
    if (!j.is_object()) {
        fail(j, std::string("type must be object, but is ") + j.type_name());
    }
}

void expect_array(const Json& j) {
    if (!j.is_array()) {
        fail(j, std::string("type must be array, but is ") + j.type_name());
    }
}

// j[key] when present and not null.
const Json* find(const Json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
        return nullptr;
    }
    return &*it;
}

template <typename T>
[[noreturn]] void fail_range(const Json& v) {
    using Lim = std::numeric_limits<T>;
    fail(v, "number " + v.dump() + " is out of range [" + std::to_string(Lim::min()) + ", " +
                std::to_string(Lim::max()) + "]");
}

// nlohmann converts any number to any arithmetic type unchecked; Go's decoder (and so runc)
// rejects -1 for a uint32 and 1.5 for an int, and so do we.
template <typename T>
T to_int(const Json& v) {
    static_assert(std::is_integral_v<T> && !std::is_same_v<T, bool>);
    using Lim = std::numeric_limits<T>;
    if (v.is_number_unsigned()) {
        auto n = v.get<uint64_t>();
        if (n > static_cast<uint64_t>(Lim::max())) {
            fail_range<T>(v);
        }
        return static_cast<T>(n);
    }
    if (v.is_number_integer()) {
        auto n = v.get<int64_t>();
        bool fits = n < 0 ? n >= static_cast<int64_t>(Lim::min())
                          : static_cast<uint64_t>(n) <= static_cast<uint64_t>(Lim::max());
        if (!fits) {
            fail_range<T>(v);
        }
        return static_cast<T>(n);
    }
    if (v.is_number_float()) {
        fail(v, "number " + v.dump() + " is not an integer");
    }
    fail(v, std::string("type must be number, but is ") + v.type_name());
}

template <typename T>
void req_int(const Json& j, const char* key, T& out) {
    out = to_int<T>(j.at(key));
}

template <typename T>
void opt_int(const Json& j, const char* key, T& out) {
    if (const Json* v = find(j, key)) {
        out = to_int<T>(*v);
    }
}

template <typename T>
void opt_int(const Json& j, const char* key, std::optional<T>& out) {
    if (const Json* v = find(j, key)) {
        out = to_int<T>(*v);
    }
}

template <typename T>
void opt_int_list(const Json& j, const char* key, std::vector<T>& out) {
    if (const Json* v = find(j, key)) {
        expect_array(*v);
        out.clear();
        for (const Json& e : *v) {
            out.push_back(to_int<T>(e));
        }
    }
}

void read_time_offsets(const Json& j, Linux& l) {
    const Json* offsets = find(j, "timeOffsets");
    if (offsets == nullptr) {
        return;
    }
    expect_object(*offsets);
    for (const auto& [clock, value] : offsets->items()) {
        expect_object(value);
        std::pair<int64_t, uint32_t> off{0, 0};
        opt_int(value, "secs", off.first);
        opt_int(value, "nanosecs", off.second);
        l.time_offsets[clock] = off;
    }
}

}  // namespace

// from_json overloads live in cove::spec so nlohmann's get<T>() finds them by ADL; they are
// declared only here, so nothing outside this file can throw through them. Leaves first.

void from_json(const Json& j, User& u) {
    expect_object(j);
    req_int(j, "uid", u.uid);
    req_int(j, "gid", u.gid);
    opt_int(j, "umask", u.umask);
    opt_int_list(j, "additionalGids", u.additional_gids);
    json::optional(j, "username", u.username);
}

void from_json(const Json& j, Capabilities& c) {
    expect_object(j);
    json::optional(j, "bounding", c.bounding);
    json::optional(j, "effective", c.effective);
    json::optional(j, "inheritable", c.inheritable);
    json::optional(j, "permitted", c.permitted);
    json::optional(j, "ambient", c.ambient);
}

void from_json(const Json& j, Rlimit& r) {
    expect_object(j);
    json::required(j, "type", r.type);
    req_int(j, "hard", r.hard);
    req_int(j, "soft", r.soft);
}

void from_json(const Json& j, ConsoleSize& c) {
    expect_object(j);
    req_int(j, "height", c.height);
    req_int(j, "width", c.width);
}

void from_json(const Json& j, Process& p) {
    expect_object(j);
    json::optional(j, "terminal", p.terminal);
    json::optional(j, "consoleSize", p.console_size);
    json::optional(j, "user", p.user);
    json::optional(j, "args", p.args);
    json::optional(j, "commandLine", p.command_line);
    json::optional(j, "env", p.env);
    p.cwd.clear();  // REQUIRED by the spec: absent stays "" and validate() says so
    json::optional(j, "cwd", p.cwd);
    json::optional(j, "capabilities", p.capabilities);
    json::optional(j, "rlimits", p.rlimits);
    json::optional(j, "noNewPrivileges", p.no_new_privileges);
    json::optional(j, "apparmorProfile", p.apparmor_profile);
    opt_int(j, "oomScoreAdj", p.oom_score_adj);
    json::optional(j, "selinuxLabel", p.selinux_label);
}

void from_json(const Json& j, Root& r) {
    expect_object(j);
    json::required(j, "path", r.path);
    json::optional(j, "readonly", r.readonly);
}

void from_json(const Json& j, IdMapping& m) {
    expect_object(j);
    req_int(j, "containerID", m.container_id);
    req_int(j, "hostID", m.host_id);
    req_int(j, "size", m.size);
}

void from_json(const Json& j, Mount& m) {
    expect_object(j);
    json::required(j, "destination", m.destination);
    json::optional(j, "type", m.type);
    json::optional(j, "source", m.source);
    json::optional(j, "options", m.options);
    json::optional(j, "uidMappings", m.uid_mappings);
    json::optional(j, "gidMappings", m.gid_mappings);
}

void from_json(const Json& j, Hook& h) {
    expect_object(j);
    json::required(j, "path", h.path);
    json::optional(j, "args", h.args);
    json::optional(j, "env", h.env);
    opt_int(j, "timeout", h.timeout);
}

void from_json(const Json& j, Hooks& h) {
    expect_object(j);
    json::optional(j, "prestart", h.prestart);
    json::optional(j, "createRuntime", h.create_runtime);
    json::optional(j, "createContainer", h.create_container);
    json::optional(j, "startContainer", h.start_container);
    json::optional(j, "poststart", h.poststart);
    json::optional(j, "poststop", h.poststop);
}

void from_json(const Json& j, Namespace& n) {
    expect_object(j);
    json::required(j, "type", n.type);
    json::optional(j, "path", n.path);
}

void from_json(const Json& j, Device& d) {
    expect_object(j);
    json::required(j, "type", d.type);
    json::required(j, "path", d.path);
    opt_int(j, "major", d.major);  // REQUIRED unless type is "p"; absent reads as 0
    opt_int(j, "minor", d.minor);
    opt_int(j, "fileMode", d.file_mode);
    opt_int(j, "uid", d.uid);
    opt_int(j, "gid", d.gid);
}

void from_json(const Json& j, SeccompArg& a) {
    expect_object(j);
    req_int(j, "index", a.index);
    req_int(j, "value", a.value);
    opt_int(j, "valueTwo", a.value_two);
    json::required(j, "op", a.op);
}

void from_json(const Json& j, SeccompSyscall& s) {
    expect_object(j);
    json::required(j, "names", s.names);
    json::required(j, "action", s.action);
    opt_int(j, "errnoRet", s.errno_ret);
    json::optional(j, "args", s.args);
}

void from_json(const Json& j, Seccomp& s) {
    expect_object(j);
    json::required(j, "defaultAction", s.default_action);
    opt_int(j, "defaultErrnoRet", s.default_errno_ret);
    json::optional(j, "architectures", s.architectures);
    json::optional(j, "flags", s.flags);
    json::optional(j, "listenerPath", s.listener_path);
    json::optional(j, "listenerMetadata", s.listener_metadata);
    json::optional(j, "syscalls", s.syscalls);
}

void from_json(const Json& j, Personality& p) {
    expect_object(j);
    json::required(j, "domain", p.domain);
    json::optional(j, "flags", p.flags);
}

void from_json(const Json& j, Linux& l) {
    expect_object(j);
    json::optional(j, "uidMappings", l.uid_mappings);
    json::optional(j, "gidMappings", l.gid_mappings);
    json::optional(j, "sysctl", l.sysctl);
    if (const Json* r = find(j, "resources")) {
        expect_object(*r);  // the cgroups backends read the fields they know
        l.resources = *r;
    }
    json::optional(j, "cgroupsPath", l.cgroups_path);
    json::optional(j, "namespaces", l.namespaces);
    json::optional(j, "devices", l.devices);
    json::optional(j, "seccomp", l.seccomp);
    json::optional(j, "rootfsPropagation", l.rootfs_propagation);
    json::optional(j, "maskedPaths", l.masked_paths);
    json::optional(j, "readonlyPaths", l.readonly_paths);
    json::optional(j, "mountLabel", l.mount_label);
    json::optional(j, "personality", l.personality);
    read_time_offsets(j, l);
}

void from_json(const Json& j, Spec& s) {
    expect_object(j);
    json::optional(j, "ociVersion", s.oci_version);
    json::optional(j, "process", s.process);
    json::optional(j, "root", s.root);
    json::optional(j, "hostname", s.hostname);
    json::optional(j, "domainname", s.domainname);
    json::optional(j, "mounts", s.mounts);
    json::optional(j, "hooks", s.hooks);
    json::optional(j, "annotations", s.annotations);
    json::optional(j, "linux", s.linux);
}

namespace {

template <typename T>
Result<T> parse_as(const Json& j) {
    try {
        T out;
        from_json(j, out);
        return out;
    } catch (const Json::exception& e) {
        return make_error(json::describe(e));
    }
}

// Encoding, field for field like specs-go: `omitempty` fields are left out when empty.

void put_str(Json& j, const char* key, const std::string& s) {
    if (!s.empty()) {
        j[key] = s;
    }
}

void put_strs(Json& j, const char* key, const std::vector<std::string>& v) {
    if (!v.empty()) {
        j[key] = v;
    }
}

template <typename T>
void put_opt(Json& j, const char* key, const std::optional<T>& v) {
    if (v) {
        j[key] = *v;
    }
}

template <typename T>
void put_objs(Json& j, const char* key, const std::vector<T>& v);

Json encode(const User& u) {
    Json j = {{"uid", u.uid}, {"gid", u.gid}};
    put_opt(j, "umask", u.umask);
    if (!u.additional_gids.empty()) {
        j["additionalGids"] = u.additional_gids;
    }
    put_str(j, "username", u.username);
    return j;
}

Json encode(const Capabilities& c) {
    Json j = Json::object();
    put_strs(j, "bounding", c.bounding);
    put_strs(j, "effective", c.effective);
    put_strs(j, "inheritable", c.inheritable);
    put_strs(j, "permitted", c.permitted);
    put_strs(j, "ambient", c.ambient);
    return j;
}

Json encode(const Rlimit& r) {
    return {{"type", r.type}, {"hard", r.hard}, {"soft", r.soft}};
}

Json encode(const Process& p) {
    Json j = Json::object();
    if (p.terminal) {
        j["terminal"] = true;
    }
    if (p.console_size) {
        j["consoleSize"] = {{"height", p.console_size->height}, {"width", p.console_size->width}};
    }
    j["user"] = encode(p.user);
    put_strs(j, "args", p.args);
    put_str(j, "commandLine", p.command_line);
    put_strs(j, "env", p.env);
    j["cwd"] = p.cwd;
    if (p.capabilities) {
        j["capabilities"] = encode(*p.capabilities);
    }
    put_objs(j, "rlimits", p.rlimits);
    if (p.no_new_privileges) {
        j["noNewPrivileges"] = true;
    }
    put_str(j, "apparmorProfile", p.apparmor_profile);
    put_opt(j, "oomScoreAdj", p.oom_score_adj);
    put_str(j, "selinuxLabel", p.selinux_label);
    return j;
}

Json encode(const IdMapping& m) {
    return {{"containerID", m.container_id}, {"hostID", m.host_id}, {"size", m.size}};
}

Json encode(const Mount& m) {
    Json j = {{"destination", m.destination}};
    put_str(j, "type", m.type);
    put_str(j, "source", m.source);
    put_strs(j, "options", m.options);
    put_objs(j, "uidMappings", m.uid_mappings);
    put_objs(j, "gidMappings", m.gid_mappings);
    return j;
}

Json encode(const Hook& h) {
    Json j = {{"path", h.path}};
    put_strs(j, "args", h.args);
    put_strs(j, "env", h.env);
    put_opt(j, "timeout", h.timeout);
    return j;
}

Json encode(const Hooks& h) {
    Json j = Json::object();
    put_objs(j, "prestart", h.prestart);
    put_objs(j, "createRuntime", h.create_runtime);
    put_objs(j, "createContainer", h.create_container);
    put_objs(j, "startContainer", h.start_container);
    put_objs(j, "poststart", h.poststart);
    put_objs(j, "poststop", h.poststop);
    return j;
}

Json encode(const Namespace& n) {
    Json j = {{"type", n.type}};
    put_str(j, "path", n.path);
    return j;
}

Json encode(const Device& d) {
    Json j = {{"path", d.path}, {"type", d.type}, {"major", d.major}, {"minor", d.minor}};
    put_opt(j, "fileMode", d.file_mode);
    put_opt(j, "uid", d.uid);
    put_opt(j, "gid", d.gid);
    return j;
}

Json encode(const SeccompArg& a) {
    Json j = {{"index", a.index}, {"value", a.value}, {"op", a.op}};
    if (a.value_two != 0) {
        j["valueTwo"] = a.value_two;
    }
    return j;
}

Json encode(const SeccompSyscall& s) {
    Json j = {{"names", s.names}, {"action", s.action}};
    put_opt(j, "errnoRet", s.errno_ret);
    put_objs(j, "args", s.args);
    return j;
}

Json encode(const Seccomp& s) {
    Json j = {{"defaultAction", s.default_action}};
    put_opt(j, "defaultErrnoRet", s.default_errno_ret);
    put_strs(j, "architectures", s.architectures);
    put_strs(j, "flags", s.flags);
    put_str(j, "listenerPath", s.listener_path);
    put_str(j, "listenerMetadata", s.listener_metadata);
    put_objs(j, "syscalls", s.syscalls);
    return j;
}

Json encode_time_offsets(const Linux& l) {
    Json j = Json::object();
    for (const auto& [clock, off] : l.time_offsets) {
        Json o = Json::object();
        if (off.first != 0) {
            o["secs"] = off.first;
        }
        if (off.second != 0) {
            o["nanosecs"] = off.second;
        }
        j[clock] = o;
    }
    return j;
}

Json encode(const Linux& l) {
    Json j = Json::object();
    put_objs(j, "uidMappings", l.uid_mappings);
    put_objs(j, "gidMappings", l.gid_mappings);
    if (!l.sysctl.empty()) {
        j["sysctl"] = l.sysctl;
    }
    if (!l.resources.is_null()) {
        j["resources"] = l.resources;
    }
    put_str(j, "cgroupsPath", l.cgroups_path);
    put_objs(j, "namespaces", l.namespaces);
    put_objs(j, "devices", l.devices);
    if (l.seccomp) {
        j["seccomp"] = encode(*l.seccomp);
    }
    put_str(j, "rootfsPropagation", l.rootfs_propagation);
    put_strs(j, "maskedPaths", l.masked_paths);
    put_strs(j, "readonlyPaths", l.readonly_paths);
    put_str(j, "mountLabel", l.mount_label);
    if (l.personality) {
        Json p = {{"domain", l.personality->domain}};
        put_strs(p, "flags", l.personality->flags);
        j["personality"] = p;
    }
    if (!l.time_offsets.empty()) {
        j["timeOffsets"] = encode_time_offsets(l);
    }
    return j;
}

template <typename T>
void put_objs(Json& j, const char* key, const std::vector<T>& v) {
    if (v.empty()) {
        return;
    }
    Json arr = Json::array();
    for (const T& e : v) {
        arr.push_back(encode(e));
    }
    j[key] = std::move(arr);
}

}  // namespace

Result<Spec> parse_spec(const Json& j) {
    return parse_as<Spec>(j);
}

Result<Spec> parse_spec_text(std::string_view text) {
    COVE_ASSIGN(Json j, json::parse(text), "");
    return parse_spec(j);
}

Result<Spec> load_spec(const std::string& bundle_dir) {
    std::string path = bundle_dir.empty() ? "config.json" : bundle_dir + "/config.json";
    COVE_ASSIGN(std::string text, fs::read_file(path), "");
    COVE_ASSIGN(Spec spec, parse_spec_text(text), "config.json");
    return spec;
}

Result<Process> parse_process(const Json& j) {
    return parse_as<Process>(j);
}

Json to_json(const Process& process) {
    return encode(process);
}

Json to_json(const Spec& spec) {
    Json j = {{"ociVersion", spec.oci_version}};
    if (spec.process) {
        j["process"] = encode(*spec.process);
    }
    if (spec.root) {
        Json r = {{"path", spec.root->path}};
        if (spec.root->readonly) {
            r["readonly"] = true;
        }
        j["root"] = r;
    }
    put_str(j, "hostname", spec.hostname);
    put_str(j, "domainname", spec.domainname);
    put_objs(j, "mounts", spec.mounts);
    if (spec.hooks) {
        j["hooks"] = encode(*spec.hooks);
    }
    if (!spec.annotations.empty()) {
        j["annotations"] = spec.annotations;
    }
    if (spec.linux) {
        j["linux"] = encode(*spec.linux);
    }
    return j;
}

}  // namespace cove::spec
