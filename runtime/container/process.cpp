#include "runtime/container/process.hpp"

#include <fcntl.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstring>

#include "runtime/base/fs.hpp"
#include "runtime/base/strings.hpp"

namespace cove::process {
namespace {

struct RlimitName {
    const char* name;
    int resource;
};

constexpr RlimitName kRlimits[] = {
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
};

std::string env_get(const std::vector<std::string>& env, std::string_view key) {
    for (const auto& e : env) {
        if (e.size() > key.size() && e.compare(0, key.size(), key) == 0 && e[key.size()] == '=') {
            return e.substr(key.size() + 1);
        }
    }
    return {};
}

}  // namespace

Status set_rlimits(const spec::Process& p) {
    for (const auto& r : p.rlimits) {
        int res = -1;
        for (const auto& n : kRlimits) {
            if (r.type == n.name) {
                res = n.resource;
            }
        }
        if (res < 0) {
            return make_error("process.rlimits: unknown rlimit \"" + r.type + "\"");
        }
        struct rlimit rl = {r.soft, r.hard};
        if (::setrlimit(static_cast<__rlimit_resource>(res), &rl) != 0) {
            return sys_error("process.rlimits: set " + r.type + " to " + std::to_string(r.soft) +
                             ":" + std::to_string(r.hard));
        }
    }
    return {};
}

Status set_oom_score_adj(const spec::Process& p) {
    if (!p.oom_score_adj) {
        return {};
    }
    COVE_TRY(fs::write_file("/proc/self/oom_score_adj", std::to_string(*p.oom_score_adj)),
             "process.oomScoreAdj");
    return {};
}

Status set_identity(const spec::Process& p) {
    const auto& u = p.user;
    if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) {
        return sys_error("prctl PR_SET_KEEPCAPS");
    }
    std::vector<gid_t> groups(u.additional_gids.begin(), u.additional_gids.end());
    if (::setgroups(groups.size(), groups.data()) != 0) {
        // EPERM: setgroups is "deny" in this user namespace; only fatal if groups were asked.
        if (errno != EPERM || !groups.empty()) {
            return sys_error("process.user.additionalGids: setgroups");
        }
    }
    if (::setresgid(u.gid, u.gid, u.gid) != 0) {
        return sys_error("process.user.gid: setresgid " + std::to_string(u.gid));
    }
    if (::setresuid(u.uid, u.uid, u.uid) != 0) {
        return sys_error("process.user.uid: setresuid " + std::to_string(u.uid));
    }
    if (u.umask) {
        ::umask(static_cast<mode_t>(*u.umask));
    } else {
        ::umask(0022);
    }
    return {};
}

Status enter_cwd(const spec::Process& p, bool early) {
    if (::chdir(p.cwd.c_str()) != 0) {
        if (early && errno == EACCES) {
            return {};
        }
        return sys_error("process.cwd: chdir " + p.cwd);
    }
    // getcwd fails with ENOENT (glibc >= 2.27) when the directory is outside our root.
    char buf[PATH_MAX];
    if (::getcwd(buf, sizeof buf) == nullptr || buf[0] != '/') {
        return make_error("process.cwd: " + p.cwd + " is outside the container");
    }
    return {};
}

std::vector<std::string> env_with_home(const spec::Process& p) {
    std::vector<std::string> env = p.env;
    if (!env_get(env, "HOME").empty()) {
        return env;
    }
    std::erase_if(env, [](const std::string& e) { return e == "HOME="; });
    std::string home = "/";
    if (auto passwd = fs::read_file("/etc/passwd")) {
        for (const auto& line : str::split(*passwd, '\n')) {
            auto f = str::split(line, ':');
            if (f.size() >= 7 && str::parse_uint(f[2]) == p.user.uid) {
                home = f[5];
                break;
            }
        }
    }
    env.push_back("HOME=" + home);
    return env;
}

Result<std::string> find_executable(const std::string& name, const std::vector<std::string>& env) {
    auto check = [](const std::string& path) -> int {
        struct stat st {};
        if (::stat(path.c_str(), &st) != 0) {
            return ENOENT;
        }
        if (S_ISDIR(st.st_mode) || ::access(path.c_str(), X_OK) != 0) {
            return EACCES;
        }
        return 0;
    };
    if (name.empty()) {
        return make_error("exec: \"\": executable file not found in $PATH").with_exit_code(127);
    }
    if (name.find('/') != std::string::npos) {
        int err = check(name);
        if (err == 0) {
            return name;
        }
        std::string what = "exec: \"" + name + "\": " +
                           (err == ENOENT ? "no such file or directory" : "permission denied");
        return make_error(what).with_exit_code(err == ENOENT ? 127 : 126);
    }
    std::string path = env_get(env, "PATH");
    if (path.empty()) {
        path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    }
    bool found_not_exec = false;
    for (const auto& dir : str::split(path, ':')) {
        std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
        int err = check(candidate);
        if (err == 0) {
            return candidate;
        }
        found_not_exec = found_not_exec || err == EACCES;
    }
    if (found_not_exec) {
        return make_error("exec: \"" + name + "\": permission denied").with_exit_code(126);
    }
    return make_error("exec: \"" + name + "\": executable file not found in $PATH")
        .with_exit_code(127);
}

Error exec(const std::string& path, const spec::Process& p, const std::vector<std::string>& env) {
    std::vector<char*> argv;
    for (const auto& a : p.args) {
        argv.push_back(const_cast<char*>(a.c_str()));
    }
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (const auto& e : env) {
        envp.push_back(const_cast<char*>(e.c_str()));
    }
    envp.push_back(nullptr);
    ::execve(path.c_str(), argv.data(), envp.data());
    int err = errno;
    return errno_error(err, "exec " + path).with_exit_code(err == ENOENT ? 127 : 126);
}

}  // namespace cove::process
