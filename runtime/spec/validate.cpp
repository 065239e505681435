#include "runtime/spec/validate.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <vector>

#include "runtime/base/fs.hpp"

namespace cove::spec {

namespace {

constexpr std::array kNamespaceTypes = {"pid", "network", "mount",  "ipc",
                                        "uts", "user",    "cgroup", "time"};

constexpr std::array kRlimits = {
    "RLIMIT_AS",     "RLIMIT_CORE",   "RLIMIT_CPU",        "RLIMIT_DATA",
    "RLIMIT_FSIZE",  "RLIMIT_LOCKS",  "RLIMIT_MEMLOCK",    "RLIMIT_MSGQUEUE",
    "RLIMIT_NICE",   "RLIMIT_NOFILE", "RLIMIT_NPROC",      "RLIMIT_RSS",
    "RLIMIT_RTPRIO", "RLIMIT_RTTIME", "RLIMIT_SIGPENDING", "RLIMIT_STACK"};

constexpr std::array kPropagations = {"shared",  "slave",  "private",  "unbindable",
                                      "rshared", "rslave", "rprivate", "runbindable"};

constexpr std::array kDeviceTypes = {"c", "b", "u", "p"};

constexpr std::array kSeccompActions = {
    "SCMP_ACT_KILL",  "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
    "SCMP_ACT_TRAP",  "SCMP_ACT_ERRNO",        "SCMP_ACT_TRACE",
    "SCMP_ACT_ALLOW", "SCMP_ACT_LOG",          "SCMP_ACT_NOTIFY"};

constexpr std::array kSeccompOps = {"SCMP_CMP_NE",       "SCMP_CMP_LT", "SCMP_CMP_LE",
                                    "SCMP_CMP_EQ",       "SCMP_CMP_GE", "SCMP_CMP_GT",
                                    "SCMP_CMP_MASKED_EQ"};

constexpr std::array kSeccompFlags = {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
                                      "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
                                      "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"};

constexpr std::array kPersonalityDomains = {"LINUX", "LINUX32"};

// The clocks /proc/self/timens_offsets accepts.
constexpr std::array kTimeClocks = {"monotonic", "boottime"};

// Sysctls the IPC namespace isolates (plus every fs.mqueue.*), as runc lists them.
constexpr std::array kIpcSysctls = {"kernel.msgmax", "kernel.msgmnb",         "kernel.msgmni",
                                    "kernel.sem",    "kernel.shmall",         "kernel.shmmax",
                                    "kernel.shmmni", "kernel.shm_rmid_forced"};

constexpr uint64_t kIdSpace = uint64_t{1} << 32;
constexpr int kSeccompMaxArgs = 6;

template <size_t N>
bool one_of(const std::array<const char*, N>& set, std::string_view s) {
    for (const char* e : set) {
        if (s == e) {
            return true;
        }
    }
    return false;
}

// Go's %q, enough for messages: quotes, escapes '"', '\\' and control bytes.
std::string quote(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
            constexpr std::string_view kHex = "0123456789abcdef";
            auto u = static_cast<unsigned char>(c);
            out += "\\x";
            out += kHex[u >> 4];
            out += kHex[u & 0xf];
        } else {
            out += c;
        }
    }
    return out + "\"";
}

Error invalid(const std::string& field, const std::string& cause) {
    return make_error(field + ": " + cause);
}

std::string at(std::string_view field, size_t i) {
    return std::string(field) + "[" + std::to_string(i) + "]";
}

bool is_abs(std::string_view p) {
    return !p.empty() && p[0] == '/';
}

Status check_abs(const std::string& field, const std::string& path) {
    if (!is_abs(path)) {
        return invalid(field, quote(path) + " is not an absolute path");
    }
    return ok_status();
}

// The namespaces of linux.namespaces by type, with their index for messages.
struct NsSet {
    std::map<std::string, size_t> index;
    const Spec* spec = nullptr;

