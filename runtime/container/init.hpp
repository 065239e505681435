// The container's init process: the child half of create. It runs between clone3 and execve,
// in the new namespaces, and never returns: it ends in execve or _exit, and its errors
// reach the parent as a sync frame.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "overlayfs/overlayfs.hpp"
#include "runtime/security/caps.hpp"
#include "runtime/security/seccomp.hpp"
#include "runtime/spec/spec.hpp"

namespace cove {

struct InitArgs {
    const spec::Spec* spec = nullptr;
    std::string rootfs;
    const overlayfs::Options* overlay = nullptr;  // mount this on rootfs first (--image)
    int sync_fd = -1;                             // the child's end
    int parent_sync_fd = -1;  // the parent's end, closed first thing in the child
    int state_lock_fd = -1;   // the parent's flock on the state dir, closed in the child
    int fifo_fd = -1;         // O_PATH of exec.fifo
    int console_fd = -1;      // connected --console-socket, or -1
    bool no_pivot = false;
    bool new_keyring = true;
    bool new_userns = false;
    bool joined_userns = false;
    bool new_cgroupns = false;
    bool new_timens = false;
    bool new_netns = false;
    bool two_stage = false;   // join, unshare user, unshare late_flags, fork the init
    uint64_t late_flags = 0;  // CLONE_NEW* made after the joins in a two-stage start
    int preserve_fds = 0;
    std::vector<std::pair<int, int>> joins;  // (fd of /proc/.../ns/x or a path, CLONE_NEW*)
    std::map<std::string, std::string> cgroup_paths;
    const security::SeccompProgram* seccomp = nullptr;
    const security::CapabilitySets* caps = nullptr;  // null: leave capabilities alone
};

[[noreturn]] void init_main(InitArgs& a) noexcept;

}  // namespace cove
