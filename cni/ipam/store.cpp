#include "cni/ipam/store.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "runtime/base/fs.hpp"
#include "runtime/base/strings.hpp"

namespace cove::cni::ipam {

namespace {

// The reference host-local writes "<id>\r\n<ifname>" and compares trimmed contents.
constexpr std::string_view kLineBreak = "\r\n";

std::string_view trim_all(std::string_view s) {
    auto ws = [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; };
    while (!s.empty() && ws(s.front())) {
        s.remove_prefix(1);
    }
    while (!s.empty() && ws(s.back())) {
        s.remove_suffix(1);
    }
    return s;
}

Result<std::string> read_at(int dirfd, const char* name) {
    UniqueFd fd(::openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) {
        return sys_error(std::string("open ") + name);
    }
    return fs::read_fd(fd.get());
}

Status write_all(int fd, std::string_view s) {
    while (!s.empty()) {
        ssize_t n = ::write(fd, s.data(), s.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return sys_error("write");
        }
        s.remove_prefix(static_cast<size_t>(n));
    }
    return ok_status();
}

// Calls fn(name) for every regular file in dirfd whose name parses as an IP address.
template <typename F>
Status for_each_ip_file(int dirfd, F fn) {
    int dup = ::fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
    if (dup < 0) {
        return sys_error("dup store dir");
    }
    DIR* d = ::fdopendir(dup);
    if (d == nullptr) {
        ::close(dup);
        return sys_error("opendir store dir");
    }
    ::rewinddir(d);
    while (struct dirent* e = ::readdir(d)) {
        if (e->d_type != DT_REG && e->d_type != DT_UNKNOWN) {
            continue;
        }
        auto ip = IpAddr::parse(e->d_name);
        if (!ip) {
            continue;
        }
        fn(*ip, e->d_name);
    }
    ::closedir(d);
    return ok_status();
}

}  // namespace

Result<Store> Store::open(const std::string& data_dir, const std::string& network, bool create) {
    Store s;
    s.dir_ = data_dir + "/" + network;
    s.dir_fd_.reset(::open(s.dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!s.dir_fd_ && errno == ENOENT && create) {
        COVE_TRY(fs::mkdir_p(s.dir_, 0755), "store");
        s.dir_fd_.reset(::open(s.dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    }
    if (!s.dir_fd_) {
        return sys_error("store: open " + s.dir_);
    }
    return s;
}

Status Store::lock() {
    lock_fd_.reset(
        ::openat(dir_fd_.get(), "lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644));
    if (!lock_fd_) {
        return sys_error("store: open " + dir_ + "/lock");
    }
    while (::flock(lock_fd_.get(), LOCK_EX) != 0) {
        if (errno != EINTR) {
            return sys_error("store: flock " + dir_ + "/lock");
        }
    }
    return ok_status();
}

Result<bool> Store::reserve(const std::string& id,
                            const std::string& ifname,
                            const IpAddr& ip,
                            int range_id) {
    std::string name = ip.to_string();
    UniqueFd fd(::openat(dir_fd_.get(), name.c_str(),
                         O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644));
    if (!fd) {
        if (errno == EEXIST) {
            return false;
        }
        return sys_error("store: create " + dir_ + "/" + name);
    }
    std::string content = std::string(trim_all(id)) + std::string(kLineBreak) + ifname;
    Status st = write_all(fd.get(), content);
    std::string last = "last_reserved_ip." + std::to_string(range_id);
    if (st) {
        UniqueFd lf(::openat(dir_fd_.get(), last.c_str(),
                             O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644));
        st = lf ? write_all(lf.get(), name) : Status(sys_error("open"));
    }
    if (!st) {
        ::unlinkat(dir_fd_.get(), name.c_str(), 0);
        return std::move(st).error().wrap("store: reserve " + name);
    }
    return true;
}

std::optional<IpAddr> Store::last_reserved(int range_id) const {
    std::string last = "last_reserved_ip." + std::to_string(range_id);
    auto text = read_at(dir_fd_.get(), last.c_str());
    if (!text) {
        return std::nullopt;
    }
    return IpAddr::parse(trim_all(*text));
}

Status Store::release(const IpAddr& ip) {
    std::string name = ip.to_string();
    if (::unlinkat(dir_fd_.get(), name.c_str(), 0) != 0 && errno != ENOENT) {
        return sys_error("store: remove " + dir_ + "/" + name);
    }
    return ok_status();
}

Result<int> Store::release_by_id(const std::string& id, const std::string& ifname) {
    const std::string match = std::string(trim_all(id)) + std::string(kLineBreak) + ifname;
    const std::string old_match(trim_all(id));
    std::vector<std::string> exact;
    std::vector<std::string> legacy;
    COVE_TRY(for_each_ip_file(dir_fd_.get(),
                              [&](const IpAddr&, const char* name) {
                                  auto text = read_at(dir_fd_.get(), name);
                                  if (!text) {
                                      return;
                                  }
                                  std::string_view t = trim_all(*text);
                                  if (t == match) {
                                      exact.emplace_back(name);
                                  } else if (t == old_match) {
                                      legacy.emplace_back(name);
                                  }
                              }),
             "store: " + dir_);
    const auto& doomed = exact.empty() ? legacy : exact;
    int n = 0;
    for (const auto& name : doomed) {
        if (::unlinkat(dir_fd_.get(), name.c_str(), 0) != 0 && errno != ENOENT) {
            return sys_error("store: remove " + dir_ + "/" + name);
        }
        ++n;
    }
    return n;
}

Result<std::vector<Lease>> Store::leases() const {
    std::vector<Lease> out;
    COVE_TRY(for_each_ip_file(dir_fd_.get(),
                              [&](const IpAddr& ip, const char* name) {
                                  auto text = read_at(dir_fd_.get(), name);
                                  if (!text) {
                                      return;
                                  }
                                  std::string_view t = trim_all(*text);
                                  Lease l{ip, {}, {}};
                                  auto br = t.find(kLineBreak);
                                  if (br == std::string_view::npos) {
                                      l.container_id = std::string(t);
                                  } else {
                                      l.container_id = std::string(t.substr(0, br));
                                      l.ifname = std::string(t.substr(br + kLineBreak.size()));
                                  }
                                  out.push_back(std::move(l));
                              }),
             "store: " + dir_);
    return out;
}

}  // namespace cove::cni::ipam
