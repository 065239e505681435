// OCI whiteouts (".wh.<name>", ".wh..wh..opq") -> overlay whiteouts (char 0:0, opaque xattr).
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "overlayfs/overlayfs.hpp"
#include "runtime/base/unique_fd.hpp"

namespace cove::overlayfs {
namespace {

constexpr std::string_view kPrefix = ".wh.";
constexpr std::string_view kOpaque = ".wh..wh..opq";

// Removes name (and, for a directory, what is under it) inside dirfd, not following links.
Status remove_entry(int dirfd, const std::string& name, dev_t dev, const std::string& where) {
    struct stat st {};
    if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        return errno == ENOENT ? Status{} : sys_error("stat " + where);
    }
    if (S_ISDIR(st.st_mode)) {
        if (st.st_dev != dev) {
            return make_error(where + " is a mount point");
        }
        UniqueFd sub(
            ::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        DIR* d = sub ? ::fdopendir(::dup(sub.get())) : nullptr;
        if (d == nullptr) {
            return sys_error("open " + where);
        }
        std::vector<std::string> names;
        while (struct dirent* e = ::readdir(d)) {
            std::string n = e->d_name;
            if (n != "." && n != "..") {
                names.push_back(n);
            }
        }
        ::closedir(d);
        for (const auto& n : names) {
            COVE_TRY(remove_entry(sub.get(), n, dev, where + "/" + n), "");
        }
    }
    if (::unlinkat(dirfd, name.c_str(), S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) != 0) {
        return sys_error("remove " + where);
    }
    return {};
}

Status translate_dir(int fd, const std::string& where, dev_t dev, const char* opaque_xattr) {
    DIR* d = ::fdopendir(::dup(fd));
    if (d == nullptr) {
        return sys_error("open " + where);
    }
    std::vector<std::pair<std::string, unsigned char>> entries;
    while (struct dirent* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n != "." && n != "..") {
            entries.emplace_back(n, e->d_type);
        }
    }
    ::closedir(d);
    for (const auto& [name, type] : entries) {
        std::string path = where + "/" + name;
        std::string hidden;
        switch (classify_whiteout(name, &hidden)) {
            case Whiteout::kOpaque:
                if (::unlinkat(fd, name.c_str(), 0) != 0) {
                    return sys_error("remove " + path);
                }
                if (::fsetxattr(fd, opaque_xattr, "y", 1, 0) != 0) {
                    return sys_error("set " + std::string(opaque_xattr) + " on " + where);
                }
                continue;
            case Whiteout::kFile:
                COVE_TRY(remove_entry(fd, hidden, dev, where + "/" + hidden), "");
                if (::unlinkat(fd, name.c_str(), 0) != 0) {
                    return sys_error("remove " + path);
                }
                if (::mknodat(fd, hidden.c_str(), S_IFCHR | 0000, makedev(0, 0)) != 0) {
                    return sys_error("whiteout " + where + "/" + hidden);
                }
                continue;
            case Whiteout::kNone:
                break;
        }
        struct stat st {};
        if (type != DT_DIR &&
            (type != DT_UNKNOWN || ::fstatat(fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
             !S_ISDIR(st.st_mode))) {
            continue;
        }
        UniqueFd sub(::openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!sub || ::fstat(sub.get(), &st) != 0) {
            return sys_error("open " + path);
        }
        if (st.st_dev != dev) {
            continue;  // a mount point: not part of the layer
        }
        COVE_TRY(translate_dir(sub.get(), path, dev, opaque_xattr), "");
    }
    return {};
}

}  // namespace

Whiteout classify_whiteout(std::string_view name, std::string* hidden) {
    if (name == kOpaque) {
        return Whiteout::kOpaque;
    }
    if (name.size() > kPrefix.size() && name.substr(0, kPrefix.size()) == kPrefix) {
        std::string_view rest = name.substr(kPrefix.size());
        if (rest == "." || rest == "..") {
            return Whiteout::kNone;  // ".wh.." would whiteout the parent: not a whiteout
        }
        if (hidden != nullptr) {
            *hidden = std::string(rest);
        }
        return Whiteout::kFile;
    }
    return Whiteout::kNone;
}

Status translate_whiteouts(const std::string& dir, bool userxattr) {
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    struct stat st {};
    if (!fd || ::fstat(fd.get(), &st) != 0) {
        return sys_error("open " + dir);
    }
    const char* xattr = userxattr ? "user.overlay.opaque" : "trusted.overlay.opaque";
    return translate_dir(fd.get(), dir, st.st_dev, xattr);
}

}  // namespace cove::overlayfs