    bool has(const std::string& type) const { return index.count(type) != 0; }
    const Namespace& get(const std::string& type) const {
        return spec->linux->namespaces[index.at(type)];
    }
    bool is_new(const std::string& type) const { return has(type) && get(type).path.empty(); }
};

Status check_env(const std::vector<std::string>& env) {
    for (size_t i = 0; i < env.size(); ++i) {
        const std::string& e = env[i];
        auto eq = e.find('=');
        if (eq == std::string::npos) {
            return invalid(at("process.env", i), quote(e) + " has no \"=\"");
        }
        if (eq == 0) {
            return invalid(at("process.env", i), quote(e) + " has an empty name");
        }
        if (e.find('\0') != std::string::npos) {
            return invalid(at("process.env", i), quote(e) + " contains a nul byte");
        }
    }
    return ok_status();
}

Status check_rlimits(const std::vector<Rlimit>& rlimits) {
    std::set<std::string> seen;
    for (size_t i = 0; i < rlimits.size(); ++i) {
        const Rlimit& r = rlimits[i];
        std::string field = at("process.rlimits", i);
        if (!one_of(kRlimits, r.type)) {
            return invalid(field + ".type", "unknown rlimit " + quote(r.type));
        }
        if (!seen.insert(r.type).second) {
            return invalid(field + ".type", "duplicate rlimit " + quote(r.type));
        }
        if (r.soft > r.hard) {
            return invalid(field, "soft limit " + std::to_string(r.soft) +
                                      " is greater than hard limit " + std::to_string(r.hard));
        }
    }
    return ok_status();
}

Status check_process(const std::optional<Process>& process) {
    if (!process) {
        return invalid("process", "must be set");
    }
    const Process& p = *process;
    if (p.args.empty()) {
        return invalid("process.args", "must not be empty");
    }
    if (p.cwd.empty()) {
        return invalid("process.cwd", "must not be empty");
    }
    COVE_TRY(check_abs("process.cwd", p.cwd), "");
    COVE_TRY(check_env(p.env), "");
    COVE_TRY(check_rlimits(p.rlimits), "");
    if (p.oom_score_adj && (*p.oom_score_adj < -1000 || *p.oom_score_adj > 1000)) {
        return invalid("process.oomScoreAdj",
                       std::to_string(*p.oom_score_adj) + " is out of range [-1000, 1000]");
    }
    return ok_status();
}

Status check_root(const Spec& spec, const std::string& bundle_dir) {
    if (!spec.root) {
        return invalid("root", "must be set");
    }
    if (spec.root->path.empty()) {
        return invalid("root.path", "must not be empty");
    }
    // runc also refuses a rootfs path that crosses a symlink; we accept it (the mount code
    // resolves it), as users with a symlinked /tmp or bundle directory would expect.
    std::string rootfs = resolve_rootfs(spec, bundle_dir);
    struct stat st {};
    if (::stat(rootfs.c_str(), &st) != 0) {
        return errno_error(errno, "root.path: " + rootfs);
    }
    if (!S_ISDIR(st.st_mode)) {
        return errno_error(ENOTDIR, "root.path: " + rootfs);
    }
    return ok_status();
}

bool has_bind_option(const Mount& m) {
    for (const std::string& o : m.options) {
        if (o == "bind" || o == "rbind") {
            return true;
        }
    }
    return m.type == "bind";
}

Status check_mounts(const std::vector<Mount>& mounts) {
    for (size_t i = 0; i < mounts.size(); ++i) {
        const Mount& m = mounts[i];
        std::string field = at("mounts", i);
        COVE_TRY(check_abs(field + ".destination", m.destination), "");
        if (m.uid_mappings.empty() && m.gid_mappings.empty()) {
            continue;
        }
        if (m.uid_mappings.empty() || m.gid_mappings.empty()) {
            return invalid(field, "id-mapped mounts need both uidMappings and gidMappings");
        }
        if (!has_bind_option(m)) {
            return invalid(field + ".options", "id-mapped mounts need \"bind\" or \"rbind\"");
        }
    }
    return ok_status();
}

