#include "runtime/container/init.hpp"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <termios.h>
#include <unistd.h>

#include <linux/close_range.h>
#include <linux/keyctl.h>
#include <linux/magic.h>
#include <linux/openat2.h>

#include <cstring>

#include "runtime/base/fs.hpp"
#include "runtime/container/hooks.hpp"
#include "runtime/container/process.hpp"
#include "runtime/container/sync.hpp"
#include "runtime/rootfs/mounts.hpp"
#include "runtime/security/caps.hpp"

namespace cove {
namespace {

Status join_namespaces(const InitArgs& a) {
    for (const auto& [fd, type] : a.joins) {
        if (::setns(fd, type) != 0) {
            return sys_error("join namespace");
        }
    }
    return {};
}

Status unshare_late(const InitArgs& a) {
    // cgroup: only after the parent put us in our cgroup, so that it becomes our root.
    if (a.new_cgroupns && ::unshare(CLONE_NEWCGROUP) != 0) {
        return sys_error("unshare cgroup namespace");
    }
    if (!a.new_timens) {
        return {};
    }
    // A time namespace takes effect for children and at execve; offsets must be written
    // before any process enters it.
    if (::unshare(CLONE_NEWTIME) != 0) {
        return sys_error("unshare time namespace");
    }
    std::string offsets;
    for (const auto& [clock, off] : a.spec->linux->time_offsets) {
        offsets +=
            clock + " " + std::to_string(off.first) + " " + std::to_string(off.second) + "\n";
    }
    if (!offsets.empty()) {
        COVE_TRY(fs::write_file("/proc/self/timens_offsets", offsets), "linux.timeOffsets");
    }
    return {};
}

// A new network namespace starts with lo down; runc brings it up.
Status loopback_up(const InitArgs& a) {
    if (!a.new_netns) {
        return {};
    }
    UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    struct ifreq ifr {};
    std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    if (!s || ::ioctl(s.get(), SIOCGIFFLAGS, &ifr) != 0) {
        return sys_error("network: get lo flags");
    }
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
    if (::ioctl(s.get(), SIOCSIFFLAGS, &ifr) != 0) {
        return sys_error("network: bring lo up");
    }
    return {};
}

Status become_root_in_userns(const InitArgs& a) {
    if (!a.new_userns && !a.joined_userns) {
        return {};
    }
    if (::setresgid(0, 0, 0) != 0 || ::setresuid(0, 0, 0) != 0) {
        return sys_error("become root in the user namespace");
    }
    return {};
}

// The pty: master goes to --console-socket, slave becomes stdio and /dev/console.
Status setup_console(InitArgs& a, rootfs::Context& ctx, UniqueFd& slave) {
    COVE_ASSIGN(UniqueFd master,
                fs::open_in_root(ctx.root_fd.get(), "/dev/pts/ptmx", O_RDWR | O_NOCTTY),
                "console: open /dev/pts/ptmx");
    int unlock = 0;
    if (::ioctl(master.get(), TIOCSPTLCK, &unlock) != 0) {
        return sys_error("console: unlock pty");
    }
    // TIOCGPTPEER opens the slave from the master: no path lookup in the container's /dev/pts.
    int s = ::ioctl(master.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (s < 0) {
        return sys_error("console: open pty peer");
    }
    slave.reset(s);
    const auto& p = *a.spec->process;
    if (p.console_size) {
        struct winsize ws {};
        ws.ws_row = static_cast<unsigned short>(p.console_size->height);
        ws.ws_col = static_cast<unsigned short>(p.console_size->width);
        ::ioctl(slave.get(), TIOCSWINSZ, &ws);
    }
    COVE_TRY(rootfs::mount_console(ctx, slave.get()), "console");
    unsigned int ptn = 0;
    std::string name = "/dev/pts/";
    name += ::ioctl(master.get(), TIOCGPTN, &ptn) == 0 ? std::to_string(ptn) : "ptmx";
    COVE_TRY(sync::send_fd(a.console_fd, master.get(), name), "console: send the pty master");
    ::close(a.console_fd);
    a.console_fd = -1;
    return {};
}

Status attach_console(int slave) {
    if (::setsid() < 0) {
        return sys_error("console: setsid");
    }
    if (::ioctl(slave, TIOCSCTTY, 0) != 0) {
        return sys_error("console: set controlling terminal");
    }
    for (int fd = 0; fd < 3; ++fd) {
        if (::dup3(slave, fd, 0) < 0) {
            return sys_error("console: dup to stdio");
        }
    }
    return {};
}

Status set_names(const spec::Spec& s) {
    if (!s.hostname.empty() && ::sethostname(s.hostname.data(), s.hostname.size()) != 0) {
        return sys_error("sethostname");
    }
    if (!s.domainname.empty() && ::setdomainname(s.domainname.data(), s.domainname.size()) != 0) {
        return sys_error("setdomainname");
    }
    return {};
}

// Before pivot and before readonlyPaths make /proc/sys read-only (runc's order).
Status write_sysctls(const spec::Spec& s, int root_fd) {
    if (!s.linux || s.linux->sysctl.empty()) {
        return {};
    }
    // Through a procfs fd that is checked to be procfs, and with no symlink on the way:
    // a container cannot redirect these writes (the 2025 /proc write-redirect advisories).
    auto procr = fs::open_in_root(root_fd, "/proc/sys", O_PATH | O_DIRECTORY | O_NOFOLLOW);
    if (!procr) {
        return std::move(procr).error().wrap("linux.sysctl");
    }
    UniqueFd proc = std::move(procr).value();
    struct statfs sfs {};
    if (!proc || ::fstatfs(proc.get(), &sfs) != 0 || sfs.f_type != PROC_SUPER_MAGIC) {
        return make_error("linux.sysctl: /proc/sys is not procfs");
    }
    for (const auto& [key, value] : s.linux->sysctl) {
        std::string rel = key;
        for (char& c : rel) {
            c = c == '.' ? '/' : c;
        }
        struct open_how how {};
        how.flags = O_WRONLY | O_CLOEXEC | O_TRUNC;
        how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV;
        UniqueFd f(
            static_cast<int>(::syscall(SYS_openat2, proc.get(), rel.c_str(), &how, sizeof how)));
        if (!f || ::write(f.get(), value.data(), value.size()) < 0) {
            return sys_error("linux.sysctl: write " + key + "=" + value);
        }
    }
    return {};
}

Status rootfs_steps(InitArgs& a, UniqueFd& console_slave, const std::string& state) {
    rootfs::Context ctx;
    ctx.spec = a.spec;
    ctx.rootfs = a.rootfs;
    ctx.overlay = a.overlay;
    ctx.new_userns = a.new_userns || a.joined_userns;
    ctx.new_cgroupns = a.new_cgroupns;
    ctx.cgroup_paths = a.cgroup_paths;
    COVE_TRY(rootfs::prepare(ctx), "");
    COVE_TRY(rootfs::mount_all(ctx), "");
    COVE_TRY(rootfs::setup_dev(ctx), "");
    if (!a.new_cgroupns) {
        COVE_TRY(sync::expect(a.sync_fd, sync::Type::kCgroup), "");
    }
    if (a.spec->process->terminal) {
        COVE_TRY(setup_console(a, ctx, console_slave), "");
    }
    const auto& hooks = a.spec->hooks;
    if (hooks && (!hooks->prestart.empty() || !hooks->create_runtime.empty())) {
        COVE_TRY(sync::send(a.sync_fd, sync::Type::kHooks), "");
        COVE_TRY(sync::expect(a.sync_fd, sync::Type::kHooksDone), "");
    }
    // createContainer: in the container's mount namespace, before pivot_root, so hook paths
    // still resolve on the host (runtime-spec config.md).
    if (hooks) {
        COVE_TRY(hooks::run_all("createContainer", hooks->create_container, state), "");
    }
    COVE_TRY(write_sysctls(*a.spec, ctx.root_fd.get()), "");
    // runc creates a missing cwd (as root, before the user switch).
    COVE_TRY(fs::mkdir_in_root(ctx.root_fd.get(), a.spec->process->cwd), "process.cwd");
    COVE_TRY(rootfs::mask_and_readonly(ctx), "");
    return rootfs::pivot(ctx, a.no_pivot);
}

Status security_steps(const InitArgs& a) {
    const spec::Process& p = *a.spec->process;
    if (a.caps != nullptr) {
        COVE_TRY(security::drop_bounding(*a.caps), "capabilities");
    }
    COVE_TRY(process::set_identity(p), "");
    if (a.caps != nullptr) {
        COVE_TRY(security::apply_capabilities(*a.caps), "capabilities");
    }
    if (p.no_new_privileges && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        return sys_error("process.noNewPrivileges");
    }
    return {};
}

Status load_seccomp(const InitArgs& a) {
    if (a.seccomp == nullptr) {
        return {};
    }
    COVE_ASSIGN(UniqueFd listener, security::load_seccomp(*a.seccomp), "seccomp");
    return {};
}

// Blocks until `cove start` opens the fifo for reading. /proc is the container's now.
Status wait_for_start(const InitArgs& a) {
    std::string path = "/proc/self/fd/" + std::to_string(a.fifo_fd);
    UniqueFd w(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!w) {
        return sys_error("open exec fifo");
    }
    if (::write(w.get(), "0", 1) != 1) {
        return sys_error("write exec fifo");
    }
    ::close(a.fifo_fd);
    return {};
}

// The first child of a two-stage start (create.cpp NsPlan): after the joins, it makes the user
// namespace, waits for its maps, makes the other namespaces inside it, and forks the init,
// which returns from here; the first child reports the init's pid and exits.
Status second_stage(InitArgs& a) {
    if (a.new_userns) {
        if (::unshare(CLONE_NEWUSER) != 0) {
            return sys_error("unshare user namespace");
        }
        COVE_TRY(sync::send(a.sync_fd, sync::Type::kUserns), "");
    }
    COVE_TRY(sync::expect(a.sync_fd, sync::Type::kGo), "");
    COVE_TRY(become_root_in_userns(a), "");
    if (a.late_flags != 0 && ::unshare(static_cast<int>(a.late_flags)) != 0) {
        return sys_error("unshare namespaces");
    }
    pid_t init = ::fork();
    if (init < 0) {
        return sys_error("fork the init");
    }
    if (init > 0) {
        COVE_TRY(sync::send(a.sync_fd, sync::Type::kPid, {}, 0, init), "");
        ::_exit(0);
    }
    ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    return {};
}

Status run_init_steps(InitArgs& a, const char** stage) {
    const spec::Spec& s = *a.spec;
    const spec::Process& p = *s.process;
    *stage = "namespaces";
    COVE_TRY(join_namespaces(a), "");
    if (a.two_stage) {
        COVE_TRY(second_stage(a), "");
    }
    sync::Frame go;
    COVE_TRY(sync::expect(a.sync_fd, sync::Type::kGo, &go), "");
    COVE_TRY(become_root_in_userns(a), "");
    if (a.new_cgroupns) {
        // The cgroup namespace is rooted at the cgroup we are in when we make it.
        COVE_TRY(sync::expect(a.sync_fd, sync::Type::kCgroup), "");
    }
    COVE_TRY(unshare_late(a), "");
    COVE_TRY(loopback_up(a), "");
    if (a.new_keyring) {
        // A fresh session keyring, so containers do not share the host's (runc does this).
        (void)::syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, nullptr);
    }
    *stage = "process";
    COVE_TRY(process::set_oom_score_adj(p), "");
    COVE_TRY(process::set_rlimits(p), "");
    *stage = "rootfs";
    UniqueFd console_slave;
    COVE_TRY(rootfs_steps(a, console_slave, go.payload), "");
    COVE_TRY(rootfs::finish(s), "rootfs");
    *stage = "process";
    COVE_TRY(set_names(s), "");
    if (console_slave) {
        COVE_TRY(attach_console(console_slave.get()), "");
        console_slave.reset();
    }
    COVE_TRY(process::enter_cwd(p, true), "");
    std::vector<std::string> env = process::env_with_home(p);
    if (!p.no_new_privileges) {
        // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: before dropping caps.
        COVE_TRY(load_seccomp(a), "");
    }
    COVE_TRY(security_steps(a), "");
    COVE_TRY(process::enter_cwd(p, false), "");
    COVE_ASSIGN(std::string exe, process::find_executable(p.args[0], env), "");
    // Everything the caller did not ask to pass on is closed at execve.
    ::syscall(SYS_close_range, 3 + a.preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC);
    ::prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
    COVE_TRY(sync::send(a.sync_fd, sync::Type::kReady), "");
    *stage = "start";
    COVE_TRY(wait_for_start(a), "");
    ::close(a.sync_fd);
    a.sync_fd = -1;
    if (s.hooks) {
        COVE_TRY(hooks::run_all("startContainer", s.hooks->start_container, go.payload), "");
    }
    if (p.no_new_privileges) {
        // As late as possible, so the filter sees as few of our own syscalls as possible.
        COVE_TRY(load_seccomp(a), "");
    }
    return process::exec(exe, p, env);
}

}  // namespace

void init_main(InitArgs& a) noexcept {
    ::close(a.parent_sync_fd);
    // flock belongs to the open file: holding the parent's copy would lock out `start`.
    ::close(a.state_lock_fd);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    // Until execve this process is the cove binary inside the container's namespaces:
    // non-dumpable, container processes cannot open /proc/<pid>/exe (CVE-2019-5736) or its
    // fds. execve of the container's program makes it dumpable again.
    ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    // The child inherits the parent's signal mask and handlers; start clean.
    sigset_t all;
    ::sigemptyset(&all);
    ::sigprocmask(SIG_SETMASK, &all, nullptr);
    const char* stage = "init";
    Status st = run_init_steps(a, &stage);
    Error e = std::move(st).error();
    if (a.sync_fd >= 0) {
        sync::send_error(a.sync_fd, e);
    } else {
        // After start nobody listens on the sync socket: the process's stderr is the place.
        std::string line = "cove: " + std::string(stage) + ": " + e.to_string() + "\n";
        (void)!::write(2, line.data(), line.size());
    }
    ::_exit(e.exit_code() != 0 ? e.exit_code() : 1);
}

}  // namespace cove
