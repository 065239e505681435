#include "runtime/spec/defaults.hpp"

#include <unistd.h>

#include <string>
#include <string_view>
#include <utility>

namespace cove::spec {

namespace {

using Ordered = nlohmann::ordered_json;

// runc 1.1's specconv.Example(), keys in Go struct order.
constexpr std::string_view kTemplate = R"({
  "ociVersion": "1.0.2-dev",
  "process": {
    "terminal": true,
    "user": {"uid": 0, "gid": 0},
    "args": ["sh"],
    "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
    "cwd": "/",
    "capabilities": {
      "bounding": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "effective": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "permitted": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "ambient": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    },
    "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
    "noNewPrivileges": true
  },
  "root": {"path": "rootfs", "readonly": true},
  "hostname": "runc",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
     "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
     "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
    {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
     "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
    {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
     "options": ["nosuid", "noexec", "nodev"]},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs",
     "options": ["nosuid", "noexec", "nodev", "ro"]},
    {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
     "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}
  ],
  "linux": {
    "resources": {"devices": [{"allow": false, "access": "rwm"}]},
    "namespaces": [
      {"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}
    ],
    "maskedPaths": [
      "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
      "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"
    ],
    "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
  }
})";

// Mounts as runc's ToRootless rewrites them: sysfs cannot be mounted without owning the
// network namespace, so /sys is rbound from the host; uid=/gid= options name ids that are not
// mapped.
Ordered rootless_mounts(const Ordered& mounts) {
    Ordered out = Ordered::array();
    for (const Ordered& m : mounts) {
        if (m["destination"] == "/sys") {
            out.push_back({{"destination", "/sys"},
                           {"type", "none"},
                           {"source", "/sys"},
                           {"options", {"rbind", "nosuid", "noexec", "nodev", "ro"}}});
            continue;
        }
        Ordered copy = m;
        if (m.contains("options")) {
            Ordered options = Ordered::array();
            for (const Ordered& o : m["options"]) {
                const auto& s = o.get_ref<const std::string&>();
                if (s.rfind("uid=", 0) != 0 && s.rfind("gid=", 0) != 0) {
                    options.push_back(o);
                }
            }
            if (options.empty()) {
                copy.erase("options");
            } else {
                copy["options"] = std::move(options);
            }
        }
        out.push_back(std::move(copy));
    }
    return out;
}

// linux as ToRootless leaves it: mappings first (Go struct order), no resources, network and
// user namespaces dropped and a new user namespace appended.
Ordered rootless_linux(const Ordered& linux_in, uint32_t host_uid, uint32_t host_gid) {
    Ordered out = Ordered::object();
    out["uidMappings"] = {{{"containerID", 0}, {"hostID", host_uid}, {"size", 1}}};
    out["gidMappings"] = {{{"containerID", 0}, {"hostID", host_gid}, {"size", 1}}};
    for (const auto& [key, value] : linux_in.items()) {
        if (key == "resources") {
            continue;
        }
        if (key != "namespaces") {
            out[key] = value;
            continue;
        }
        Ordered nss = Ordered::array();
        for (const Ordered& ns : value) {
            if (ns["type"] != "network" && ns["type"] != "user") {
                nss.push_back(ns);
            }
        }
        nss.push_back({{"type", "user"}});
        out["namespaces"] = std::move(nss);
    }
    return out;
}

}  // namespace

Ordered default_spec_ordered(bool rootless, uint32_t host_uid, uint32_t host_gid) {
    Ordered spec = Ordered::parse(kTemplate);
    if (rootless) {
        spec["mounts"] = rootless_mounts(spec["mounts"]);
        spec["linux"] = rootless_linux(spec["linux"], host_uid, host_gid);
    }
    return spec;
}

Ordered default_spec_ordered(bool rootless) {
    return default_spec_ordered(rootless, ::geteuid(), ::getegid());
}

nlohmann::json default_spec(bool rootless) {
    return nlohmann::json::parse(default_spec_ordered(rootless).dump());
}

}  // namespace cove::spec
