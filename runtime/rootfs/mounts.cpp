#include "runtime/rootfs/mounts.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <linux/magic.h>
#include <linux/mount.h>
#include <linux/openat2.h>

#include "runtime/base/fs.hpp"
#include "runtime/base/strings.hpp"
#include "runtime/rootfs/mount_options.hpp"

namespace cove::rootfs {
namespace {

Status do_mount(const std::string& src,
                const std::string& dst,
                const char* type,
                unsigned long flags,
                const std::string& data,
                const std::string& what) {
    if (::mount(src.empty() ? nullptr : src.c_str(), dst.c_str(), type, flags,
                data.empty() ? nullptr : data.c_str()) != 0) {
        return sys_error(what);
    }
    return {};
}

// Flags the kernel locks on a mount made in a less privileged namespace: a remount must keep
// them or it fails with EPERM.
unsigned long locked_flags(const std::string& path) {
    struct statvfs sv {};
    if (::statvfs(path.c_str(), &sv) != 0) {
        return 0;
    }
    unsigned long f = 0;
    if ((sv.f_flag & ST_NOSUID) != 0) {
        f |= MS_NOSUID;
    }
    if ((sv.f_flag & ST_NODEV) != 0) {
        f |= MS_NODEV;
    }
    if ((sv.f_flag & ST_NOEXEC) != 0) {
        f |= MS_NOEXEC;
    }
    if ((sv.f_flag & ST_RDONLY) != 0) {
        f |= MS_RDONLY;
    }
    return f;
}

Status remount_bind(const std::string& path, unsigned long flags, const std::string& what) {
    unsigned long f = MS_BIND | MS_REMOUNT | flags;
    if (::mount(nullptr, path.c_str(), nullptr, f, nullptr) == 0) {
        return {};
    }
    if (errno == EPERM &&
        ::mount(nullptr, path.c_str(), nullptr, f | locked_flags(path), nullptr) == 0) {
        return {};
    }
    return sys_error(what);
}

Status set_propagation(const std::string& path,
                       const std::vector<unsigned long>& props,
                       const std::string& what) {
    for (unsigned long p : props) {
        COVE_TRY(do_mount("", path, nullptr, p, "", what), "set propagation");
    }
    return {};
}

Status apply_attrs(int fd, const MountOptions& o, const std::string& what) {
    if (o.attr_set == 0 && o.attr_clr == 0) {
        return {};
    }
    struct mount_attr attr {};
    attr.attr_set = o.attr_set;
    attr.attr_clr = o.attr_clr;
    if ((o.attr_clr & MOUNT_ATTR_NOATIME) != 0 || (o.attr_clr & MOUNT_ATTR_STRICTATIME) != 0 ||
        (o.attr_clr & MOUNT_ATTR_RELATIME) != 0) {
        attr.attr_clr |= MOUNT_ATTR__ATIME;
    }
    if (::syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) !=
        0) {
        return sys_error(what + ": mount_setattr");
    }
    return {};
}

bool is_dir_source(const spec::Mount& m) {
    struct stat st {};
    if (::stat(m.source.c_str(), &st) != 0) {
        return true;  // the mount call reports the missing source
    }
    return S_ISDIR(st.st_mode);
}

Result<UniqueFd> make_target(Context& ctx, const std::string& dest, bool dir) {
    if (dir) {
        return fs::mkdir_in_root(ctx.root_fd.get(), dest);
    }
    return fs::touch_in_root(ctx.root_fd.get(), dest);
}

Status mount_bind(Context& ctx,
                  const spec::Mount& m,
                  const MountOptions& o,
                  const std::string& dest,
                  const std::string& what) {
    COVE_ASSIGN(UniqueFd target, make_target(ctx, dest, is_dir_source(m)), what);
    std::string tpath = fs::fd_path(target.get());
    unsigned long flags = MS_BIND | (o.recursive ? MS_REC : 0);
    COVE_TRY(do_mount(m.source, tpath, nullptr, flags, "", "bind " + m.source), what);
    // Reopen: the new mount now sits on top of the old target.
    COVE_ASSIGN(UniqueFd mnt, fs::open_in_root(ctx.root_fd.get(), dest, O_PATH), what);
    std::string mpath = fs::fd_path(mnt.get());
    if (unsigned long rf = bind_remount_flags(o); rf != 0) {
        COVE_TRY(remount_bind(mpath, rf, "remount"), what);
    }
    COVE_TRY(apply_attrs(mnt.get(), o, what), "");
    COVE_TRY(set_propagation(mpath, o.propagation, what), "");
    return {};
}

Status mount_fs(Context& ctx,
                const spec::Mount& m,
                const MountOptions& o,
                const std::string& dest,
                const std::string& what) {
    COVE_ASSIGN(UniqueFd target, fs::mkdir_in_root(ctx.root_fd.get(), dest), what);
    if (m.type == "proc" || m.type == "sysfs") {
        // A procfs or sysfs placed through a symlink is a fake /proc or /sys in the making
        // (CVE-2019-19921, CVE-2025-52881): the destination must be a real directory.
        auto real =
            fs::open_in_root(ctx.root_fd.get(), dest, O_PATH | O_DIRECTORY, 0, RESOLVE_NO_SYMLINKS);
        if (!real) {
            return make_error(what + ": the destination must not be or go through a symlink");
        }
        target = std::move(real).value();
    }
    std::string tpath = fs::fd_path(target.get());
    unsigned long flags = o.flags & ~MS_REMOUNT;
    std::string source = m.source.empty() ? m.type : m.source;
    if (::mount(source.c_str(), tpath.c_str(), m.type.c_str(), flags,
                o.data.empty() ? nullptr : o.data.c_str()) != 0) {
        int err = errno;
        // sysfs and mqueue cannot be mounted in a user namespace that does not own the
        // net/ipc namespace; runc binds the host's instead.
        if (err == EPERM && (m.type == "sysfs" || m.type == "mqueue")) {
            std::string host = m.type == "sysfs" ? "/sys" : "/dev/mqueue";
            COVE_TRY(do_mount(host, tpath, nullptr, MS_BIND | MS_REC, "", "bind " + host), what);
            COVE_ASSIGN(UniqueFd mnt, fs::open_in_root(ctx.root_fd.get(), dest, O_PATH), what);
            COVE_TRY(remount_bind(fs::fd_path(mnt.get()), flags & ~MS_REC, "remount"), what);
            return {};
        }
        return errno_error(err, what + ": mount " + m.type);
    }
    if (!o.propagation.empty() || o.attr_set != 0 || o.attr_clr != 0) {
        COVE_ASSIGN(UniqueFd mnt, fs::open_in_root(ctx.root_fd.get(), dest, O_PATH), what);
        COVE_TRY(apply_attrs(mnt.get(), o, what), "");
        COVE_TRY(set_propagation(fs::fd_path(mnt.get()), o.propagation, what), "");
    }
    return {};
}

// "cgroup" on a v1/hybrid host: a tmpfs with one directory per hierarchy, each holding the
// container's own cgroup (a fresh cgroup mount inside a cgroup namespace, a bind of the
// container's directory otherwise), as runc does. On v2 ("" key only): one cgroup2 mount.
Status mount_cgroup(Context& ctx,
                    const MountOptions& o,
                    const std::string& dest,
                    const std::string& what) {
    unsigned long flags = o.flags & ~MS_REMOUNT;
    bool v2_only = ctx.cgroup_paths.size() == 1 && ctx.cgroup_paths.count("") == 1;
    COVE_ASSIGN(UniqueFd target, fs::mkdir_in_root(ctx.root_fd.get(), dest), what);
    if (v2_only || ctx.cgroup_paths.empty()) {
        std::string tpath = fs::fd_path(target.get());
        if (ctx.new_cgroupns || ctx.cgroup_paths.empty()) {
            return do_mount("cgroup2", tpath, "cgroup2", flags, "", what + ": mount cgroup2");
        }
        COVE_TRY(do_mount(ctx.cgroup_paths[""], tpath, nullptr, MS_BIND | MS_REC, "", "bind"),
                 what);
        COVE_ASSIGN(UniqueFd mnt, fs::open_in_root(ctx.root_fd.get(), dest, O_PATH), what);
        return remount_bind(fs::fd_path(mnt.get()), flags, what + ": remount");
    }
    COVE_TRY(do_mount("tmpfs", fs::fd_path(target.get()), "tmpfs", flags & ~MS_RDONLY & ~MS_NOEXEC,
                      "mode=755", what + ": mount tmpfs"),
             "");
    for (const auto& [ctrl, host] : ctx.cgroup_paths) {
        std::string name = ctrl.empty() ? "unified" : ctrl;
        if (str::starts_with(name, "name=")) {
            name = name.substr(5);
        }
        std::string sub = dest + "/" + name;
        COVE_ASSIGN(UniqueFd d, fs::mkdir_in_root(ctx.root_fd.get(), sub), what);
        std::string dpath = fs::fd_path(d.get());
        if (ctx.new_cgroupns) {
            const char* type = ctrl.empty() ? "cgroup2" : "cgroup";
            COVE_TRY(do_mount("cgroup", dpath, type, flags, ctrl, what + ": mount cgroup " + ctrl),
                     "");
        } else {
            COVE_TRY(do_mount(host, dpath, nullptr, MS_BIND | MS_REC, "", "bind " + host), what);
            COVE_ASSIGN(UniqueFd mnt, fs::open_in_root(ctx.root_fd.get(), sub, O_PATH), what);
            COVE_TRY(remount_bind(fs::fd_path(mnt.get()), flags, "remount " + sub), what);
        }
    }
    if ((flags & MS_RDONLY) != 0) {
        COVE_ASSIGN(UniqueFd mnt, fs::open_in_root(ctx.root_fd.get(), dest, O_PATH), what);
        COVE_TRY(remount_bind(fs::fd_path(mnt.get()), flags, "remount " + dest + " read-only"),
                 what);
    }
    return {};
}

}  // namespace

