// linux.cgroupsPath -> the container's directory in each hierarchy. The cgroupfs driver takes
// a path (OCI runtime-spec "Cgroups path": absolute is relative to the hierarchy's root,
// relative is runtime-defined; like runc it is under the caller's own cgroup); the systemd
// driver takes "slice:prefix:name". Pure functions over parsed mountinfo and
// /proc/self/cgroup.
#pragma once

#include <string>
#include <string_view>

#include "cgroups/detect.hpp"
#include "runtime/base/error.hpp"

namespace cove::cgroups {

// The cgroup path inside every hierarchy, lexically cleaned so ".." cannot climb out:
// "/a/b" (absolute) or "a/b" (relative to the caller's cgroup). Empty cgroups_path gives
// "/<id>". Paths naming the root or the caller's own cgroup are refused: destroy would
// remove the cgroup that holds everything else.
Result<std::string> cgroupfs_path(std::string_view cgroups_path, std::string_view id);

// The container's directory in one hierarchy: the mountpoint (under root_prefix) joined with
// the absolute path, or with the caller's own cgroup (taken relative to the mount's root,
// for nested setups where mountinfo's root is not "/") and the relative path.
Result<std::string> hierarchy_dir(std::string_view root_prefix,
                                  const CgroupMount& mount,
                                  std::string_view own_cgroup,
                                  std::string_view inner);

// --systemd-cgroup's "slice:prefix:name" (e.g. "system.slice:docker:1234").
struct SystemdPath {
    std::string slice;   // "" means the driver's default (system.slice)
    std::string prefix;  // the scope unit is "<prefix>-<name>.scope"
    std::string name;
};
// Empty cgroups_path gives {"", "cove", id}, as runc gives {"", "runc", id}.
Result<SystemdPath> parse_systemd_path(std::string_view cgroups_path, std::string_view id);

}  // namespace cove::cgroups
