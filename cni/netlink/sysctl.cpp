#include "cni/netlink/sysctl.hpp"

#include <fcntl.h>
#include <unistd.h>

#include "runtime/base/strings.hpp"
#include "runtime/base/unique_fd.hpp"

namespace cove::nl {

namespace {

Result<std::string> checked_path(const std::string& key) {
    if (key.empty() || key.find("..") != std::string::npos || key.front() == '/') {
        return make_error("sysctl " + key + ": invalid key");
    }
    return "/proc/sys/" + key;
}

}  // namespace

Result<std::string> sysctl_get(const std::string& key) {
    COVE_ASSIGN(std::string path, checked_path(key), "");
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        return sys_error("sysctl " + key + ": open");
    }
    char buf[256];
    ssize_t n = ::read(fd.get(), buf, sizeof(buf) - 1);
    if (n < 0) {
        return sys_error("sysctl " + key + ": read");
    }
    return std::string(str::trim(std::string_view(buf, static_cast<size_t>(n))));
}

Status sysctl_set(const std::string& key, const std::string& value) {
    auto cur = sysctl_get(key);
    if (cur && *cur == value) {
        return ok_status();
    }
    COVE_ASSIGN(std::string path, checked_path(key), "");
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd) {
        return sys_error("sysctl " + key + ": open");
    }
    if (::write(fd.get(), value.data(), value.size()) != static_cast<ssize_t>(value.size())) {
        return sys_error("sysctl " + key + "=" + value + ": write");
    }
    return ok_status();
}

}  // namespace cove::nl