Status prepare(Context& ctx) {
    unsigned long prop = MS_SLAVE | MS_REC;
    const auto& lx = ctx.spec->linux;
    if (lx && !lx->rootfs_propagation.empty()) {
        auto o = parse_mount_options({lx->rootfs_propagation});
        if (!o.propagation.empty()) {
            prop = o.propagation.front();
        }
    }
    // pivot_root refuses a shared new root or parent; start from slave/private everywhere.
    unsigned long initial = (prop & MS_SHARED) != 0 ? (MS_PRIVATE | MS_REC) : prop;
    COVE_TRY(do_mount("", "/", nullptr, initial, "", "set propagation of /"), "rootfs");
    if (ctx.overlay != nullptr) {
        // The rootfs dir is the mountpoint cove made in the container's storage: no symlink.
        UniqueFd mp(::open(ctx.rootfs.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!mp) {
            return sys_error("rootfs: open " + ctx.rootfs);
        }
        COVE_TRY(overlayfs::mount_at(*ctx.overlay, mp.get()), "rootfs: image layers");
    }
    COVE_TRY(do_mount(ctx.rootfs, ctx.rootfs, nullptr, MS_BIND | MS_REC, "",
                      "bind " + ctx.rootfs + " on itself"),
             "rootfs");
    ctx.root_fd.reset(::open(ctx.rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!ctx.root_fd) {
        return sys_error("rootfs: open " + ctx.rootfs);
    }
    ctx.dev_null.reset(::open("/dev/null", O_PATH | O_CLOEXEC));
    struct stat st {};
    if (!ctx.dev_null || ::fstat(ctx.dev_null.get(), &st) != 0 || !S_ISCHR(st.st_mode) ||
        st.st_rdev != makedev(1, 3)) {
        return make_error("rootfs: the host's /dev/null is not the null device");
    }
    return {};
}

Status mount_all(Context& ctx) {
    for (size_t i = 0; i < ctx.spec->mounts.size(); ++i) {
        const spec::Mount& m = ctx.spec->mounts[i];
        std::string dest = fs::clean_path(m.destination);
        std::string what = "mount " + (m.source.empty() ? m.type : m.source) + " on " + dest;
        MountOptions o = parse_mount_options(m.options);
        if (o.idmap || !m.uid_mappings.empty()) {
            return make_error("mounts[" + std::to_string(i) +
                              "]: idmapped mounts are not supported");
        }
        Status st;
        if (m.type == "bind" || o.bind) {
            st = mount_bind(ctx, m, o, dest, what);
        } else if (m.type == "cgroup" || m.type == "cgroup2") {
            st = mount_cgroup(ctx, o, dest, what);
        } else {
            st = mount_fs(ctx, m, o, dest, what);
        }
        if (!st) {
            return std::move(st).error().wrap("rootfs");
        }
    }
    return {};
}

}  // namespace cove::rootfs
