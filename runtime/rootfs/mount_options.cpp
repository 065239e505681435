#include "runtime/rootfs/mount_options.hpp"

#include <sys/mount.h>

#include <linux/mount.h>

#include <cstring>

namespace cove::rootfs {
namespace {

struct FlagOpt {
    const char* name;
    bool clear;
    unsigned long flag;
};

constexpr FlagOpt kFlags[] = {
    {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},
    {"nosuid", false, MS_NOSUID},
    {"suid", true, MS_NOSUID},
    {"nodev", false, MS_NODEV},
    {"dev", true, MS_NODEV},
    {"noexec", false, MS_NOEXEC},
    {"exec", true, MS_NOEXEC},
    {"sync", false, MS_SYNCHRONOUS},
    {"async", true, MS_SYNCHRONOUS},
    {"dirsync", false, MS_DIRSYNC},
    {"remount", false, MS_REMOUNT},
    {"mand", false, MS_MANDLOCK},
    {"nomand", true, MS_MANDLOCK},
    {"noatime", false, MS_NOATIME},
    {"atime", true, MS_NOATIME},
    {"nodiratime", false, MS_NODIRATIME},
    {"diratime", true, MS_NODIRATIME},
    {"relatime", false, MS_RELATIME},
    {"norelatime", true, MS_RELATIME},
    {"strictatime", false, MS_STRICTATIME},
    {"nostrictatime", true, MS_STRICTATIME},
    {"silent", false, MS_SILENT},
    {"loud", true, MS_SILENT},
    {"lazytime", false, MS_LAZYTIME},
    {"nolazytime", true, MS_LAZYTIME},
    {"iversion", false, MS_I_VERSION},
    {"noiversion", true, MS_I_VERSION},
    {"nosymfollow", false, MS_NOSYMFOLLOW},
    {"symfollow", true, MS_NOSYMFOLLOW},
};

struct PropOpt {
    const char* name;
    unsigned long flag;
};

constexpr PropOpt kPropagation[] = {
    {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
    {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

struct AttrOpt {
    const char* name;
    bool clear;
    uint64_t attr;
};

constexpr AttrOpt kRecAttrs[] = {
    {"rro", false, MOUNT_ATTR_RDONLY},
    {"rrw", true, MOUNT_ATTR_RDONLY},
    {"rnosuid", false, MOUNT_ATTR_NOSUID},
    {"rsuid", true, MOUNT_ATTR_NOSUID},
    {"rnodev", false, MOUNT_ATTR_NODEV},
    {"rdev", true, MOUNT_ATTR_NODEV},
    {"rnoexec", false, MOUNT_ATTR_NOEXEC},
    {"rexec", true, MOUNT_ATTR_NOEXEC},
    {"rnodiratime", false, MOUNT_ATTR_NODIRATIME},
    {"rdiratime", true, MOUNT_ATTR_NODIRATIME},
    {"rrelatime", false, MOUNT_ATTR_RELATIME},
    {"rnorelatime", true, MOUNT_ATTR_RELATIME},
    {"rnoatime", false, MOUNT_ATTR_NOATIME},
    {"ratime", true, MOUNT_ATTR_NOATIME},
    {"rstrictatime", false, MOUNT_ATTR_STRICTATIME},
    {"rnostrictatime", true, MOUNT_ATTR_STRICTATIME},
    {"rnosymfollow", false, MOUNT_ATTR_NOSYMFOLLOW},
    {"rsymfollow", true, MOUNT_ATTR_NOSYMFOLLOW},
};

bool match_flag(const std::string& o, MountOptions& m) {
    for (const auto& f : kFlags) {
        if (o == f.name) {
            if (f.clear) {
                m.flags &= ~f.flag;
                m.cleared |= f.flag;
            } else {
                m.flags |= f.flag;
                m.cleared &= ~f.flag;
            }
            return true;
        }
    }
    return false;
}

bool match_attr(const std::string& o, MountOptions& m) {
    for (const auto& a : kRecAttrs) {
        if (o == a.name) {
            if (a.clear) {
                m.attr_clr |= a.attr;
                m.attr_set &= ~a.attr;
            } else {
                m.attr_set |= a.attr;
                m.attr_clr &= ~a.attr;
                // mount_setattr(2): an atime setting needs MOUNT_ATTR__ATIME in attr_clr.
                if ((a.attr & MOUNT_ATTR__ATIME) == a.attr) {
                    m.attr_clr |= MOUNT_ATTR__ATIME;
                }
            }
            return true;
        }
    }
    return false;
}

}  // namespace

MountOptions parse_mount_options(const std::vector<std::string>& options) {
    MountOptions m;
    for (const auto& o : options) {
        if (o == "bind" || o == "rbind") {
            m.bind = true;
            m.recursive = m.recursive || o == "rbind";
            continue;
        }
        if (match_flag(o, m) || match_attr(o, m)) {
            continue;
        }
        bool prop = false;
        for (const auto& p : kPropagation) {
            if (o == p.name) {
                m.propagation.push_back(p.flag);
                prop = true;
            }
        }
        if (o == "idmap" || o == "ridmap") {
            m.idmap = true;
            continue;
        }
        if (prop || o == "tmpcopyup" || o.empty()) {
            continue;  // tmpcopyup: a crun extension, ignored as runc does
        }
        if (!m.data.empty()) {
            m.data += ",";
        }
        m.data += o;
    }
    return m;
}

unsigned long bind_remount_flags(const MountOptions& o) {
    return o.flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME |
                      MS_RELATIME | MS_STRICTATIME);
}

}  // namespace cove::rootfs
