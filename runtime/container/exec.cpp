// `exec`: a new process in a running container. The parent joins the container's pid
// namespace for its children, clones into the cgroup, and the child joins every other
// namespace with one setns(pidfd) call, then becomes the process config.json (or --process)
// describes, with the container's seccomp filter.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <linux/close_range.h>
#include <linux/magic.h>

#include "cgroups/manager.hpp"
#include "namespaces/namespaces.hpp"
#include "runtime/base/fs.hpp"
#include "runtime/base/json.hpp"
#include "runtime/base/log.hpp"
#include "runtime/base/scope_exit.hpp"
#include "runtime/base/strings.hpp"
#include "runtime/container/cove.hpp"
#include "runtime/container/process.hpp"
#include "runtime/container/state.hpp"
#include "runtime/container/sync.hpp"
#include "runtime/container/tty.hpp"
#include "runtime/security/caps.hpp"
#include "runtime/security/seccomp.hpp"
#include "runtime/spec/spec_json.hpp"

namespace cove {
namespace {

void set_env(std::vector<std::string>& env, const std::string& kv) {
    auto eq = kv.find('=');
    std::string key = kv.substr(0, eq == std::string::npos ? kv.size() : eq + 1);
    for (auto& e : env) {
        if (e.compare(0, key.size(), key) == 0) {
            e = kv;
            return;
        }
    }
    env.push_back(kv);
}

Result<spec::Process> exec_process(const spec::Spec& s, const ExecOptions& o) {
    if (!o.process_file.empty()) {
        COVE_ASSIGN(json::Json pj, json::parse_file(o.process_file), "--process");
        COVE_ASSIGN(spec::Process proc, spec::parse_process(pj), "--process");
        if (proc.args.empty()) {
            return make_error("--process: args must not be empty");
        }
        return proc;
    }
    if (o.args.empty()) {
        return make_error("exec: no command given");
    }
    spec::Process p = s.process ? *s.process : spec::Process{};
    p.args = o.args;
    p.terminal = o.tty;
    p.console_size.reset();
    for (const auto& e : o.env) {
        set_env(p.env, e);
    }
    if (!o.cwd.empty()) {
        p.cwd = o.cwd;
    }
    if (o.user) {
        auto parts = str::split(*o.user, ':');
        auto uid = str::parse_uint(parts[0]);
        auto gid = parts.size() > 1 ? str::parse_uint(parts[1]) : std::optional<uint64_t>(0);
        if (!uid || !gid || parts.size() > 2) {
            return make_error("--user: \"" + *o.user + "\" is not uid[:gid]");
        }
        p.user.uid = static_cast<uint32_t>(*uid);
        p.user.gid = static_cast<uint32_t>(*gid);
    }
    for (uint32_t g : o.additional_gids) {
        p.user.additional_gids.push_back(g);
    }
    if (!o.caps.empty()) {
        if (!p.capabilities) {
            p.capabilities = spec::Capabilities{};
        }
        for (auto* set :
             {&p.capabilities->bounding, &p.capabilities->effective, &p.capabilities->permitted,
              &p.capabilities->ambient, &p.capabilities->inheritable}) {
            set->insert(set->end(), o.caps.begin(), o.caps.end());
        }
    }
    p.no_new_privileges = p.no_new_privileges || o.no_new_privs;
    return p;
}

// CLONE_NEW* of every namespace where the init differs from us.
int namespaces_to_join(pid_t pid) {
    int flags = 0;
    for (const auto& k : ns::kKinds) {
        struct stat a {
        }, b{};
        std::string theirs = "/proc/" + std::to_string(pid) + "/ns/" + k.proc_name;
        std::string ours = std::string("/proc/self/ns/") + k.proc_name;
        if (::stat(theirs.c_str(), &a) == 0 && ::stat(ours.c_str(), &b) == 0 &&
            (a.st_ino != b.st_ino || a.st_dev != b.st_dev)) {
            flags |= k.clone_flag;
        }
    }
    return flags;
}

struct ExecChild {
    const spec::Process* p = nullptr;
    int pidfd = -1;
    int ns_flags = 0;
    int sync_fd = -1;
    int parent_sync_fd = -1;
    int console_fd = -1;
    int preserve_fds = 0;
    const security::SeccompProgram* seccomp = nullptr;
    const security::CapabilitySets* caps = nullptr;
};

Status exec_console(const ExecChild& c) {
    UniqueFd master(::open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC));
    struct statfs sfs {};
    if (!master || ::fstatfs(master.get(), &sfs) != 0 || sfs.f_type != DEVPTS_SUPER_MAGIC) {
        return make_error("console: /dev/pts/ptmx is not a devpts ptmx");
    }
    int unlock = 0;
    if (::ioctl(master.get(), TIOCSPTLCK, &unlock) != 0) {
        return sys_error("console: unlock pty");
    }
    UniqueFd slave(::ioctl(master.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!slave) {
        return sys_error("console: open pty peer");
    }
    COVE_TRY(sync::send_fd(c.console_fd, master.get()), "console");
    if (::setsid() < 0 || ::ioctl(slave.get(), TIOCSCTTY, 0) != 0) {
        return sys_error("console: set controlling terminal");
    }
    for (int fd = 0; fd < 3; ++fd) {
        if (::dup3(slave.get(), fd, 0) < 0) {
            return sys_error("console: dup to stdio");
        }
    }
    return {};
}

Status exec_steps(const ExecChild& c) {
    const spec::Process& p = *c.p;
    if (c.ns_flags != 0 && ::setns(c.pidfd, c.ns_flags) != 0) {
        return sys_error("join the container's namespaces");
    }
    COVE_TRY(sync::expect(c.sync_fd, sync::Type::kGo), "");
    COVE_TRY(process::set_rlimits(p), "");
    if (c.console_fd >= 0) {
        COVE_TRY(exec_console(c), "");
    }
    std::vector<std::string> env = process::env_with_home(p);
    COVE_TRY(process::enter_cwd(p, true), "");
    if (c.seccomp != nullptr && !p.no_new_privileges) {
        COVE_TRY(security::load_seccomp(*c.seccomp), "seccomp");
    }
    if (c.caps != nullptr) {
        COVE_TRY(security::drop_bounding(*c.caps), "capabilities");
    }
    COVE_TRY(process::set_identity(p), "");
    if (c.caps != nullptr) {
        COVE_TRY(security::apply_capabilities(*c.caps), "capabilities");
    }
    if (p.no_new_privileges && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        return sys_error("noNewPrivileges");
    }
    COVE_TRY(process::enter_cwd(p, false), "");
    COVE_ASSIGN(std::string exe, process::find_executable(p.args[0], env), "");
    ::syscall(SYS_close_range, 3 + c.preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC);
    // The `cove exec -d` parent exits right away; the process must outlive it.
    ::prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
    if (c.seccomp != nullptr && p.no_new_privileges) {
        COVE_TRY(security::load_seccomp(*c.seccomp), "seccomp");
    }
    return process::exec(exe, p, env);
}

[[noreturn]] void exec_child(const ExecChild& c) noexcept {
    ::close(c.parent_sync_fd);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    // Until execve this process is the cove binary inside the container's namespaces:
    // non-dumpable, container processes cannot open /proc/<pid>/exe (CVE-2019-5736) or its
    // fds. execve of the container's program makes it dumpable again.
    ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    Status st = exec_steps(c);
    sync::send_error(c.sync_fd, st.error());
    ::_exit(st.error().exit_code() != 0 ? st.error().exit_code() : 1);
}

}  // namespace

Result<int> exec(const GlobalOptions& g, const std::string& id, const ExecOptions& o) {
    COVE_ASSIGN(
        ContainerState st,
        [&]() -> Result<ContainerState> {
            COVE_ASSIGN(StateDir dir, StateDir::open(g.root, id), "");
            COVE_ASSIGN(ContainerState s, dir.load(), "");
            std::string status = live_status(dir, s);
            if (status == "stopped") {
                return make_error("cannot exec in a stopped container");
            }
            if (status == "paused" && !o.ignore_paused) {
                return make_error(
                    "cannot exec in a paused container (use --ignore-paused to override)");
            }
            return s;
        }(),
        "");
    COVE_ASSIGN(spec::Spec s, spec::parse_spec(st.config), "saved config");
    COVE_ASSIGN(spec::Process p, exec_process(s, o), "");
    std::optional<security::SeccompProgram> seccomp;
    if (s.linux && s.linux->seccomp) {
        COVE_ASSIGN(seccomp, security::compile_seccomp(*s.linux->seccomp), "");
    }
    std::optional<security::CapabilitySets> caps;
    if (p.capabilities) {
        caps = security::resolve_capabilities(*p.capabilities);
        if (!caps->unknown.empty()) {
            log::warn(security::unknown_capabilities_warning(caps->unknown));
        }
    }
    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, st.pid, 0)));
    if (!pidfd || !process_alive(st.pid, st.start_time)) {
        return make_error("cannot exec in a stopped container");
    }
    std::unique_ptr<cgroups::Manager> cg;
    UniqueFd cgfd;
    if (!st.cgroup.is_null()) {
        COVE_ASSIGN(cg, cgroups::load_manager(st.cgroup), "cgroup");
        COVE_ASSIGN(cgfd, cg->clone_fd(), "cgroup");
    }
    std::optional<tty::ConsolePair> own_console;
    UniqueFd console;
    if (p.terminal) {
        if (!o.console_socket.empty()) {
            COVE_ASSIGN(console, tty::connect_console(o.console_socket), "");
        } else if (o.detach) {
            return make_error("exec: cannot allocate a tty when detached without --console-socket");
        } else {
            COVE_ASSIGN(own_console, tty::console_pair(), "");
        }
    }
    COVE_ASSIGN(sync::Pair sp, sync::make_pair(), "");
    ExecChild c;
    c.p = &p;
    c.pidfd = pidfd.get();
    c.ns_flags = namespaces_to_join(st.pid) & ~CLONE_NEWPID;
    c.sync_fd = sp.child.get();
    c.parent_sync_fd = sp.parent.get();
    c.console_fd = own_console ? own_console->child.get() : console.get();
    c.preserve_fds = o.preserve_fds;
    c.seccomp = seccomp ? &*seccomp : nullptr;
    c.caps = caps ? &*caps : nullptr;

    bool join_pid = (namespaces_to_join(st.pid) & CLONE_NEWPID) != 0;
    UniqueFd own_pidns;
    if (join_pid) {
        own_pidns.reset(::open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC));
        if (!own_pidns || ::setns(pidfd.get(), CLONE_NEWPID) != 0) {
            return sys_error("join the container's pid namespace");
        }
    }
    auto child = ns::clone3(0, cgfd.get());
    if (child && child->pid == 0) {
        exec_child(c);
    }
    if (own_pidns && ::setns(own_pidns.get(), CLONE_NEWPID) != 0) {
        log::warn("restore pid namespace failed");
    }
    if (!child) {
        return std::move(child).error().wrap("exec");
    }
    sp.child.reset();
    ScopeExit reap([&] {
        ::syscall(SYS_pidfd_send_signal, child->pidfd.get(), SIGKILL, nullptr, 0);
        ::waitpid(child->pid, nullptr, 0);
    });
    if (cg && !cgfd) {
        COVE_TRY(cg->add_pid(child->pid), "cgroup");
    }
    COVE_TRY(sync::send(sp.parent.get(), sync::Type::kGo), "");
    console.reset();
    UniqueFd master;
    if (own_console) {
        own_console->child.reset();
        auto m = sync::recv_fd(own_console->ours.get());
        if (m) {
            master = std::move(m).value();
        }
    }
    // EOF means execve succeeded (the channel is close-on-exec); a frame is the error.
    auto f = sync::recv(sp.parent.get());
    if (f && f->type == sync::Type::kError) {
        return Error(f->code, f->payload).with_exit_code(f->aux);
    }
    reap.dismiss();
    if (!o.pid_file.empty()) {
        COVE_TRY(fs::atomic_write(o.pid_file, std::to_string(child->pid), 0644), "--pid-file");
    }
    if (o.detach) {
        return 0;
    }
    return tty::wait_foreground(child->pid, child->pidfd.get(), master.get());
}

}  // namespace cove
