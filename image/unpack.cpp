#include "image/unpack.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <linux/openat2.h>

#include <vector>

#include "image/blobs.hpp"
#include "image/digest.hpp"
#include "runtime/base/fs.hpp"
#include "runtime/base/scope_exit.hpp"
#include "runtime/base/strings.hpp"
#include "runtime/base/unique_fd.hpp"

namespace cove::image {
namespace {

constexpr std::string_view kWhPrefix = ".wh.";
constexpr std::string_view kWhMeta = ".wh..wh.";
constexpr std::string_view kOpaque = ".wh..wh..opq";
constexpr size_t kBufSize = 1 << 20;

using ArchivePtr = std::unique_ptr<struct archive, int (*)(struct archive*)>;

Result<UniqueFd> openat2_beneath(int dirfd, const std::string& path, int flags, mode_t mode = 0) {
    struct open_how how {};
    how.flags = static_cast<uint64_t>(flags) | O_CLOEXEC;
    how.mode = (flags & O_CREAT) != 0 ? mode : 0;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
    for (;;) {
        long fd =
            ::syscall(SYS_openat2, dirfd, path.empty() ? "." : path.c_str(), &how, sizeof how);
        if (fd >= 0) {
            return UniqueFd(static_cast<int>(fd));
        }
        if (errno != EINTR && errno != EAGAIN) {
            return sys_error("open " + (path.empty() ? std::string(".") : path));
        }
    }
}

std::pair<std::string, std::string> split_parent(const std::string& path) {
    auto slash = path.rfind('/');
    if (slash == std::string::npos) {
        return {"", path};
    }
    return {path.substr(0, slash), path.substr(slash + 1)};
}

// Removes name below dirfd; a directory with all its contents. fd-relative, never follows.
Status remove_at(int dirfd, const std::string& name) {
    struct stat st {};
    if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        return errno == ENOENT ? ok_status() : sys_error("stat " + name);
    }
    if (!S_ISDIR(st.st_mode)) {
        if (::unlinkat(dirfd, name.c_str(), 0) != 0) {
            return sys_error("unlink " + name);
        }
        return ok_status();
    }
    UniqueFd d(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!d) {
        return sys_error("open " + name);
    }
    DIR* dir = ::fdopendir(::dup(d.get()));
    if (dir == nullptr) {
        return sys_error("opendir " + name);
    }
    std::vector<std::string> children;
    while (struct dirent* e = ::readdir(dir)) {
        std::string n = e->d_name;
        if (n != "." && n != "..") {
            children.push_back(std::move(n));
        }
    }
    ::closedir(dir);
    for (const auto& c : children) {
        COVE_TRY(remove_at(d.get(), c), name);
    }
    if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) != 0) {
        return sys_error("rmdir " + name);
    }
    return ok_status();
}

// The compressed side: reads the blob fd, hashing every byte.
struct BlobInput {
    int fd = -1;
    Sha256 hash;
    int64_t size = 0;
    std::vector<char> buf = std::vector<char>(kBufSize);
    Error err;
    bool failed = false;

    ssize_t read_some() {
        for (;;) {
            ssize_t n = ::read(fd, buf.data(), buf.size());
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n < 0) {
                err = sys_error("read blob");
                failed = true;
                return -1;
            }
            hash.update(buf.data(), static_cast<size_t>(n));
            size += n;
            return n;
        }
    }
};

// The uncompressed side: pulls decompressed bytes from the raw reader, hashing the diffID.
struct TarInput {
    struct archive* raw = nullptr;
    Sha256 hash;
    int64_t size = 0;
    std::vector<char> buf = std::vector<char>(kBufSize);
};

ssize_t blob_read_cb(struct archive*, void* data, const void** out) {
    auto* in = static_cast<BlobInput*>(data);
    ssize_t n = in->read_some();
    *out = in->buf.data();
    return n;
}

ssize_t tar_read_cb(struct archive* a, void* data, const void** out) {
    auto* in = static_cast<TarInput*>(data);
    la_ssize_t n = archive_read_data(in->raw, in->buf.data(), in->buf.size());
    if (n < 0) {
        archive_set_error(a, EIO, "%s", archive_error_string(in->raw));
        return -1;
    }
    in->hash.update(in->buf.data(), static_cast<size_t>(n));
    in->size += n;
    *out = in->buf.data();
    return n;
}

struct DeferredTimes {
    std::string path;
    struct timespec ts[2];
};

// One layer's extraction state: the layer root fd and a one-entry parent cache.
class Extractor {
public:
    explicit Extractor(int root_fd) : root_(root_fd) {}

