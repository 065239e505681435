#include "cgroups/cgroupfs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <ctime>

#include "cgroups/v2/devices_ebpf.hpp"
#include "runtime/base/fs.hpp"
#include "runtime/base/strings.hpp"

namespace cove::cgroups {

Status CgroupFs::mkdir(const std::string& dir) {
    if (::mkdir(dir.c_str(), 0755) != 0) {
        return sys_error("mkdir " + dir);
    }
    return {};
}

Status CgroupFs::rmdir(const std::string& dir) {
    if (::rmdir(dir.c_str()) != 0) {
        return sys_error("rmdir " + dir);
    }
    return {};
}

Result<std::string> CgroupFs::read(const std::string& file) {
    UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        return sys_error("open " + file);
    }
    auto text = fs::read_fd(fd.get());
    if (!text) {
        return errno_error(text.error().code(), "read " + file);
    }
    return text;
}

Status CgroupFs::write(const std::string& file, std::string_view data) {
    UniqueFd fd(::open(file.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd) {
        return sys_error("open " + file);
    }
    for (;;) {
        ssize_t n = ::write(fd.get(), data.data(), data.size());
        if (n >= 0) {
            return {};
        }
        if (errno != EINTR) {
            return sys_error("write " + file);
        }
    }
}

Result<std::vector<std::string>> CgroupFs::subdirs(const std::string& dir) {
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) {
        return sys_error("open " + dir);
    }
    DIR* d = ::fdopendir(fd.get());
    if (d == nullptr) {
        return sys_error("opendir " + dir);
    }
    fd.release();  // owned by d now
    std::vector<std::string> out;
    while (struct dirent* de = ::readdir(d)) {  // NOLINT(concurrency-mt-unsafe)
        if (std::strcmp(de->d_name, ".") == 0 || std::strcmp(de->d_name, "..") == 0) {
            continue;
        }
        bool is_dir = de->d_type == DT_DIR;
        if (de->d_type == DT_UNKNOWN) {
            struct stat st {};
            is_dir = ::fstatat(::dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                     S_ISDIR(st.st_mode);
        }
        if (is_dir) {
            out.emplace_back(de->d_name);
        }
    }
    ::closedir(d);
    std::sort(out.begin(), out.end());
    return out;
}

Result<UniqueFd> CgroupFs::open_dir(const std::string& dir) {
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) {
        return sys_error("open " + dir);
    }
    return fd;
}

Status CgroupFs::kill(pid_t pid, int sig) {
    if (::kill(pid, sig) != 0) {
        return sys_error("kill " + std::to_string(pid));
    }
    return {};
}

Status CgroupFs::set_device_filter(const std::string& dir, const std::vector<bpf_insn>& prog) {
    COVE_ASSIGN(UniqueFd fd, open_dir(dir), "");
    return replace_device_filter(fd.get(), prog);
}

std::shared_ptr<CgroupFs> real_cgroupfs() {
    static const auto fs = std::make_shared<CgroupFs>();
    return fs;
}

Status write_pid(CgroupFs& fs, const std::string& dir, pid_t pid) {
    return fs.write(join_path(dir, "cgroup.procs"), std::to_string(pid));
}

Status collect_pids(CgroupFs& fs, const std::string& dir, std::vector<pid_t>& out) {
    auto text = fs.read(join_path(dir, "cgroup.procs"));
    if (!text) {
        return text.error().code() == ENOENT ? Status{} : std::move(text).error();
    }
    for (const auto& line : str::split(*text, '\n')) {
        auto v = str::parse_int(str::trim(line));
        if (v && *v > 0) {
            out.push_back(static_cast<pid_t>(*v));
        }
    }
    COVE_ASSIGN(auto children, fs.subdirs(dir), "");
    for (const auto& child : children) {
        COVE_TRY(collect_pids(fs, join_path(dir, child), out), "");
    }
    return {};
}

static void sleep_ms(int ms) {
    struct timespec ts {};
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = static_cast<long>(ms % 1000) * 1000000L;
    while (::nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static Status rmdir_retrying(CgroupFs& fs, const std::string& dir, const RemoveRetry& retry) {
    int delay = retry.first_delay_ms;
    for (int attempt = 1;; ++attempt) {
        auto st = fs.rmdir(dir);
        if (st || st.error().code() == ENOENT) {
            return {};
        }
        if (st.error().code() != EBUSY || attempt >= retry.attempts) {
            return st;
        }
        sleep_ms(delay);
        delay *= 2;
    }
}

Status remove_cgroup(CgroupFs& fs, const std::string& dir, const RemoveRetry& retry) {
    // Fast path: a leaf cgroup without tasks goes at once.
    auto fast = fs.rmdir(dir);
    if (fast || fast.error().code() == ENOENT) {
        return {};
    }
    auto children = fs.subdirs(dir);
    if (!children) {
        return children.error().code() == ENOENT ? Status{} : std::move(children).error();
    }
    for (const auto& child : *children) {
        COVE_TRY(remove_cgroup(fs, join_path(dir, child), retry), "");
    }
    return rmdir_retrying(fs, dir, retry);
}

std::string join_path(std::string_view base, std::string_view rel) {
    while (!base.empty() && base.back() == '/') {
        base.remove_suffix(1);
    }
    while (!rel.empty() && rel.front() == '/') {
        rel.remove_prefix(1);
    }
    while (!rel.empty() && rel.back() == '/') {
        rel.remove_suffix(1);
    }
    std::string out(base);
    if (!rel.empty()) {
        out += '/';
        out += rel;
    }
    return out.empty() ? "/" : out;
}

}  // namespace cove::cgroups
