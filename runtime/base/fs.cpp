#include "runtime/base/fs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/openat2.h>

#include <cstring>
#include <vector>

namespace cove::fs {

Result<std::string> read_fd(int fd) {
    std::string out;
    char buf[8192];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return sys_error("read");
        }
        if (n == 0) {
            return out;
        }
        out.append(buf, static_cast<size_t>(n));
    }
}

Result<std::string> read_file(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        return sys_error("open " + path);
    }
    auto r = read_fd(fd.get());
    if (!r) {
        return std::move(r).error().wrap(path);
    }
    return r;
}

static Status write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return sys_error("write");
        }
        data.remove_prefix(static_cast<size_t>(n));
    }
    return {};
}

Status write_file(const std::string& path, std::string_view data, int flags) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC | flags, 0644));
    if (!fd) {
        return sys_error("open " + path);
    }
    COVE_TRY(write_all(fd.get(), data), "write " + path);
    return {};
}

Status atomic_write(const std::string& path, std::string_view data, mode_t mode) {
    std::string tmp = path + ".tmp";
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode));
    if (!fd) {
        return sys_error("open " + tmp);
    }
    COVE_TRY(write_all(fd.get(), data), "write " + tmp);
    fd.reset();
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        Error e = sys_error("rename " + tmp + " to " + path);
        ::unlink(tmp.c_str());
        return e;
    }
    return {};
}

Status mkdir_p(const std::string& path, mode_t mode) {
    if (path.empty()) {
        return {};
    }
    std::string cur;
    size_t pos = 0;
    while (pos != std::string::npos) {
        pos = path.find('/', pos + 1);
        cur = path.substr(0, pos);
        if (cur.empty() || cur == "/") {
            continue;
        }
        if (::mkdir(cur.c_str(), mode) != 0 && errno != EEXIST) {
            return sys_error("mkdir " + cur);
        }
    }
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        return sys_error("stat " + path);
    }
    if (!S_ISDIR(st.st_mode)) {
        return errno_error(ENOTDIR, "mkdir " + path);
    }
    return {};
}

static Status remove_at(int dirfd, const char* name, dev_t dev) {
    struct stat st {};
    if (::fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        return errno == ENOENT ? Status{} : sys_error(std::string("stat ") + name);
    }
    if (S_ISDIR(st.st_mode) && st.st_dev == dev) {
        UniqueFd fd(::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!fd) {
            return sys_error(std::string("open ") + name);
        }
        DIR* d = ::fdopendir(fd.release());
        if (d == nullptr) {
            return sys_error(std::string("opendir ") + name);
        }
        std::vector<std::string> names;
        while (struct dirent* de = ::readdir(d)) {  // NOLINT(concurrency-mt-unsafe)
            if (std::strcmp(de->d_name, ".") != 0 && std::strcmp(de->d_name, "..") != 0) {
                names.emplace_back(de->d_name);
            }
        }
        Status st2;
        for (const auto& n : names) {
            st2 = remove_at(::dirfd(d), n.c_str(), dev);
            if (!st2) {
                break;
            }
        }
        ::closedir(d);
        if (!st2) {
            return st2;
        }
        if (::unlinkat(dirfd, name, AT_REMOVEDIR) != 0 && errno != ENOENT) {
            return sys_error(std::string("rmdir ") + name);
        }
        return {};
    }
    if (::unlinkat(dirfd, name, 0) != 0 && errno != ENOENT) {
        return sys_error(std::string("unlink ") + name);
    }
    return {};
}

Status remove_all(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        return errno == ENOENT ? Status{} : sys_error("stat " + path);
    }
    COVE_TRY(remove_at(AT_FDCWD, path.c_str(), st.st_dev), "remove " + path);
    return {};
}

bool exists(const std::string& path) {
    return ::access(path.c_str(), F_OK) == 0;
}

Result<UniqueFd> open_in_root(
    int root_fd, std::string_view path, int flags, mode_t mode, uint64_t extra_resolve) {
    struct open_how how {};
    how.flags = static_cast<uint64_t>(flags) | O_CLOEXEC;
    how.mode = (flags & (O_CREAT | O_TMPFILE)) != 0 ? mode : 0;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | extra_resolve;
    // (a conditional rather than assigning "." later: g++ 12 -O3 reports a false -Wrestrict)
    const std::string p = path.empty() ? std::string(".") : std::string(path);
    for (;;) {
        long fd = ::syscall(SYS_openat2, root_fd, p.c_str(), &how, sizeof how);
        if (fd >= 0) {
            return UniqueFd(static_cast<int>(fd));
        }
        if (errno == EAGAIN || errno == EINTR) {
            continue;
        }
        return sys_error("open " + p);
    }
}

static std::vector<std::string> split_components(std::string_view path) {
    std::vector<std::string> parts;
    size_t i = 0;
    while (i < path.size()) {
        size_t j = path.find('/', i);
        if (j == std::string_view::npos) {
            j = path.size();
        }
        if (j > i) {
            parts.emplace_back(path.substr(i, j - i));
        }
        i = j + 1;
    }
    return parts;
}

Result<UniqueFd> mkdir_in_root(int root_fd, std::string_view path, mode_t mode) {
    // Walk one component at a time: each step is resolved in root, so a symlink planted
    // anywhere on the way is followed only inside the rootfs.
    std::string cur;
    for (const auto& part : split_components(path)) {
        cur += "/" + part;
        auto fd = open_in_root(root_fd, cur, O_PATH | O_DIRECTORY);
        if (fd) {
            continue;
        }
        if (fd.error().code() != ENOENT) {
            return std::move(fd).error();
        }
        auto parent = open_in_root(root_fd, cur.substr(0, cur.size() - part.size() - 1),
                                   O_PATH | O_DIRECTORY);
        if (!parent) {
            return std::move(parent).error();
        }
        if (::mkdirat(parent->get(), part.c_str(), mode) != 0 && errno != EEXIST) {
            return sys_error("mkdir " + cur);
        }
    }
    return open_in_root(root_fd, cur, O_PATH | O_DIRECTORY);
}

Result<UniqueFd> touch_in_root(int root_fd, std::string_view path, mode_t mode) {
    auto existing = open_in_root(root_fd, path, O_PATH);
    if (existing) {
        return existing;
    }
    std::string p = clean_path(path);
    size_t slash = p.rfind('/');
    std::string dir = p.substr(0, slash);
    std::string base = p.substr(slash + 1);
    COVE_ASSIGN(UniqueFd parent, mkdir_in_root(root_fd, dir), "");
    UniqueFd f(::openat(parent.get(), base.c_str(),
                        O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, mode));
    if (!f && errno != EEXIST && errno != ELOOP && errno != ENXIO && errno != EISDIR) {
        return sys_error("create " + p);
    }
    return open_in_root(root_fd, p, O_PATH);
}

std::string fd_path(int fd) {
    return "/proc/self/fd/" + std::to_string(fd);
}

std::string clean_path(std::string_view path) {
    std::vector<std::string> out;
    for (auto& part : split_components(path)) {
        if (part == ".") {
            continue;
        }
        if (part == "..") {
            if (!out.empty()) {
                out.pop_back();
            }
            continue;
        }
        out.push_back(std::move(part));
    }
    std::string r;
    for (const auto& p : out) {
        r += "/" + p;
    }
    return r.empty() ? "/" : r;
}

}  // namespace cove::fs