    Status entry(struct archive* a, struct archive_entry* e);
    Status finish();

private:
    struct Meta {
        uid_t uid = 0;
        gid_t gid = 0;
        mode_t perm = 0;
        struct timespec ts[2] = {};
    };

    Result<int> parent(const std::string& dir);
    Status opaque(const std::string& dir);
    Status hardlink(int pfd, const std::string& name, const char* target);
    Status create(struct archive* a,
                  struct archive_entry* e,
                  int pfd,
                  const std::string& name,
                  const std::string& path);
    Status apply_meta(struct archive_entry* e, int fd, const Meta& m, bool times);
    Status write_data(struct archive* a, int fd, int64_t size, const std::string& path);
    Status apply_xattrs(struct archive_entry* e, int fd, const std::string& magic_path);

    int root_;
    std::string cached_path_;
    UniqueFd cached_fd_;
    std::vector<DeferredTimes> dir_times_;
};

// An O_PATH fd of dir (relative to the root), creating missing components as 0755 dirs.
// A symlink or ".." anywhere on the way is an error (RESOLVE_NO_SYMLINKS | BENEATH).
Result<int> Extractor::parent(const std::string& dir) {
    if (cached_fd_ && cached_path_ == dir) {
        return cached_fd_.get();
    }
    auto fd = openat2_beneath(root_, dir, O_PATH | O_DIRECTORY);
    if (!fd && fd.error().code() == ENOENT) {
        std::string cur;
        for (const auto& comp : str::split(dir, '/')) {
            cur = cur.empty() ? comp : cur + "/" + comp;
            auto c = openat2_beneath(root_, cur, O_PATH | O_DIRECTORY);
            if (c) {
                continue;
            }
            if (c.error().code() != ENOENT) {
                return std::move(c).error().wrap("parent directory");
            }
            auto [pp, name] = split_parent(cur);
            COVE_ASSIGN(UniqueFd pfd, openat2_beneath(root_, pp, O_PATH | O_DIRECTORY), "parent");
            if (::mkdirat(pfd.get(), name.c_str(), 0755) != 0 && errno != EEXIST) {
                return sys_error("mkdir " + cur);
            }
        }
        fd = openat2_beneath(root_, dir, O_PATH | O_DIRECTORY);
    }
    if (!fd) {
        if (fd.error().code() == ELOOP || fd.error().code() == EXDEV) {
            return errno_error(fd.error().code(), "parent directory \"" + dir +
                                                      "\" is a symlink (refusing to follow)");
        }
        return std::move(fd).error().wrap("parent directory");
    }
    cached_path_ = dir;
    cached_fd_ = std::move(fd).value();
    return cached_fd_.get();
}

Status Extractor::write_data(struct archive* a, int fd, int64_t size, const std::string& path) {
    const void* buf = nullptr;
    size_t len = 0;
    la_int64_t off = 0;
    for (;;) {
        int r = archive_read_data_block(a, &buf, &len, &off);
        if (r == ARCHIVE_EOF) {
            break;
        }
        if (r != ARCHIVE_OK) {
            return make_error(std::string("read data: ") + archive_error_string(a));
        }
        const char* p = static_cast<const char*>(buf);
        while (len > 0) {
            ssize_t w = ::pwrite(fd, p, len, off);
            if (w < 0) {
                if (errno == EINTR) {
                    continue;
                }
                return sys_error("write " + path);
            }
            p += w;
            off += w;
            len -= static_cast<size_t>(w);
        }
    }
    // Sparse files may end in a hole.
    if (::ftruncate(fd, size) != 0) {
        return sys_error("truncate " + path);
    }
    return ok_status();
}

// Sets the entry's xattrs on fd, or on magic_path (lsetxattr) when fd < 0. trusted.overlay.*
// from a tar is dropped: only whiteouts may steer overlayfs.
Status Extractor::apply_xattrs(struct archive_entry* e, int fd, const std::string& magic_path) {
    if (archive_entry_xattr_reset(e) == 0) {
        return ok_status();
    }
    const char* name = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
        std::string_view n = name;
        if (str::starts_with(n, "trusted.overlay.")) {
            continue;
        }
        int r = fd >= 0 ? ::fsetxattr(fd, name, value, size, 0)
                        : ::lsetxattr(magic_path.c_str(), name, value, size, 0);
        if (r != 0) {
            // user.* is not allowed on symlinks and devices: the kernel says EPERM.
            if (fd < 0 && errno == EPERM && str::starts_with(n, "user.")) {
                continue;
            }
            return sys_error("set xattr " + std::string(name));
        }
    }
    return ok_status();
}

