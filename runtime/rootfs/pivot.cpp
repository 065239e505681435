// Masked and read-only paths, pivot_root (or chroot) and the final state of "/".
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/base/fs.hpp"
#include "runtime/rootfs/mount_options.hpp"
#include "runtime/rootfs/mounts.hpp"

namespace cove::rootfs {
namespace {

Status mask_path(Context& ctx, const std::string& path) {
    auto fd = fs::open_in_root(ctx.root_fd.get(), path, O_PATH | O_NOFOLLOW);
    if (!fd) {
        return fd.error().code() == ENOENT ? Status{} : std::move(fd).error().wrap("mask");
    }
    struct stat st {};
    if (::fstat(fd->get(), &st) != 0) {
        return sys_error("mask: stat " + path);
    }
    if (S_ISLNK(st.st_mode)) {
        return {};  // a symlink is not a path that can leak anything itself
    }
    std::string target = fs::fd_path(fd->get());
    if (S_ISDIR(st.st_mode)) {
        if (::mount("tmpfs", target.c_str(), "tmpfs", MS_RDONLY, "size=0k") != 0) {
            return sys_error("mask " + path);
        }
        return {};
    }
    // The source is the host's /dev/null opened and checked in prepare(): a container's
    // /dev/null swapped for a symlink cannot turn the mask into a bind of something else.
    if (::mount(fs::fd_path(ctx.dev_null.get()).c_str(), target.c_str(), nullptr, MS_BIND,
                nullptr) != 0) {
        return sys_error("mask " + path);
    }
    return {};
}

Status readonly_path(Context& ctx, const std::string& path) {
    auto fd = fs::open_in_root(ctx.root_fd.get(), path, O_PATH);
    if (!fd) {
        return fd.error().code() == ENOENT ? Status{} : std::move(fd).error().wrap("readonly");
    }
    std::string p = fs::fd_path(fd->get());
    if (::mount(p.c_str(), p.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
        return sys_error("readonly: bind " + path);
    }
    COVE_ASSIGN(UniqueFd mnt, fs::open_in_root(ctx.root_fd.get(), path, O_PATH), "readonly");
    std::string mp = fs::fd_path(mnt.get());
    unsigned long f = MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC;
    if (::mount(nullptr, mp.c_str(), nullptr, f, nullptr) != 0) {
        if (errno != EPERM || ::mount(nullptr, mp.c_str(), nullptr,
                                      f | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
            return sys_error("readonly: remount " + path);
        }
    }
    return {};
}

}  // namespace

Status mask_and_readonly(Context& ctx) {
    if (!ctx.spec->linux) {
        return {};
    }
    for (const auto& p : ctx.spec->linux->masked_paths) {
        COVE_TRY(mask_path(ctx, p), "rootfs: linux.maskedPaths");
    }
    for (const auto& p : ctx.spec->linux->readonly_paths) {
        COVE_TRY(readonly_path(ctx, p), "rootfs: linux.readonlyPaths");
    }
    return {};
}

Status pivot(Context& ctx, bool no_pivot) {
    if (::fchdir(ctx.root_fd.get()) != 0) {
        return sys_error("chdir to the rootfs");
    }
    if (no_pivot) {
        // MS_MOVE the rootfs over "/" so that later setns(mnt) (exec) lands in it too.
        if (::mount(".", "/", nullptr, MS_MOVE, nullptr) != 0) {
            return sys_error("move the rootfs to /");
        }
        if (::chroot(".") != 0) {
            return sys_error("chroot");
        }
        return ::chdir("/") == 0 ? Status{} : sys_error("chdir /");
    }
    UniqueFd old_root(::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!old_root) {
        return sys_error("open /");
    }
    UniqueFd new_root(::open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!new_root) {
        return sys_error("open the rootfs");
    }
    // pivot_root(".", ".") stacks the old root on top of the new one; it is then detached
    // from where we stand (runc's approach, no temporary directory in the image).
    if (::syscall(SYS_pivot_root, ".", ".") != 0) {
        return sys_error("pivot_root");
    }
    if (::fchdir(old_root.get()) != 0) {
        return sys_error("chdir to the old root");
    }
    if (::mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) != 0) {
        return sys_error("make the old root rslave");
    }
    if (::umount2(".", MNT_DETACH) != 0) {
        return sys_error("detach the old root");
    }
    if (::fchdir(new_root.get()) != 0 || ::chdir("/") != 0) {
        return sys_error("chdir /");
    }
    return {};
}

Status finish(const spec::Spec& spec) {
    if (spec.root && spec.root->readonly) {
        unsigned long f = MS_BIND | MS_REMOUNT | MS_RDONLY;
        if (::mount(nullptr, "/", nullptr, f, nullptr) != 0) {
            if (errno != EPERM || ::mount(nullptr, "/", nullptr,
                                          f | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
                return sys_error("remount / read-only");
            }
        }
    }
    if (spec.linux && !spec.linux->rootfs_propagation.empty()) {
        auto o = parse_mount_options({spec.linux->rootfs_propagation});
        if (!o.propagation.empty() &&
            ::mount(nullptr, "/", nullptr, o.propagation.front(), nullptr) != 0) {
            return sys_error("set rootfsPropagation of /");
        }
    }
    return {};
}

}  // namespace cove::rootfs
