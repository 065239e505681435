#include "runtime/security/caps.hpp"

#include <sys/prctl.h>

#include <linux/capability.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <utility>

#include <sys/capability.h>

namespace cove::security {
namespace {

// Indexed by value. Our own table rather than cap_to_name(): libcap spells names in lower
// case and prints numbers for values it does not know.
constexpr std::array<std::string_view, 41> kCapNames = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};
static_assert(CAP_SYS_ADMIN == 21 && CAP_AUDIT_READ == 37 && CAP_CHECKPOINT_RESTORE == 40);
static_assert(kCapNames.size() <= 64, "the sets are 64-bit masks");

constexpr int kLastKnown = static_cast<int>(kCapNames.size()) - 1;

bool has(uint64_t mask, int value) {
    return ((mask >> value) & 1U) != 0;
}

// Bits for the known and available names of `names`; the others go to `unknown`.
uint64_t to_mask(const std::vector<std::string>& names,
                 int last_cap,
                 std::vector<std::string>& unknown) {
    uint64_t mask = 0;
    for (const auto& name : names) {
        int v = capability_from_name(name);
        if (v < 0 || v > last_cap) {
            unknown.push_back(name);
        } else {
            mask |= uint64_t{1} << v;
        }
    }
    return mask;
}

// Fills `out` with the values set in `mask` up to last_cap; returns the count.
int to_values(uint64_t mask, int last_cap, std::array<cap_value_t, 64>& out) {
    int n = 0;
    for (int v = 0; v <= last_cap; ++v) {
        if (has(mask, v)) {
            out[static_cast<size_t>(n++)] = v;
        }
    }
    return n;
}

std::string with_name(const char* what, int value) {
    std::string s(what);
    s += ' ';
    s += capability_name(value);
    return s;
}

Status set_proc(const CapabilitySets& sets) {
    cap_t c = cap_init();
    if (c == nullptr) {
        return sys_error("cap_init");
    }
    std::array<cap_value_t, 64> values{};
    const std::array<std::pair<cap_flag_t, uint64_t>, 3> flags = {{
        {CAP_EFFECTIVE, sets.effective},
        {CAP_PERMITTED, sets.permitted},
        {CAP_INHERITABLE, sets.inheritable},
    }};
    int rc = 0;
    for (const auto& [flag, mask] : flags) {
        int n = to_values(mask, sets.last_cap, values);
        if (n > 0 && rc == 0) {
            rc = cap_set_flag(c, flag, n, values.data(), CAP_SET);
        }
    }
    if (rc != 0) {
        Error e = sys_error("cap_set_flag");
        cap_free(c);
        return e;
    }
    rc = cap_set_proc(c);
    int saved = errno;
    cap_free(c);
    if (rc != 0) {
        return errno_error(saved, "capset (effective, permitted, inheritable)");
    }
    return ok_status();
}

Status set_ambient(const CapabilitySets& sets) {
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) {
        // EINVAL: a kernel before 4.3 has no ambient set; fine if none is asked for.
        if (errno != EINVAL || sets.ambient != 0) {
            return sys_error("clear the ambient capabilities");
        }
        return ok_status();
    }
    for (int v = 0; v <= sets.last_cap; ++v) {
        // The kernel only raises what is both permitted and inheritable; runc 1.1 warns and
        // goes on for the rest (its own default spec lists ambient caps without inheritable
        // ones), so those are skipped here rather than failing the container.
        if (!has(sets.permitted, v) || !has(sets.inheritable, v)) {
            continue;
        }
        if (has(sets.ambient, v) && ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE,
                                            static_cast<unsigned long>(v), 0, 0) != 0) {
            return sys_error(with_name("raise ambient capability", v));
        }
    }
    return ok_status();
}

}  // namespace

int capability_from_name(std::string_view name) {
    for (size_t i = 0; i < kCapNames.size(); ++i) {
        if (kCapNames[i] == name) {
            return static_cast<int>(i);
        }
    }
    return -1;
}

std::string_view capability_name(int value) {
    if (value < 0 || value > kLastKnown) {
        return {};
    }
    return kCapNames[static_cast<size_t>(value)];
}

int last_capability() {
    // cap_max_bits() is the kernel's CAP_LAST_CAP + 1, probed by libcap at load time.
    static const int last = std::min(static_cast<int>(cap_max_bits()) - 1, kLastKnown);
    return last;
}

std::vector<std::string> known_capabilities() {
    std::vector<std::string> out;
    for (int v = 0; v <= last_capability(); ++v) {
        out.emplace_back(kCapNames[static_cast<size_t>(v)]);
    }
    return out;
}

CapabilitySets resolve_capabilities(const spec::Capabilities& caps, int last_cap) {
    CapabilitySets s;
    s.last_cap = last_cap < 0 ? last_capability() : std::min(last_cap, kLastKnown);
    s.bounding = to_mask(caps.bounding, s.last_cap, s.unknown);
    s.effective = to_mask(caps.effective, s.last_cap, s.unknown);
    s.permitted = to_mask(caps.permitted, s.last_cap, s.unknown);
    s.inheritable = to_mask(caps.inheritable, s.last_cap, s.unknown);
    s.ambient = to_mask(caps.ambient, s.last_cap, s.unknown);
    std::sort(s.unknown.begin(), s.unknown.end());
    s.unknown.erase(std::unique(s.unknown.begin(), s.unknown.end()), s.unknown.end());
    return s;
}

std::string unknown_capabilities_warning(const std::vector<std::string>& unknown) {
    // logrus.Warn("...: ", keys) prints a Go []string as "[a b]".
    std::string msg = "ignoring unknown or unavailable capabilities: [";
    for (size_t i = 0; i < unknown.size(); ++i) {
        if (i > 0) {
            msg += ' ';
        }
        msg += unknown[i];
    }
    msg += ']';
    return msg;
}

Status drop_bounding(const CapabilitySets& sets) noexcept {
    for (int v = 0; v <= sets.last_cap; ++v) {
        if (has(sets.bounding, v)) {
            continue;
        }
        int in_set = ::prctl(PR_CAPBSET_READ, static_cast<unsigned long>(v), 0, 0, 0);
        if (in_set == 0) {
            continue;  // already gone: no CAP_SETPCAP needed
        }
        if (in_set < 0 && errno == EINVAL) {
            continue;  // not a capability of this kernel
        }
        if (::prctl(PR_CAPBSET_DROP, static_cast<unsigned long>(v), 0, 0, 0) != 0) {
            return sys_error(with_name("drop bounding capability", v));
        }
    }
    return ok_status();
}

Status apply_capabilities(const CapabilitySets& sets) noexcept {
    // runc clears keep-caps before applying; it only matters at the uid change, which is over.
    if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) {
        return sys_error("prctl(PR_SET_KEEPCAPS, 0)");
    }
    COVE_TRY(set_proc(sets), "");
    COVE_TRY(set_ambient(sets), "");
    return ok_status();
}

}  // namespace cove::security