Status Extractor::opaque(const std::string& dir) {
    int pfd = root_;
    if (!dir.empty()) {
        COVE_ASSIGN(int p, parent(dir), "opaque directory");
        pfd = p;
    }
    COVE_ASSIGN(UniqueFd dfd, openat2_beneath(pfd, "", O_RDONLY | O_DIRECTORY), "opaque directory");
    if (::fsetxattr(dfd.get(), "trusted.overlay.opaque", "y", 1, 0) != 0) {
        return sys_error("set xattr trusted.overlay.opaque");
    }
    return ok_status();
}

Status Extractor::hardlink(int pfd, const std::string& name, const char* target) {
    COVE_ASSIGN(MappedPath t, map_entry_path(target), "hardlink target");
    if (t.kind != EntryKind::kNormal) {
        return make_error("hardlink target \"" + std::string(target) + "\": not a file");
    }
    auto [tdir, tname] = split_parent(t.path);
    auto tfd = openat2_beneath(root_, tdir, O_PATH | O_DIRECTORY);
    if (!tfd) {
        int code = tfd.error().code();
        return errno_error(
            code, "hardlink target \"" + std::string(target) + "\"" +
                      (code == ELOOP || code == EXDEV ? ": parent is a symlink (refusing to follow)"
                                                      : ""));
    }
    // linkat without AT_SYMLINK_FOLLOW links a symlink itself, never what it points to.
    if (::linkat(tfd->get(), tname.c_str(), pfd, name.c_str(), 0) != 0) {
        return sys_error("hardlink to \"" + std::string(target) + "\"");
    }
    return ok_status();
}

// Ownership, xattrs, mode (after chown, which clears setuid bits and capabilities), times.
Status Extractor::apply_meta(struct archive_entry* e, int fd, const Meta& m, bool times) {
    if (::fchown(fd, m.uid, m.gid) != 0) {
        return sys_error("chown");
    }
    COVE_TRY(apply_xattrs(e, fd, ""), "");
    if (::fchmod(fd, m.perm) != 0) {
        return sys_error("chmod");
    }
    if (times && ::futimens(fd, m.ts) != 0) {
        return sys_error("set times");
    }
    return ok_status();
}