Status check_hook_list(const std::vector<Hook>& hooks, const std::string& name) {
    for (size_t i = 0; i < hooks.size(); ++i) {
        std::string field = at("hooks." + name, i);
        COVE_TRY(check_abs(field + ".path", hooks[i].path), "");
        if (hooks[i].timeout && *hooks[i].timeout <= 0) {
            return invalid(field + ".timeout", "must be greater than zero");
        }
    }
    return ok_status();
}

Status check_hooks(const std::optional<Hooks>& hooks) {
    if (!hooks) {
        return ok_status();
    }
    COVE_TRY(check_hook_list(hooks->prestart, "prestart"), "");
    COVE_TRY(check_hook_list(hooks->create_runtime, "createRuntime"), "");
    COVE_TRY(check_hook_list(hooks->create_container, "createContainer"), "");
    COVE_TRY(check_hook_list(hooks->start_container, "startContainer"), "");
    COVE_TRY(check_hook_list(hooks->poststart, "poststart"), "");
    COVE_TRY(check_hook_list(hooks->poststop, "poststop"), "");
    return ok_status();
}

Result<NsSet> check_namespaces(const Spec& spec) {
    NsSet set;
    set.spec = &spec;
    if (!spec.linux) {
        return set;
    }
    const auto& nss = spec.linux->namespaces;
    for (size_t i = 0; i < nss.size(); ++i) {
        const Namespace& ns = nss[i];
        if (!one_of(kNamespaceTypes, ns.type)) {
            return invalid(at("linux.namespaces", i) + ".type",
                           "unknown namespace " + quote(ns.type));
        }
        if (!ns.path.empty()) {
            COVE_TRY(check_abs(at("linux.namespaces", i) + ".path", ns.path), "");
        }
        if (!set.index.emplace(ns.type, i).second) {
            return invalid("linux.namespaces", "duplicate namespace " + quote(ns.type));
        }
    }
    return set;
}

Status check_uts(const Spec& spec, const NsSet& ns) {
    // A joined uts namespace is fine too (runc checks for presence only).
    if (!spec.hostname.empty() && !ns.has("uts")) {
        return invalid("hostname", "cannot set hostname without a new uts namespace");
    }
    if (!spec.domainname.empty() && !ns.has("uts")) {
        return invalid("domainname", "cannot set domainname without a new uts namespace");
    }
    return ok_status();
}

Status check_mappings(const std::vector<IdMapping>& maps, const std::string& field) {
    for (size_t i = 0; i < maps.size(); ++i) {
        const IdMapping& m = maps[i];
        if (m.size == 0) {
            return invalid(at(field, i) + ".size", "must not be zero");
        }
        if (uint64_t{m.container_id} + m.size > kIdSpace) {
            return invalid(at(field, i), "containerID + size overflows uint32");
        }
        if (uint64_t{m.host_id} + m.size > kIdSpace) {
            return invalid(at(field, i), "hostID + size overflows uint32");
        }
    }
    return ok_status();
}

Status check_user_ns(const Linux& l, const NsSet& ns) {
    if (!ns.has("user")) {
        if (!l.uid_mappings.empty()) {
            return invalid("linux.uidMappings",
                           "user namespace mappings given without a user namespace");
        }
        if (!l.gid_mappings.empty()) {
            return invalid("linux.gidMappings",
                           "user namespace mappings given without a user namespace");
        }
    }
    if (ns.is_new("user")) {
        if (l.uid_mappings.empty()) {
            return invalid("linux.uidMappings", "must not be empty with a new user namespace");
        }
        if (l.gid_mappings.empty()) {
            return invalid("linux.gidMappings", "must not be empty with a new user namespace");
        }
    }
    COVE_TRY(check_mappings(l.uid_mappings, "linux.uidMappings"), "");
    COVE_TRY(check_mappings(l.gid_mappings, "linux.gidMappings"), "");
    return ok_status();
}

