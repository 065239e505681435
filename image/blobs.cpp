#include "image/blobs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <random>

#include "runtime/base/fs.hpp"
#include "runtime/base/strings.hpp"

namespace cove::image {
namespace {

Status write_all(int fd, const void* data, size_t n) {
    const char* p = static_cast<const char*>(data);
    while (n > 0) {
        ssize_t w = ::write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            return sys_error("write");
        }
        p += w;
        n -= static_cast<size_t>(w);
    }
    return ok_status();
}

Status fsync_dir(const std::string& dir) {
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd || ::fsync(fd.get()) != 0) {
        return sys_error("fsync " + dir);
    }
    return ok_status();
}

std::string dir_of(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == std::string::npos ? "." : path.substr(0, slash);
}

}  // namespace

std::string temp_name(const std::string& root, std::string_view kind) {
    static std::mt19937_64 rng{std::random_device{}()};
    char buf[32];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
    return root + "/tmp/" + std::to_string(::getpid()) + "-" + std::string(kind) + "-" + buf;
}

void clean_stale_temp(const std::string& root) {
    std::string tmp = root + "/tmp";
    DIR* d = ::opendir(tmp.c_str());
    if (d == nullptr) {
        return;
    }
    std::vector<std::string> stale;
    while (struct dirent* e = ::readdir(d)) {
        std::string name = e->d_name;
        if (name == "." || name == "..") {
            continue;
        }
        auto pid = str::parse_int(name.substr(0, name.find('-')));
        if (!pid || *pid <= 0 || (::kill(static_cast<pid_t>(*pid), 0) != 0 && errno == ESRCH)) {
            stale.push_back(tmp + "/" + name);
        }
    }
    ::closedir(d);
    for (const auto& p : stale) {
        (void)fs::remove_all(p);
    }
}

Result<UniqueFd> lock_store(const std::string& root, bool exclusive) {
    std::string path = root + "/lock";
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd) {
        return sys_error("open " + path);
    }
    while (::flock(fd.get(), exclusive ? LOCK_EX : LOCK_SH) != 0) {
        if (errno != EINTR) {
            return sys_error("lock " + path);
        }
    }
    return fd;
}

Status durable_write(const std::string& path, std::string_view data) {
    std::string tmp = path + ".tmp-" + std::to_string(::getpid());
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644));
    if (!fd) {
        return sys_error("open " + tmp);
    }
    Status st = write_all(fd.get(), data.data(), data.size());
    if (st && ::fsync(fd.get()) != 0) {
        st = sys_error("fsync " + tmp);
    }
    if (st && ::rename(tmp.c_str(), path.c_str()) != 0) {
        st = sys_error("rename " + tmp + " to " + path);
    }
    if (!st) {
        ::unlink(tmp.c_str());
        return st;
    }
    return fsync_dir(dir_of(path));
}

std::string blob_file(const std::string& root, std::string_view digest) {
    return root + "/blobs/sha256/" + std::string(digest_hex(digest));
}

Result<BlobWriter> BlobWriter::create(const std::string& root) {
    std::string tmp = temp_name(root, "blob");
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644));
    if (!fd) {
        return sys_error("create " + tmp);
    }
    return BlobWriter(root, std::move(tmp), std::move(fd));
}

BlobWriter::BlobWriter(BlobWriter&& o) noexcept
    : root_(std::move(o.root_)),
      tmp_(std::move(o.tmp_)),
      fd_(std::move(o.fd_)),
      hash_(std::move(o.hash_)),
      size_(o.size_),
      digest_(std::move(o.digest_)),
      done_(o.done_) {
    o.done_ = true;
}

BlobWriter::~BlobWriter() {
    if (!done_) {
        ::unlink(tmp_.c_str());
    }
}

const std::string& BlobWriter::digest() {
    if (digest_.empty()) {
        digest_ = hash_.digest();
    }
    return digest_;
}

Status BlobWriter::write(const void* data, size_t n) {
    if (!digest_.empty()) {
        return make_error("write " + tmp_ + ": blob already finished");
    }
    hash_.update(data, n);
    size_ += static_cast<int64_t>(n);
    COVE_TRY(write_all(fd_.get(), data, n), "write " + tmp_);
    return ok_status();
}

Result<std::string> BlobWriter::finish(const std::string& digest) {
    std::string dest = blob_file(root_, digest);
    if (::fsync(fd_.get()) != 0) {
        return sys_error("fsync " + tmp_);
    }
    fd_.reset();
    if (::rename(tmp_.c_str(), dest.c_str()) != 0) {
        return sys_error("rename " + tmp_ + " to " + dest);
    }
    done_ = true;
    COVE_TRY(fsync_dir(dir_of(dest)), "blob " + digest);
    return dest;
}

Result<std::string> BlobWriter::commit(std::string_view expected, int64_t expected_size) {
    COVE_TRY(validate_digest(expected), "blob");
    std::string got = digest();
    if (got != expected) {
        return digest_mismatch(expected, got);
    }
    if (expected_size >= 0 && size_ != expected_size) {
        return make_error("blob " + std::string(expected) + ": size mismatch: expected " +
                          std::to_string(expected_size) + " bytes, got " + std::to_string(size_));
    }
    return finish(got);
}

Result<std::string> BlobWriter::commit_any() {
    std::string got = digest();
    COVE_TRY(finish(got), "blob");
    return got;
}

Status import_file(const std::string& root,
                   const std::string& path,
                   std::string_view expected,
                   int64_t expected_size) {
    COVE_TRY(validate_digest(expected), path);
    if (fs::exists(blob_file(root, expected))) {
        return ok_status();
    }
    UniqueFd in(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!in) {
        return sys_error("open " + path);
    }
    COVE_ASSIGN(BlobWriter w, BlobWriter::create(root), "import " + path);
    std::vector<char> buf(1 << 20);
    for (;;) {
        ssize_t n = ::read(in.get(), buf.data(), buf.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return sys_error("read " + path);
        }
        if (n == 0) {
            break;
        }
        COVE_TRY(w.write(buf.data(), static_cast<size_t>(n)), "import " + path);
    }
    COVE_TRY(w.commit(expected, expected_size), path);
    return ok_status();
}

Result<std::string> put_bytes(const std::string& root,
                              std::string_view data,
                              std::string_view expected) {
    std::string got = sha256_digest(data);
    if (!expected.empty() && got != expected) {
        return digest_mismatch(expected, got);
    }
    if (fs::exists(blob_file(root, got))) {
        return got;
    }
    COVE_ASSIGN(BlobWriter w, BlobWriter::create(root), "store blob");
    COVE_TRY(w.write(data.data(), data.size()), "store blob");
    COVE_TRY(w.commit(got), "store blob");
    return got;
}

}  // namespace cove::image
