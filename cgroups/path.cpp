#include "cgroups/path.hpp"

#include "cgroups/cgroupfs.hpp"
#include "runtime/base/fs.hpp"
#include "runtime/base/strings.hpp"

namespace cove::cgroups {

namespace {

std::string quoted(std::string_view s) {
    return "\"" + std::string(s) + "\"";
}

// runc's validSlice: "<name>.slice", no '/', no leading, trailing or doubled '-'.
Status validate_slice(std::string_view slice) {
    auto bad = [&](std::string_view why) {
        return make_error("systemd cgroup driver: invalid slice name " + quoted(slice) + ": " +
                          std::string(why));
    };
    constexpr std::string_view kSuffix = ".slice";
    if (slice.size() <= kSuffix.size() || slice.substr(slice.size() - kSuffix.size()) != kSuffix) {
        return bad("it must end in .slice");
    }
    if (slice.find('/') != std::string_view::npos) {
        return bad("it must not contain /");
    }
    std::string_view base = slice.substr(0, slice.size() - kSuffix.size());
    if (base.front() == '-' || base.back() == '-' || base.find("--") != std::string_view::npos) {
        return bad("misplaced -");
    }
    return {};
}

}  // namespace

Result<std::string> cgroupfs_path(std::string_view cgroups_path, std::string_view id) {
    if (cgroups_path.empty()) {
        // crun's default; runc 1.1 uses "<id>" under the caller's cgroup instead. An absolute
        // default keeps a container's cgroup where `cove` users look for it whatever shell
        // or service cgroup they start it from.
        if (id.empty()) {
            return make_error("cgroup: empty container id");
        }
        std::string p = fs::clean_path("/" + std::string(id));
        if (p == "/") {
            return make_error("cgroup: container id " + quoted(id) + " names the root cgroup");
        }
        return p;
    }
    bool absolute = cgroups_path.front() == '/';
    std::string p =
        fs::clean_path(absolute ? std::string(cgroups_path) : "/" + std::string(cgroups_path));
    if (p == "/") {
        return make_error("cgroup: cgroupsPath " + quoted(cgroups_path) +
                          (absolute ? " names the root cgroup" : " names the caller's own cgroup"));
    }
    return absolute ? p : p.substr(1);
}

Result<std::string> hierarchy_dir(std::string_view root_prefix,
                                  const CgroupMount& mount,
                                  std::string_view own_cgroup,
                                  std::string_view inner) {
    std::string base = join_path(root_prefix, mount.mountpoint);
    if (!inner.empty() && inner.front() == '/') {
        return join_path(base, inner);
    }
    // Relative: below the caller's own cgroup. /proc/self/cgroup names it from the
    // hierarchy's real root, while the mount may show a sub-tree (mountinfo root field), as
    // in a container without a cgroup namespace; take the part below the mounted root.
    std::string own = fs::clean_path(own_cgroup);
    std::string mroot = fs::clean_path(mount.root);
    std::string rel;
    if (mroot == "/") {
        rel = own;
    } else if (own == mroot) {
        rel = "/";
    } else if (str::starts_with(own, mroot + "/")) {
        rel = own.substr(mroot.size());
    } else {
        return make_error("cgroup: own cgroup " + own + " is outside the cgroup " + mroot +
                          " mounted at " + mount.mountpoint);
    }
    return join_path(join_path(base, rel), inner);
}

Result<SystemdPath> parse_systemd_path(std::string_view cgroups_path, std::string_view id) {
    if (cgroups_path.empty()) {
        return SystemdPath{"", "cove", std::string(id)};
    }
    auto parts = str::split(cgroups_path, ':');
    if (parts.size() != 3) {
        return make_error(
            "systemd cgroup driver: expected cgroupsPath to be of format "
            "\"slice:prefix:name\", got " +
            quoted(cgroups_path));
    }
    if (parts[2].empty()) {
        return make_error("systemd cgroup driver: cgroupsPath " + quoted(cgroups_path) +
                          " has an empty name");
    }
    if (!parts[0].empty()) {
        COVE_TRY(validate_slice(parts[0]), "");
    }
    return SystemdPath{parts[0], parts[1], parts[2]};
}

}  // namespace cove::cgroups
