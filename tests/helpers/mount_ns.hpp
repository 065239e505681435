// in_mount_ns: runs a test step in a forked child inside its own private mount namespace, so
// nothing it mounts reaches the host's mount table. For privileged Catch2 tests only.
#pragma once

#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <string>

#include <catch2/catch.hpp>

#include "runtime/base/fs.hpp"
#include "runtime/base/unique_fd.hpp"

namespace cove::test {

// False (and a skip warned) unless root, which mount namespaces need.
inline bool can_unshare_mounts() {
    if (::geteuid() != 0) {
        WARN("skipped: needs root for mount namespaces");
        return false;
    }
    return true;
}

// Runs fn in a forked child in a new private mount namespace; returns what fn returned
// ("ok" or a description of what went wrong), read back through a pipe.
inline std::string in_mount_ns(const std::function<std::string()>& fn) {
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    pid_t pid = ::fork();
    if (pid == 0) {
        ::close(fds[0]);
        std::string out;
        if (::unshare(CLONE_NEWNS) != 0) {
            out = std::string("unshare: ") + std::strerror(errno);
        } else if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
            out = std::string("make / private: ") + std::strerror(errno);
        } else {
            try {
                out = fn();
            } catch (...) {
                out = "exception";
            }
        }
        (void)!::write(fds[1], out.data(), out.size());
        ::_exit(0);
    }
    ::close(fds[1]);
    UniqueFd r(fds[0]);
    REQUIRE(pid > 0);
    auto text = fs::read_fd(r.get());
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        REQUIRE(errno == EINTR);
    }
    CHECK(WIFEXITED(status));
    REQUIRE(text.ok());
    return *text;
}

}  // namespace cove::test
