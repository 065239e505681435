// The container's filesystem, built inside its new mount namespace before pivot_root.
// Every target is resolved in the rootfs with openat2(RESOLVE_IN_ROOT) and mounted through
// /proc/self/fd/N, so a symlink in the image (or one swapped in by a volume) can never send a
// mount outside the rootfs.
//
// REQUIRES: called in the container's init, in its own mount namespace, before pivot_root,
// with the host's /proc still visible (the /proc/self/fd paths resolve through it).
#pragma once

#include <map>
#include <string>

#include "overlayfs/overlayfs.hpp"
#include "runtime/base/error.hpp"
#include "runtime/base/unique_fd.hpp"
#include "runtime/spec/spec.hpp"

namespace cove::rootfs {

struct Context {
    const spec::Spec* spec = nullptr;
    std::string rootfs;  // absolute host path of the rootfs
    UniqueFd root_fd;    // O_PATH fd of the rootfs mount (set by prepare)
    // An image's layers to mount on rootfs first, in this (the container's) mount namespace,
    // so the host never sees the overlay. null: rootfs is a plain directory.
    const overlayfs::Options* overlay = nullptr;
    bool new_userns = false;
    bool new_cgroupns = false;
    // host cgroup dir per v1 controller ("cpu", "memory", "name=systemd"; "" for cgroup2),
    // used to bind the container's own cgroups when it has no cgroup namespace.
    std::map<std::string, std::string> cgroup_paths;
    UniqueFd dev_null;  // the host's /dev/null, checked to be char 1:3, for masking
};

// Propagation of "/" (rslave unless linux.rootfsPropagation), then the image's overlay on the
// rootfs (with ctx.overlay; after the propagation change, so it cannot reach the host), then
// the rootfs bind-mounted on itself so pivot_root can use it; opens ctx.root_fd and
// ctx.dev_null.
Status prepare(Context& ctx);
// config.json "mounts", in order.
Status mount_all(Context& ctx);
// /dev: default devices (when /dev is not a bind mount), linux.devices, the usual symlinks,
// /dev/ptmx -> pts/ptmx.
Status setup_dev(Context& ctx);
// Bind mounts the pty slave (fd) on /dev/console.
Status mount_console(Context& ctx, int pty_slave_fd);
// linux.maskedPaths and linux.readonlyPaths.
Status mask_and_readonly(Context& ctx);
// pivot_root into the rootfs (or MS_MOVE + chroot with no_pivot) and detach the old root.
Status pivot(Context& ctx, bool no_pivot);
// After pivot: root.readonly, and linux.rootfsPropagation applied to "/".
Status finish(const spec::Spec& spec);

}  // namespace cove::rootfs