Status check_devices(const std::vector<Device>& devices) {
    for (size_t i = 0; i < devices.size(); ++i) {
        const Device& d = devices[i];
        std::string field = at("linux.devices", i);
        if (!one_of(kDeviceTypes, d.type)) {
            return invalid(field + ".type", "unknown device type " + quote(d.type));
        }
        COVE_TRY(check_abs(field + ".path", d.path), "");
    }
    return ok_status();
}

Status check_path_list(const std::vector<std::string>& paths,
                       const std::string& field,
                       const std::string& what,
                       const NsSet& ns) {
    if (!paths.empty() && !ns.has("mount")) {
        return invalid(field, "cannot " + what + " without a new mount namespace");
    }
    for (size_t i = 0; i < paths.size(); ++i) {
        COVE_TRY(check_abs(at(field, i), paths[i]), "");
    }
    return ok_status();
}

// "net/ipv4/conf/eno2.100/rp_filter" -> "net.ipv4.conf.eno2/100.rp_filter" (sysctl.d(5)).
std::string sysctl_dotted(const std::string& key) {
    auto first = key.find_first_of("./");
    if (first == std::string::npos || key[first] == '.') {
        return key;
    }
    std::string out = key;
    for (char& c : out) {
        c = c == '.' ? '/' : (c == '/' ? '.' : c);
    }
    return out;
}

// True when the network namespace the container gets is ours ("host" means current).
Result<bool> uses_host_netns(const NsSet& ns) {
    if (!ns.has("network")) {
        return true;
    }
    const Namespace& net = ns.get("network");
    if (net.path.empty()) {
        return false;
    }
    std::string field = at("linux.namespaces", ns.index.at("network")) + ".path";
    struct stat self {};
    struct stat target {};
    if (::stat("/proc/self/ns/net", &self) != 0) {
        return sys_error(field + ": stat /proc/self/ns/net");
    }
    if (::stat(net.path.c_str(), &target) != 0) {
        return sys_error(field + ": stat " + net.path);
    }
    return self.st_dev == target.st_dev && self.st_ino == target.st_ino;
}

// /proc/sys is only partly namespaced: a key is allowed when the namespace that isolates it
// is the container's own (runc's validate.sysctl).
Status check_sysctl_key(const std::string& key, const NsSet& ns) {
    const std::string s = sysctl_dotted(key);
    if (one_of(kIpcSysctls, s) || s.rfind("fs.mqueue.", 0) == 0) {
        if (ns.has("ipc")) {
            return ok_status();
        }
        return invalid("linux.sysctl", quote(key) + " needs a new ipc namespace");
    }
    if (s.rfind("net.", 0) == 0) {
        COVE_ASSIGN(bool host, uses_host_netns(ns), "");
        if (host) {
            return invalid("linux.sysctl",
                           quote(key) + " is not allowed in the host network namespace");
        }
        return ok_status();
    }
    if (ns.has("uts")) {
        if (s == "kernel.domainname") {
            return ok_status();
        }
        if (s == "kernel.hostname") {
            return invalid("linux.sysctl", quote(key) + " conflicts with the hostname field");
        }
    }
    return invalid("linux.sysctl", quote(key) + " is not in a separate kernel namespace");
}

Status check_time_offsets(const Linux& l, const NsSet& ns) {
    if (l.time_offsets.empty()) {
        return ok_status();
    }
    if (!ns.has("time")) {
        return invalid("linux.timeOffsets", "time offsets given without a time namespace");
    }
    for (const auto& [clock, off] : l.time_offsets) {
        if (!one_of(kTimeClocks, clock)) {
            return invalid("linux.timeOffsets", "unknown clock " + quote(clock));
        }
        if (off.second >= 1000000000U) {
            return invalid("linux.timeOffsets." + clock + ".nanosecs",
                           "must be less than 1000000000");
        }
    }
    return ok_status();
}

