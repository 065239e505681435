// /dev population and the console: default devices, linux.devices, symlinks, ptmx.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <linux/openat2.h>

#include "runtime/base/fs.hpp"
#include "runtime/rootfs/mounts.hpp"

namespace cove::rootfs {
namespace {

struct DefaultDevice {
    const char* path;
    unsigned int major, minor;
};

// runc's default devices (libcontainer/specconv AllowedDevices with a path).
constexpr DefaultDevice kDefaultDevices[] = {
    {"/dev/null", 1, 3},   {"/dev/zero", 1, 5},    {"/dev/full", 1, 7},
    {"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0},
};

std::string dir_of(const std::string& p) {
    return p.substr(0, p.rfind('/'));
}
std::string base_of(const std::string& p) {
    return p.substr(p.rfind('/') + 1);
}

// Creates (or replaces whatever the image put there: a symlink, a file) the device node.
Status make_node(Context& ctx,
                 const std::string& path,
                 mode_t type,
                 dev_t rdev,
                 mode_t mode,
                 uid_t uid,
                 gid_t gid) {
    std::string p = fs::clean_path(path);
    COVE_ASSIGN(UniqueFd dir, fs::mkdir_in_root(ctx.root_fd.get(), dir_of(p)), "mkdir for " + p);
    std::string name = base_of(p);
    UniqueFd dirfd(::openat(dir.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dirfd) {
        return sys_error("open parent of " + p);
    }
    struct stat st {};
    if (::fstatat(dirfd.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
        if ((st.st_mode & S_IFMT) == type && st.st_rdev == rdev) {
            return {};
        }
        if (S_ISDIR(st.st_mode)) {
            return make_error("create device " + p + ": a directory is in the way");
        }
        if (::unlinkat(dirfd.get(), name.c_str(), 0) != 0) {
            return sys_error("remove " + p);
        }
    }
    if (ctx.new_userns) {
        // mknod is not allowed in a user namespace: bind the host's node instead.
        UniqueFd t(::openat(dirfd.get(), name.c_str(),
                            O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (!t) {
            return sys_error("create " + p);
        }
        if (::mount(path.c_str(), fs::fd_path(t.get()).c_str(), nullptr, MS_BIND, nullptr) != 0) {
            return sys_error("bind " + path);
        }
        return {};
    }
    if (::mknodat(dirfd.get(), name.c_str(), type | (mode & 07777), rdev) != 0) {
        return sys_error("mknod " + p);
    }
    // mknod applies the umask; set the mode the config asked for.
    if (::fchmodat(dirfd.get(), name.c_str(), mode & 07777, 0) != 0) {
        return sys_error("chmod " + p);
    }
    if (::fchownat(dirfd.get(), name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) != 0) {
        return sys_error("chown " + p);
    }
    return {};
}

Status make_symlink(Context& ctx, const char* target, const char* path) {
    COVE_ASSIGN(UniqueFd dev, fs::mkdir_in_root(ctx.root_fd.get(), "/dev"), "");
    UniqueFd dirfd(::openat(dev.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dirfd) {
        return sys_error("open /dev");
    }
    std::string name = base_of(path);
    struct stat st {};
    if (::fstatat(dirfd.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
        if (S_ISDIR(st.st_mode) || ::unlinkat(dirfd.get(), name.c_str(), 0) != 0) {
            return sys_error(std::string("remove ") + path);
        }
    }
    if (::symlinkat(target, dirfd.get(), name.c_str()) != 0) {
        return sys_error(std::string("symlink ") + path);
    }
    return {};
}

bool dev_is_bind_mounted(const spec::Spec& spec) {
    for (const auto& m : spec.mounts) {
        if (fs::clean_path(m.destination) == "/dev") {
            bool bind = m.type == "bind";
            for (const auto& o : m.options) {
                bind = bind || o == "bind" || o == "rbind";
            }
            return bind;
        }
    }
    return false;
}

mode_t device_type(const std::string& t) {
    if (t == "b") {
        return S_IFBLK;
    }
    if (t == "p") {
        return S_IFIFO;
    }
    return S_IFCHR;  // "c" and "u"
}

}  // namespace

Status setup_dev(Context& ctx) {
    const spec::Spec& spec = *ctx.spec;
    bool populate = !dev_is_bind_mounted(spec);
    if (populate) {
        for (const auto& d : kDefaultDevices) {
            COVE_TRY(make_node(ctx, d.path, S_IFCHR, makedev(d.major, d.minor), 0666, 0, 0),
                     "rootfs: /dev");
        }
    }
    if (spec.linux) {
        for (const auto& d : spec.linux->devices) {
            mode_t mode = d.file_mode.value_or(0666);
            COVE_TRY(
                make_node(ctx, d.path, device_type(d.type),
                          makedev(static_cast<unsigned>(d.major), static_cast<unsigned>(d.minor)),
                          mode, d.uid.value_or(0), d.gid.value_or(0)),
                "rootfs: linux.devices");
        }
    }
    if (!populate) {
        return {};
    }
    COVE_TRY(make_symlink(ctx, "/proc/self/fd", "/dev/fd"), "rootfs: /dev");
    COVE_TRY(make_symlink(ctx, "/proc/self/fd/0", "/dev/stdin"), "rootfs: /dev");
    COVE_TRY(make_symlink(ctx, "/proc/self/fd/1", "/dev/stdout"), "rootfs: /dev");
    COVE_TRY(make_symlink(ctx, "/proc/self/fd/2", "/dev/stderr"), "rootfs: /dev");
    if (fs::exists("/proc/kcore")) {
        COVE_TRY(make_symlink(ctx, "/proc/kcore", "/dev/core"), "rootfs: /dev");
    }
    // With a devpts newinstance on /dev/pts, /dev/ptmx must lead to its ptmx.
    auto pts = fs::open_in_root(ctx.root_fd.get(), "/dev/pts/ptmx", O_PATH);
    if (pts) {
        COVE_TRY(make_symlink(ctx, "pts/ptmx", "/dev/ptmx"), "rootfs: /dev");
    }
    return {};
}

Status mount_console(Context& ctx, int pty_slave_fd) {
    // An image's /dev/console (or a /dev) that is a symlink would place the pty elsewhere
    // (CVE-2025-52565): it must be a real path.
    auto real = fs::open_in_root(ctx.root_fd.get(), "/dev/console", O_PATH, 0, RESOLVE_NO_SYMLINKS);
    if (!real && real.error().code() == ELOOP) {
        return make_error("rootfs: /dev/console: must not be or go through a symlink");
    }
    COVE_ASSIGN(UniqueFd target, fs::touch_in_root(ctx.root_fd.get(), "/dev/console", 0600),
                "rootfs: /dev/console");
    struct stat st {};
    if (::fstat(target.get(), &st) != 0 || (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode))) {
        return make_error("rootfs: /dev/console: not a regular file or device");
    }
    if (::mount(fs::fd_path(pty_slave_fd).c_str(), fs::fd_path(target.get()).c_str(), nullptr,
                MS_BIND, nullptr) != 0) {
        return sys_error("rootfs: bind the console on /dev/console");
    }
    return {};
}

}  // namespace cove::rootfs