Status Extractor::create(struct archive* a,
                         struct archive_entry* e,
                         int pfd,
                         const std::string& name,
                         const std::string& path) {
    const mode_t type = archive_entry_filetype(e);
    Meta m;
    m.uid = static_cast<uid_t>(archive_entry_uid(e));
    m.gid = static_cast<gid_t>(archive_entry_gid(e));
    m.perm = archive_entry_perm(e) & 07777;
    m.ts[1] = {archive_entry_mtime(e), archive_entry_mtime_nsec(e)};
    m.ts[0] = archive_entry_atime_is_set(e) != 0
                  ? timespec{archive_entry_atime(e), archive_entry_atime_nsec(e)}
                  : m.ts[1];
    switch (type) {
        case AE_IFREG: {
            UniqueFd fd(::openat(pfd, name.c_str(),
                                 O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
            if (!fd) {
                return sys_error("create");
            }
            COVE_TRY(write_data(a, fd.get(), archive_entry_size(e), path), "");
            return apply_meta(e, fd.get(), m, true);
        }
        case AE_IFDIR: {
            if (::mkdirat(pfd, name.c_str(), 0700) != 0 && errno != EEXIST) {
                return sys_error("mkdir");
            }
            UniqueFd fd(
                ::openat(pfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (!fd) {
                return sys_error("open directory");
            }
            // Children written later change the mtime: set it at the end.
            dir_times_.push_back({path, {m.ts[0], m.ts[1]}});
            return apply_meta(e, fd.get(), m, false);
        }
        case AE_IFLNK: {
            const char* target = archive_entry_symlink(e);
            if (::symlinkat(target != nullptr ? target : "", pfd, name.c_str()) != 0) {
                return sys_error("symlink");
            }
            break;
        }
        case AE_IFCHR:
        case AE_IFBLK:
        case AE_IFIFO: {
            dev_t dev = ::makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));
            if (::mknodat(pfd, name.c_str(), type | 0600, type == AE_IFIFO ? 0 : dev) != 0) {
                return sys_error("mknod");
            }
            break;
        }
        case AE_IFSOCK:
            return ok_status();  // a socket in a tar is meaningless; tar skips them too
        default:
            return make_error("unsupported entry type " + std::to_string(type));
    }
    // Symlinks and special files: by name below the parent fd, never following.
    if (::fchownat(pfd, name.c_str(), m.uid, m.gid, AT_SYMLINK_NOFOLLOW) != 0) {
        return sys_error("chown");
    }
    COVE_TRY(apply_xattrs(e, -1, fs::fd_path(pfd) + "/" + name), "");
    if (type != AE_IFLNK && ::fchmodat(pfd, name.c_str(), m.perm, 0) != 0) {
        return sys_error("chmod");
    }
    if (::utimensat(pfd, name.c_str(), m.ts, AT_SYMLINK_NOFOLLOW) != 0) {
        return sys_error("set times");
    }
    return ok_status();
}

Status Extractor::entry(struct archive* a, struct archive_entry* e) {
    const char* raw = archive_entry_pathname(e);
    if (raw == nullptr) {
        return make_error("entry without a path");
    }
    COVE_ASSIGN(MappedPath m, map_entry_path(raw), "");
    if (m.kind == EntryKind::kRoot || m.kind == EntryKind::kIgnored) {
        return ok_status();
    }
    if (m.kind == EntryKind::kOpaque) {
        return opaque(m.path);
    }
    auto [dir, name] = split_parent(m.path);
    COVE_ASSIGN(int pfd, parent(dir), "");
    if (m.kind == EntryKind::kWhiteout) {
        COVE_TRY(remove_at(pfd, name), "whiteout");
        if (::mknodat(pfd, name.c_str(), S_IFCHR | 0, ::makedev(0, 0)) != 0) {
            return sys_error("mknod whiteout " + m.path);
        }
        return ok_status();
    }
    const char* link = archive_entry_hardlink(e);
    struct stat old {};
    if (::fstatat(pfd, name.c_str(), &old, AT_SYMLINK_NOFOLLOW) == 0) {
        // A directory entry over a directory updates it; anything else replaces.
        bool keep_dir =
            S_ISDIR(old.st_mode) && archive_entry_filetype(e) == AE_IFDIR && link == nullptr;
        if (!keep_dir) {
            COVE_TRY(remove_at(pfd, name), "replace existing");
        }
    }
    if (link != nullptr) {
        return hardlink(pfd, name, link);
    }
    return create(a, e, pfd, name, m.path);
}

Status Extractor::finish() {
    cached_fd_.reset();
    for (auto it = dir_times_.rbegin(); it != dir_times_.rend(); ++it) {
        auto [dir, name] = split_parent(it->path);
        // A later entry may have replaced the directory (or a parent): nothing to date.
        auto pfd = openat2_beneath(root_, dir, O_PATH | O_DIRECTORY);
        if (!pfd) {
            continue;
        }
        struct stat st {};
        if (::fstatat(pfd->get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISDIR(st.st_mode)) {
            continue;
        }
        if (::utimensat(pfd->get(), name.c_str(), it->ts, AT_SYMLINK_NOFOLLOW) != 0) {
            return sys_error("entry \"" + it->path + "\": set times");
        }
    }
    return ok_status();
}

}  // namespace

Result<MappedPath> map_entry_path(std::string_view tar_path) {
    std::vector<std::string> parts;
    for (const auto& c : str::split(tar_path, '/')) {
        if (c.empty() || c == ".") {
            continue;
        }
        if (c == "..") {
            return make_error("path \"" + std::string(tar_path) +
                              "\" has a \"..\" component (would escape the layer)");
        }
        parts.push_back(c);
    }
    MappedPath m;
    if (parts.empty()) {
        m.kind = EntryKind::kRoot;
        return m;
    }
    std::string base = parts.back();
    if (str::starts_with(base, kWhPrefix)) {
        parts.pop_back();
        if (base == kOpaque) {
            m.kind = EntryKind::kOpaque;
        } else if (str::starts_with(base, kWhMeta)) {
            m.kind = EntryKind::kIgnored;
        } else {
            m.kind = EntryKind::kWhiteout;
            std::string target = base.substr(kWhPrefix.size());
            if (target.empty() || target == "." || target == "..") {
                return make_error("whiteout \"" + std::string(tar_path) + "\": invalid name");
            }
            parts.push_back(target);
        }
    }
    m.path = str::join(parts, "/");
    return m;
}

Result<UnpackStats> unpack_layer(const std::string& blob_path,
                                 std::string_view digest,
                                 std::string_view diff_id,
                                 const std::string& dest_dir) {
    const std::string ctx = "layer " + std::string(digest);
    BlobInput blob;
    UniqueFd blob_fd(::open(blob_path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!blob_fd) {
        return sys_error(ctx + ": open " + blob_path);
    }
    blob.fd = blob_fd.get();
    UniqueFd root(::open(dest_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
    if (!root) {
        return sys_error(ctx + ": open " + dest_dir);
    }

    // Reader 1 decompresses (gzip, zstd or none, by magic) into one "raw" stream; reader 2
    // parses that stream as tar. Chaining them lets us hash the uncompressed bytes (diffID).
    ArchivePtr raw(archive_read_new(), archive_read_free);
    ArchivePtr tar(archive_read_new(), archive_read_free);
    archive_read_support_filter_gzip(raw.get());
    archive_read_support_filter_zstd(raw.get());
    archive_read_support_format_raw(raw.get());
    archive_read_support_format_tar(tar.get());
    if (archive_read_open(raw.get(), &blob, nullptr, blob_read_cb, nullptr) != ARCHIVE_OK) {
        return make_error(ctx + ": " +
                          (blob.failed ? blob.err.to_string() : archive_error_string(raw.get())));
    }
    struct archive_entry* re = nullptr;
    if (archive_read_next_header(raw.get(), &re) != ARCHIVE_OK) {
        return make_error(ctx + ": " + archive_error_string(raw.get()));
    }
    TarInput tin;
    tin.raw = raw.get();
    if (archive_read_open(tar.get(), &tin, nullptr, tar_read_cb, nullptr) != ARCHIVE_OK) {
        return make_error(ctx + ": not a tar archive: " + archive_error_string(tar.get()));
    }
    Extractor ex(root.get());
    UnpackStats stats;
    for (;;) {
        struct archive_entry* e = nullptr;
        int r = archive_read_next_header(tar.get(), &e);
        if (r == ARCHIVE_EOF) {
            break;
        }
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
            return make_error(ctx + ": read tar: " + archive_error_string(tar.get()));
        }
        const char* p = archive_entry_pathname(e);
        std::string ectx = ctx + ": entry \"" + (p != nullptr ? p : "") + "\"";
        if (auto st = ex.entry(tar.get(), e); !st) {
            return std::move(st).error().wrap(ectx);
        }
        ++stats.entries;
    }
    COVE_TRY(ex.finish(), ctx);
    // Hash what the tar reader did not need (end-of-archive padding) and what follows the
    // compressed stream, so the digests cover every byte.
    for (;;) {
        la_ssize_t n = archive_read_data(raw.get(), tin.buf.data(), tin.buf.size());
        if (n < 0) {
            return make_error(ctx + ": decompress: " + archive_error_string(raw.get()));
        }
        if (n == 0) {
            break;
        }
        tin.hash.update(tin.buf.data(), static_cast<size_t>(n));
        tin.size += n;
    }
    while (blob.read_some() > 0) {
    }
    if (blob.failed) {
        return std::move(blob.err).wrap(ctx);
    }
    std::string got = blob.hash.digest();
    if (got != digest) {
        return digest_mismatch(digest, got).wrap(ctx);
    }
    std::string got_diff = tin.hash.digest();
    if (got_diff != diff_id) {
        return digest_mismatch(diff_id, got_diff).wrap(ctx + ": diffID");
    }
    stats.compressed_size = blob.size;
    stats.tar_size = tin.size;
    return stats;
}

Status ensure_layer(const std::string& root, std::string_view digest, std::string_view diff_id) {
    COVE_TRY(validate_digest(diff_id), "layer " + std::string(digest) + ": diffID");
    std::string dest = root + "/layers/" + std::string(digest_hex(diff_id));
    if (fs::exists(dest)) {
        return ok_status();
    }
    std::string tmp = temp_name(root, "layer");
    if (::mkdir(tmp.c_str(), 0755) != 0) {
        return sys_error("mkdir " + tmp);
    }
    ScopeExit cleanup([&] { (void)fs::remove_all(tmp); });
    COVE_TRY(unpack_layer(blob_file(root, digest), digest, diff_id, tmp), "");
    if (::rename(tmp.c_str(), dest.c_str()) != 0) {
        if (errno == EEXIST || errno == ENOTEMPTY) {
            return ok_status();  // unpacked meanwhile by someone else; ours is removed
        }
        return sys_error("rename " + tmp + " to " + dest);
    }
    cleanup.dismiss();
    return ok_status();
}

}  // namespace cove::image
