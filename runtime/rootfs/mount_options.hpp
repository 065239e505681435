// Mount options of config.json (runtime-spec config.md "Mounts", runc's option table) turned
// into data: mount(2) flags, propagation changes, recursive attributes for mount_setattr, and
// the filesystem data string. Pure: no syscalls, unit-tested.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/base/error.hpp"

namespace cove::rootfs {

struct MountOptions {
    unsigned long flags = 0;                 // MS_* to set at mount / remount
    unsigned long cleared = 0;               // MS_* explicitly turned off ("rw", "suid", ...)
    std::vector<unsigned long> propagation;  // MS_SHARED|MS_REC, ... applied after the mount
    uint64_t attr_set = 0;                   // MOUNT_ATTR_* applied recursively (rro, rnosuid...)
    uint64_t attr_clr = 0;
    std::string data;  // everything else, comma-joined ("mode=755,size=64k")
    bool bind = false;
    bool recursive = false;  // rbind
    bool idmap = false;      // idmap/ridmap: idmapped mounts (not supported yet)
};

MountOptions parse_mount_options(const std::vector<std::string>& options);

// Flags that a bind mount's remount must carry (ro, nosuid, nodev, noexec, atime ones).
unsigned long bind_remount_flags(const MountOptions& o);

}  // namespace cove::rootfs
