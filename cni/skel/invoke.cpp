#include "cni/skel/invoke.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "cni/ipam/host_local.hpp"
#include "runtime/base/scope_exit.hpp"
#include "runtime/base/unique_fd.hpp"

extern char** environ;  // NOLINT(readability-redundant-declaration)

namespace cove::cni {

Result<std::string> find_in_path(std::string_view name, const std::vector<std::string>& dirs) {
    if (name.empty() || name.find('/') != std::string_view::npos || name == "." || name == "..") {
        return cni_error(kErrInvalidNetworkConfig,
                         "plugin type \"" + std::string(name) + "\" is not a file name");
    }
    if (dirs.empty()) {
        return cni_error(kErrInvalidEnv,
                         "CNI_PATH is empty: cannot find plugin \"" + std::string(name) + "\"");
    }
    for (const auto& d : dirs) {
        std::string p = d + "/" + std::string(name);
        struct stat st {};
        if (::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(p.c_str(), X_OK) == 0) {
            return p;
        }
    }
    std::string list;
    for (const auto& d : dirs) {
        list += (list.empty() ? "" : ":") + d;
    }
    return cni_error(kErrInvalidNetworkConfig,
                     "failed to find plugin \"" + std::string(name) + "\" in path [" + list + "]");
}

namespace {

Result<std::pair<UniqueFd, UniqueFd>> make_pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        return sys_error("pipe2");
    }
    return std::make_pair(UniqueFd(fds[0]), UniqueFd(fds[1]));
}

// Feeds stdin_data to `in` while draining `out` and `err`, until both reach EOF.
Status pump(UniqueFd in, int out, int err, std::string_view stdin_data, ExecOutput* res) {
    if (stdin_data.empty()) {
        in.reset();
    } else if (::fcntl(in.get(), F_SETFL, O_NONBLOCK) != 0) {
        return sys_error("fcntl stdin pipe");
    }
    bool out_open = true;
    bool err_open = true;
    char buf[16384];
    while (out_open || err_open) {
        struct pollfd p[3];
        nfds_t n = 0;
        int out_i = -1;
        int err_i = -1;
        int in_i = -1;
        if (out_open) {
            out_i = static_cast<int>(n);
            p[n++] = {out, POLLIN, 0};
        }
        if (err_open) {
            err_i = static_cast<int>(n);
            p[n++] = {err, POLLIN, 0};
        }
        if (in.valid()) {
            in_i = static_cast<int>(n);
            p[n++] = {in.get(), POLLOUT, 0};
        }
        if (::poll(p, n, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            return sys_error("poll plugin pipes");
        }
        auto drain = [&](int idx, int fd, bool* open, std::string* dst) {
            if (idx < 0 || p[idx].revents == 0) {
                return;
            }
            ssize_t r = ::read(fd, buf, sizeof buf);
            if (r > 0) {
                dst->append(buf, static_cast<size_t>(r));
            } else if (r == 0 || errno != EINTR) {
                *open = false;
            }
        };
        drain(out_i, out, &out_open, &res->out);
        drain(err_i, err, &err_open, &res->err);
        if (in_i >= 0 && p[in_i].revents != 0) {
            ssize_t w = ::write(in.get(), stdin_data.data(), stdin_data.size());
            if (w > 0) {
                stdin_data.remove_prefix(static_cast<size_t>(w));
            }
            // EPIPE: the plugin did not read its config; its output says why.
            if (stdin_data.empty() || (w < 0 && errno != EINTR && errno != EAGAIN)) {
                in.reset();
            }
        }
    }
    return ok_status();
}

}  // namespace

Result<ExecOutput> exec_plugin(const std::string& binary,
                               const std::vector<std::string>& env,
                               std::string_view stdin_data) {
    COVE_ASSIGN(auto in, make_pipe(), "exec " + binary);
    COVE_ASSIGN(auto out, make_pipe(), "exec " + binary);
    COVE_ASSIGN(auto err, make_pipe(), "exec " + binary);

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    ScopeExit fa_free([&] { posix_spawn_file_actions_destroy(&fa); });
    posix_spawn_file_actions_adddup2(&fa, in.first.get(), STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&fa, out.second.get(), STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&fa, err.second.get(), STDERR_FILENO);
    // SIGPIPE is ignored here while we write the config; the plugin gets the default back.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    ScopeExit attr_free([&] { posix_spawnattr_destroy(&attr); });
    sigset_t def;
    sigemptyset(&def);
    sigaddset(&def, SIGPIPE);
    posix_spawnattr_setsigdefault(&attr, &def);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);

    std::vector<char*> envp;
    envp.reserve(env.size() + 1);
    for (const auto& e : env) {
        envp.push_back(
            const_cast<char*>(e.c_str()));  // NOLINT(cppcoreguidelines-pro-type-const-cast)
    }
    envp.push_back(nullptr);
    char* argv[] = {const_cast<char*>(binary.c_str()), nullptr};  // NOLINT

    struct sigaction ign {};
    struct sigaction old {};
    ign.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &ign, &old);
    ScopeExit restore([&] { ::sigaction(SIGPIPE, &old, nullptr); });

    pid_t pid = -1;
    int rc = ::posix_spawn(&pid, binary.c_str(), &fa, &attr, argv, envp.data());
    if (rc != 0) {
        return errno_error(rc, "exec " + binary);
    }
    in.first.reset();
    out.second.reset();
    err.second.reset();
    ExecOutput res;
    Status st = pump(std::move(in.second), out.first.get(), err.first.get(), stdin_data, &res);
    int ws = 0;
    while (::waitpid(pid, &ws, 0) < 0) {
        if (errno != EINTR) {
            return sys_error("wait for " + binary);
        }
    }
    if (!st) {
        return std::move(st).error().wrap("exec " + binary);
    }
    res.exit_status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
    return res;
}

