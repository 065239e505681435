// File helpers. Host-side helpers take plain paths; the *_in_root helpers resolve a path
// inside a container rootfs with openat2(RESOLVE_IN_ROOT), so symlinks, ".." and absolute
// links in an image can never lead out of it. Every fd is O_CLOEXEC.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "runtime/base/error.hpp"
#include "runtime/base/unique_fd.hpp"

namespace cove::fs {

Result<std::string> read_file(const std::string& path);
Result<std::string> read_fd(int fd);
Status write_file(const std::string& path, std::string_view data, int flags = 0);
// Writes to path.tmp then renames over path, so readers never see a partial file.
Status atomic_write(const std::string& path, std::string_view data, mode_t mode = 0600);
Status mkdir_p(const std::string& path, mode_t mode = 0755);
// Removes path and everything below it; missing is fine. Does not cross mount points.
Status remove_all(const std::string& path);
bool exists(const std::string& path);

// openat2(dirfd, path, RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS): path is resolved as if
// dirfd were "/".
// extra_resolve adds RESOLVE_* flags (RESOLVE_NO_SYMLINKS for paths that must be real).
Result<UniqueFd> open_in_root(
    int root_fd, std::string_view path, int flags, mode_t mode = 0, uint64_t extra_resolve = 0);
// mkdir -p of path inside root; returns an O_PATH fd of the final directory.
Result<UniqueFd> mkdir_in_root(int root_fd, std::string_view path, mode_t mode = 0755);
// Creates an empty regular file (if missing) inside root, parents included; returns O_PATH fd.
Result<UniqueFd> touch_in_root(int root_fd, std::string_view path, mode_t mode = 0644);

// "/proc/self/fd/N": a stable name for an fd, for syscalls that only take paths.
std::string fd_path(int fd);

// Lexically normalises an absolute path: collapses "//", ".", and ".." (never above "/").
std::string clean_path(std::string_view path);

}  // namespace cove::fs