Status check_syscall(const SeccompSyscall& sc, const std::string& field) {
    if (sc.names.empty()) {
        return invalid(field + ".names", "must not be empty");
    }
    if (!one_of(kSeccompActions, sc.action)) {
        return invalid(field + ".action", "unknown action " + quote(sc.action));
    }
    for (size_t i = 0; i < sc.args.size(); ++i) {
        const SeccompArg& a = sc.args[i];
        std::string afield = at(field + ".args", i);
        if (a.index >= kSeccompMaxArgs) {
            return invalid(afield + ".index", std::to_string(a.index) + " is out of range [0, 5]");
        }
        if (!one_of(kSeccompOps, a.op)) {
            return invalid(afield + ".op", "unknown operator " + quote(a.op));
        }
    }
    return ok_status();
}

Status check_seccomp(const Seccomp& s) {
    if (!one_of(kSeccompActions, s.default_action)) {
        return invalid("linux.seccomp.defaultAction", "unknown action " + quote(s.default_action));
    }
    // The notify fd only exists once the filter is loaded; runc refuses it as default too.
    if (s.default_action == "SCMP_ACT_NOTIFY") {
        return invalid("linux.seccomp.defaultAction",
                       "SCMP_ACT_NOTIFY cannot be the default action");
    }
    for (size_t i = 0; i < s.flags.size(); ++i) {
        if (!one_of(kSeccompFlags, s.flags[i])) {
            return invalid(at("linux.seccomp.flags", i), "unknown flag " + quote(s.flags[i]));
        }
    }
    bool notify = false;
    for (size_t i = 0; i < s.syscalls.size(); ++i) {
        COVE_TRY(check_syscall(s.syscalls[i], at("linux.seccomp.syscalls", i)), "");
        notify = notify || s.syscalls[i].action == "SCMP_ACT_NOTIFY";
    }
    if (notify && s.listener_path.empty()) {
        return invalid("linux.seccomp.listenerPath", "must be set when SCMP_ACT_NOTIFY is used");
    }
    return ok_status();
}

Status check_linux(const Linux& l, const NsSet& ns) {
    COVE_TRY(check_user_ns(l, ns), "");
    COVE_TRY(check_devices(l.devices), "");
    COVE_TRY(check_path_list(l.masked_paths, "linux.maskedPaths", "mask paths", ns), "");
    COVE_TRY(check_path_list(l.readonly_paths, "linux.readonlyPaths", "make paths read-only", ns),
             "");
    if (!l.rootfs_propagation.empty() && !one_of(kPropagations, l.rootfs_propagation)) {
        return invalid("linux.rootfsPropagation",
                       "unknown propagation " + quote(l.rootfs_propagation));
    }
    for (const auto& [key, value] : l.sysctl) {
        COVE_TRY(check_sysctl_key(key, ns), "");
    }
    COVE_TRY(check_time_offsets(l, ns), "");
    if (l.seccomp) {
        COVE_TRY(check_seccomp(*l.seccomp), "");
    }
    if (l.personality && !one_of(kPersonalityDomains, l.personality->domain)) {
        return invalid("linux.personality.domain",
                       "unknown domain " + quote(l.personality->domain));
    }
    return ok_status();
}

}  // namespace

std::string resolve_rootfs(const Spec& spec, const std::string& bundle_dir) {
    if (!spec.root) {
        return "";
    }
    const std::string& path = spec.root->path;
    if (is_abs(path)) {
        return fs::clean_path(path);
    }
    std::string base = bundle_dir;
    if (!is_abs(base)) {
        char cwd[4096];
        std::string dir = ::getcwd(cwd, sizeof cwd) != nullptr ? cwd : "/";
        base = base.empty() ? dir : dir + "/" + base;
    }
    return fs::clean_path(base + "/" + path);
}

Status validate(const Spec& spec, const std::string& bundle_dir) {
    COVE_TRY(check_process(spec.process), "");
    COVE_TRY(check_root(spec, bundle_dir), "");
    COVE_TRY(check_mounts(spec.mounts), "");
    COVE_TRY(check_hooks(spec.hooks), "");
    COVE_ASSIGN(NsSet ns, check_namespaces(spec), "");
    COVE_TRY(check_uts(spec, ns), "");
    if (spec.linux) {
        COVE_TRY(check_linux(*spec.linux, ns), "");
    }
    return ok_status();
}

}  // namespace cove::spec
