#include "cgroups/detect.hpp"

#include <algorithm>
#include <array>

#include "runtime/base/fs.hpp"
#include "runtime/base/strings.hpp"

namespace cove::cgroups {

namespace {

constexpr std::string_view kCgroupRoot = "/sys/fs/cgroup";
constexpr std::string_view kHybridUnified = "/sys/fs/cgroup/unified";

constexpr std::array<std::string_view, 15> kV1Controllers = {
    "cpu",   "cpuacct",    "cpuset",  "memory", "devices", "freezer", "net_cls", "net_prio",
    "blkio", "perf_event", "hugetlb", "pids",   "rdma",    "misc",    "debug"};

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    auto is_oct = [](char c) { return c >= '0' && c <= '7'; };
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 3 < s.size() && is_oct(s[i + 1]) && is_oct(s[i + 2]) &&
            is_oct(s[i + 3])) {
            out +=
                static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
            i += 3;
            continue;
        }
        out += s[i];
    }
    return out;
}

bool is_v1_controller(std::string_view opt) {
    return str::starts_with(opt, "name=") ||
           std::find(kV1Controllers.begin(), kV1Controllers.end(), opt) != kV1Controllers.end();
}

// One mountinfo line: "36 25 0:32 / /sys/fs/cgroup/memory rw,relatime shared:15 - cgroup
// cgroup rw,memory". Returns false for other filesystems and malformed lines.
bool parse_line(std::string_view line, CgroupMount& out) {
    std::vector<std::string> f;
    for (auto& part : str::split(line, ' ')) {
        if (!part.empty()) {
            f.push_back(std::move(part));
        }
    }
    auto sep = std::find(f.begin(), f.end(), "-");
    if (f.size() < 6 || sep == f.end() || f.end() - sep < 4) {
        return false;
    }
    const std::string& fstype = *(sep + 1);
    if (fstype != "cgroup" && fstype != "cgroup2") {
        return false;
    }
    out = CgroupMount{};
    out.root = unescape(f[3]);
    out.mountpoint = unescape(f[4]);
    out.unified = fstype == "cgroup2";
    if (!out.unified) {
        for (const auto& opt : str::split(*(sep + 3), ',')) {
            if (is_v1_controller(opt)) {
                out.controllers.push_back(opt);
            }
        }
    }
    return true;
}

bool same_hierarchy(const CgroupMount& a, const CgroupMount& b) {
    return a.unified == b.unified && a.controllers == b.controllers;
}

}  // namespace

std::vector<CgroupMount> parse_cgroup_mounts(std::string_view mountinfo) {
    std::vector<CgroupMount> mounts;
    for (const auto& line : str::split(mountinfo, '\n')) {
        CgroupMount m;
        if (!parse_line(line, m)) {
            continue;
        }
        if (!m.unified && m.controllers.empty()) {
            continue;  // a v1 mount without controllers or name: nothing to manage
        }
        // A v1 hierarchy bind-mounted twice is listed once (the first). Every cgroup2 mount
        // is kept: unified_mount() picks the canonical one.
        bool dup =
            !m.unified && std::any_of(mounts.begin(), mounts.end(),
                                      [&](const CgroupMount& o) { return same_hierarchy(o, m); });
        if (!dup) {
            mounts.push_back(std::move(m));
        }
    }
    return mounts;
}

Result<std::vector<CgroupMount>> read_cgroup_mounts(const std::string& mountinfo_path) {
    COVE_ASSIGN(std::string text, fs::read_file(mountinfo_path), "cgroup: read mountinfo");
    return parse_cgroup_mounts(text);
}

const CgroupMount* unified_mount(const std::vector<CgroupMount>& mounts) {
    const CgroupMount* best = nullptr;
    for (const auto& m : mounts) {
        if (!m.unified) {
            continue;
        }
        if (m.mountpoint == kCgroupRoot) {
            return &m;
        }
        if (best == nullptr || m.mountpoint == kHybridUnified) {
            best = &m;
        }
    }
    return best;
}

Result<Mode> mode_of(const std::vector<CgroupMount>& mounts) {
    const CgroupMount* v2 = unified_mount(mounts);
    if (v2 != nullptr && v2->mountpoint == kCgroupRoot) {
        return Mode::kUnified;
    }
    bool any_v1 =
        std::any_of(mounts.begin(), mounts.end(), [](const CgroupMount& m) { return !m.unified; });
    if (any_v1) {
        return v2 != nullptr ? Mode::kHybrid : Mode::kLegacy;
    }
    if (v2 != nullptr) {
        return Mode::kUnified;  // cgroup2 alone, somewhere else than /sys/fs/cgroup
    }
    return errno_error(ENOENT, "cgroup: no cgroup filesystem is mounted");
}

Result<Mode> detect_mode(const std::string& mountinfo_path) {
    COVE_ASSIGN(auto mounts, read_cgroup_mounts(mountinfo_path), "");
    return mode_of(mounts);
}

std::string_view mode_name(Mode mode) {
    switch (mode) {
        case Mode::kUnified:
            return "unified";
        case Mode::kHybrid:
            return "hybrid";
        case Mode::kLegacy:
            return "legacy";
    }
    return "unknown";
}

Result<ProcCgroups> parse_proc_cgroup(std::string_view text) {
    ProcCgroups out;
    for (const auto& raw : str::split(text, '\n')) {
        std::string_view line = str::trim(raw);
        if (line.empty()) {
            continue;
        }
        // "hierarchy-ID:controller-list:cgroup-path"; the path may itself hold ':'.
        size_t a = line.find(':');
        size_t b = a == std::string_view::npos ? a : line.find(':', a + 1);
        if (b == std::string_view::npos) {
            return make_error("cgroup: invalid /proc/self/cgroup line \"" + std::string(line) +
                              "\"");
        }
        std::string path(line.substr(b + 1));
        std::string_view list = line.substr(a + 1, b - a - 1);
        if (list.empty()) {
            out[""] = path;
            continue;
        }
        for (const auto& ctrl : str::split(list, ',')) {
            out[ctrl] = path;
        }
    }
    return out;
}

Result<ProcCgroups> read_proc_cgroup(const std::string& path) {
    COVE_ASSIGN(std::string text, fs::read_file(path), "cgroup: read own cgroup");
    return parse_proc_cgroup(text);
}

}  // namespace cove::cgroups