std::vector<std::string> delegate_env(const Request& req, Verb verb) {
    static constexpr std::string_view kOverridden[] = {
        "CNI_COMMAND=", "CNI_CONTAINERID=", "CNI_NETNS=", "CNI_IFNAME=", "CNI_ARGS=", "CNI_PATH="};
    std::vector<std::string> env;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
        std::string_view s(*e);
        bool skip = false;
        for (auto k : kOverridden) {
            skip = skip || s.substr(0, k.size()) == k;
        }
        if (!skip) {
            env.emplace_back(s);
        }
    }
    env.push_back("CNI_COMMAND=" + std::string(verb_name(verb)));
    auto put = [&](const char* k, const std::string& v) {
        if (!v.empty()) {
            env.push_back(std::string(k) + "=" + v);
        }
    };
    put("CNI_CONTAINERID", req.container_id);
    put("CNI_NETNS", req.netns);
    put("CNI_IFNAME", req.ifname);
    put("CNI_ARGS", req.args);
    put("CNI_PATH", req.path);
    return env;
}

Result<CniResult> delegate(std::string_view type,
                           Verb verb,
                           const Request& req,
                           std::string_view stdin_data) {
    std::string ctx = std::string(type) + " " + std::string(verb_name(verb));
    COVE_ASSIGN(std::string bin, find_in_path(type, req.path_dirs), ctx);
    std::string_view data = stdin_data.empty() ? std::string_view(req.stdin_data) : stdin_data;
    COVE_ASSIGN(ExecOutput o, exec_plugin(bin, delegate_env(req, verb), data), ctx);
    if (o.exit_status != 0) {
        if (auto e = CniError::parse(o.out)) {
            return e->to_error().wrap(ctx);
        }
        std::string why = o.err.empty() ? o.out : o.err;
        while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) {
            why.pop_back();
        }
        return cni_error(kErrInternal, ctx + ": exit status " + std::to_string(o.exit_status) +
                                           (why.empty() ? "" : ": " + why));
    }
    if (verb != Verb::kAdd) {
        return CniResult{};
    }
    auto r = decode_result_text(o.out, req.conf.cni_version);
    if (!r) {
        return std::move(r).error().wrap(ctx);
    }
    return r;
}

namespace {

Result<std::string> ipam_type(const Request& req) {
    if (req.conf.ipam_type.empty()) {
        return cni_error(kErrInvalidNetworkConfig, "config: ipam: missing type");
    }
    return req.conf.ipam_type;
}

// cove's own IPAM runs in this process: the same lease store and lock as the binary, without
// the ~1.5 ms of an exec per call (SPEC.md leaves how a plugin does its IPAM to the plugin).
constexpr std::string_view kInProcess = "cove-host-local";

Status in_process(const Request& req, Verb verb) {
    switch (verb) {
        case Verb::kDel:
            return ipam::host_local_del(req);
        case Verb::kCheck:
            return ipam::host_local_check(req);
        case Verb::kGc:
            return ipam::host_local_gc(req);
        case Verb::kStatus:
            return ipam::host_local_status(req);
        default:
            return make_error("ipam: unexpected verb");
    }
}

Status ipam_verb(const Request& req, Verb verb) {
    COVE_ASSIGN(std::string type, ipam_type(req), "");
    if (type == kInProcess) {
        COVE_TRY(in_process(req, verb), "ipam");
        return ok_status();
    }
    auto r = delegate(type, verb, req);
    if (!r) {
        return std::move(r).error().wrap("ipam");
    }
    return ok_status();
}

}  // namespace

Result<CniResult> ipam_exec_add(const Request& req) {
    COVE_ASSIGN(std::string type, ipam_type(req), "");
    auto r = type == kInProcess ? ipam::host_local_add(req) : delegate(type, Verb::kAdd, req);
    if (!r) {
        return std::move(r).error().wrap("ipam");
    }
    return r;
}

Status ipam_exec_del(const Request& req) {
    return ipam_verb(req, Verb::kDel);
}
Status ipam_exec_check(const Request& req) {
    return ipam_verb(req, Verb::kCheck);
}
Status ipam_exec_gc(const Request& req) {
    return ipam_verb(req, Verb::kGc);
}
Status ipam_exec_status(const Request& req) {
    return ipam_verb(req, Verb::kStatus);
}

}  // namespace cove::cni
