#include "runtime/container/hooks.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <string_view>

#include "runtime/base/fs.hpp"
#include "runtime/base/unique_fd.hpp"

namespace cove::hooks {
namespace {

std::vector<char*> cstrings(const std::vector<std::string>& v) {
    std::vector<char*> out;
    out.reserve(v.size() + 1);
    for (const auto& s : v) {
        out.push_back(const_cast<char*>(s.c_str()));
    }
    out.push_back(nullptr);
    return out;
}

std::string describe_status(int status) {
    if (WIFEXITED(status)) {
        return "exit status " + std::to_string(WEXITSTATUS(status));
    }
    if (WIFSIGNALED(status)) {
        return std::string("killed by signal ") + strsignal(WTERMSIG(status));  // NOLINT
    }
    return "status " + std::to_string(status);
}

Status run_one(const spec::Hook& h, const std::string& state) {
    int in[2];
    if (::pipe2(in, O_CLOEXEC) != 0) {
        return sys_error("pipe");
    }
    UniqueFd in_r(in[0]);
    UniqueFd in_w(in[1]);
    UniqueFd out(::memfd_create("cove-hook", MFD_CLOEXEC));
    if (!out) {
        return sys_error("memfd_create");
    }
    std::vector<std::string> args = h.args.empty() ? std::vector<std::string>{h.path} : h.args;
    auto argv = cstrings(args);
    auto envp = cstrings(h.env);
    pid_t pid = ::fork();
    if (pid < 0) {
        return sys_error("fork");
    }
    if (pid == 0) {
        ::dup2(in_r.get(), 0);
        ::dup2(out.get(), 1);
        ::dup2(out.get(), 2);
        ::execve(h.path.c_str(), argv.data(), envp.data());
        ::_exit(127);
    }
    in_r.reset();
    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    // The hook may not read its stdin: feed it as the pipe takes it while the timeout runs.
    // EPIPE is not a failure; SIGPIPE is ignored for these writes only.
    struct sigaction ign {};
    struct sigaction old_pipe {};
    ign.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &ign, &old_pipe);
    ::fcntl(in_w.get(), F_SETFL, O_NONBLOCK);
    std::string_view rest = state;
    struct timespec t0 {};
    ::clock_gettime(CLOCK_MONOTONIC, &t0);
    bool timed_out = false;
    for (;;) {
        if (in_w && !rest.empty()) {
            ssize_t n = ::write(in_w.get(), rest.data(), rest.size());
            if (n > 0) {
                rest.remove_prefix(static_cast<size_t>(n));
            } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
                rest = {};
            }
        }
        if (rest.empty()) {
            in_w.reset();
        }
        if (!pidfd || (!in_w && !h.timeout)) {
            break;
        }
        int wait_ms = -1;
        if (h.timeout) {
            struct timespec now {};
            ::clock_gettime(CLOCK_MONOTONIC, &now);
            long elapsed = (now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
            wait_ms = static_cast<int>(std::max(0L, *h.timeout * 1000L - elapsed));
        }
        struct pollfd p[2] = {{pidfd.get(), POLLIN, 0}, {in_w.get(), POLLOUT, 0}};
        int r = ::poll(p, in_w ? 2 : 1, wait_ms);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r == 0) {
            timed_out = true;
            break;
        }
        if ((p[0].revents & POLLIN) != 0) {
            break;
        }
    }
    in_w.reset();
    ::sigaction(SIGPIPE, &old_pipe, nullptr);
    int status = 0;
    if (timed_out) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        return make_error("timed out after " + std::to_string(*h.timeout) + "s");
    }
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            return sys_error("wait");
        }
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        return {};
    }
    std::string msg = describe_status(status);
    ::lseek(out.get(), 0, SEEK_SET);
    if (auto text = fs::read_fd(out.get()); text && !text->empty()) {
        std::string t = *text;
        while (!t.empty() && t.back() == '\n') {
            t.pop_back();
        }
        msg += ", output: " + t.substr(0, 1024);
    }
    return make_error(msg);
}

}  // namespace

Status run_all(const char* kind, const std::vector<spec::Hook>& list, const std::string& state) {
    for (size_t i = 0; i < list.size(); ++i) {
        COVE_TRY(run_one(list[i], state),
                 std::string(kind) + " hook #" + std::to_string(i) + " (" + list[i].path + ")");
    }
    return {};
}

}  // namespace cove::hooks
