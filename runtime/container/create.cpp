#include "runtime/container/create.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "namespaces/namespaces.hpp"
#include "runtime/base/fs.hpp"
#include "runtime/base/log.hpp"
#include "runtime/base/scope_exit.hpp"
#include "runtime/base/strings.hpp"
#include "runtime/container/cgroup_ops.hpp"
#include "runtime/container/hooks.hpp"
#include "runtime/container/image_bundle.hpp"
#include "runtime/container/init.hpp"
#include "runtime/container/sync.hpp"
#include "runtime/container/tty.hpp"
#include "runtime/security/caps.hpp"
#include "runtime/spec/spec_json.hpp"
#include "runtime/spec/validate.hpp"

namespace cove {
namespace {

// What clone3 creates, what the child joins, and what it unshares later.
struct NsPlan {
    uint64_t clone_flags = 0;
    std::vector<std::pair<UniqueFd, int>> joins;
    UniqueFd pid_join;  // joined by the parent before clone (pid_for_children)
    bool new_userns = false, new_cgroupns = false, new_timens = false;
    // A new user namespace together with joined ones (or a joined user namespace with new
    // ones): the joins must happen before the user namespace is made, and the new namespaces
    // after it, so they are owned by it. clone3 cannot do that in one step: the first child
    // joins, unshares and forks the init (see init.cpp second_stage).
    bool two_stage = false;
    bool joined_userns = false;
};

Result<NsPlan> plan_namespaces(const spec::Spec& s) {
    NsPlan p;
    if (!s.linux) {
        return p;
    }
    for (const auto& n : s.linux->namespaces) {
        const ns::Kind* k = ns::kind_by_spec_name(n.type);
        if (k == nullptr) {
            return make_error("linux.namespaces: unknown namespace \"" + n.type + "\"");
        }
        if (!n.path.empty()) {
            UniqueFd fd(::open(n.path.c_str(), O_RDONLY | O_CLOEXEC));
            if (!fd) {
                return sys_error("linux.namespaces: open " + n.type + " namespace " + n.path);
            }
            if (k->clone_flag == CLONE_NEWPID) {
                p.pid_join = std::move(fd);
            } else {
                p.joins.emplace_back(std::move(fd), k->clone_flag);
            }
            continue;
        }
        if (k->clone_flag == CLONE_NEWCGROUP) {
            p.new_cgroupns = true;
        } else if (std::string_view(k->spec_name) == "time") {
            p.new_timens = true;
        } else {
            p.clone_flags |= static_cast<uint64_t>(k->clone_flag);
        }
        p.new_userns = p.new_userns || k->clone_flag == CLONE_NEWUSER;
    }
    // The kernel orders joins for us only within one setns(pidfd) call; with paths, the user
    // namespace must come first (kKinds order) so the other joins are allowed.
    std::stable_sort(p.joins.begin(), p.joins.end(), [](const auto& a, const auto& b) {
        auto rank = [](int f) {
            for (int i = 0; i < 8; ++i) {
                if (ns::kKinds[i].clone_flag == f) {
                    return i;
                }
            }
            return 8;
        };
        return rank(a.second) < rank(b.second);
    });
    for (const auto& j : p.joins) {
        p.joined_userns = p.joined_userns || j.second == CLONE_NEWUSER;
    }
    p.two_stage = (p.new_userns && (!p.joins.empty() || p.pid_join)) ||
                  (p.joined_userns && p.clone_flags != 0);
    if (p.two_stage && p.pid_join) {
        // The first child joins it (for its children) in kKinds order: after user.
        p.joins.emplace_back(std::move(p.pid_join), CLONE_NEWPID);
        std::stable_sort(p.joins.begin(), p.joins.end(), [](const auto& a, const auto& b) {
            return a.second == CLONE_NEWUSER && b.second != CLONE_NEWUSER;
        });
    }
    return p;
}

Status write_id_maps(pid_t pid, const spec::Linux& lx) {
    auto fmt = [](const std::vector<spec::IdMapping>& m) {
        std::string out;
        for (const auto& e : m) {
            out += std::to_string(e.container_id) + " " + std::to_string(e.host_id) + " " +
                   std::to_string(e.size) + "\n";
        }
        return out;
    };
    std::string base = "/proc/" + std::to_string(pid);
    COVE_TRY(fs::write_file(base + "/gid_map", fmt(lx.gid_mappings)), "linux.gidMappings");
    COVE_TRY(fs::write_file(base + "/uid_map", fmt(lx.uid_mappings)), "linux.uidMappings");
    return {};
}

Status write_pid_file(const std::string& path, pid_t pid) {
    if (path.empty()) {
        return {};
    }
    COVE_TRY(fs::atomic_write(path, std::to_string(pid), 0644), "--pid-file");
    return {};
}

// Sends a frame to the init; when the init has already failed and gone (EPIPE), its error
// frame is still queued on the socket: that is the error the user must see.
Status tell_child(int sync_fd, sync::Type type, std::string_view payload = {}) {
    Status st = sync::send(sync_fd, type, payload);
    if (st) {
        return st;
    }
    auto f = sync::recv(sync_fd);
    if (f && f->type == sync::Type::kError) {
        return Error(f->code, f->payload).with_exit_code(f->aux);
    }
    return st;
}

// The parent's side of a two-stage start: maps for the first child's new user namespace, then
// the init's pid (the first child's child) replaces the first child's, which is reaped.
Status second_stage(
    int sync_fd, bool new_userns, const spec::Linux& lx, pid_t& pid, UniqueFd& pidfd) {
    if (new_userns) {
        COVE_TRY(sync::expect(sync_fd, sync::Type::kUserns), "");
        COVE_TRY(write_id_maps(pid, lx), "");
    }
    COVE_TRY(tell_child(sync_fd, sync::Type::kGo), "");
    sync::Frame f;
    COVE_TRY(sync::expect(sync_fd, sync::Type::kPid, &f), "");
    ::waitpid(pid, nullptr, 0);
    pid = f.aux;
    pidfd.reset(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    if (!pidfd) {
        return sys_error("pidfd_open of the init");
    }
    return {};
}

std::string absolute(const std::string& p) {
    char buf[PATH_MAX];
    if (::realpath(p.c_str(), buf) != nullptr) {
        return buf;
    }
    return p;
}

// The parent's conversation with the init until it waits on exec.fifo.
Status drive_child(int sync_fd, const spec::Spec& s, const std::string& creating_state) {
    for (;;) {
        COVE_ASSIGN(sync::Frame f, sync::recv(sync_fd), "");
        switch (f.type) {
            case sync::Type::kHooks:
                COVE_TRY(hooks::run_all("prestart", s.hooks->prestart, creating_state), "");
                COVE_TRY(hooks::run_all("createRuntime", s.hooks->create_runtime, creating_state),
                         "");
                COVE_TRY(tell_child(sync_fd, sync::Type::kHooksDone), "");
                break;
            case sync::Type::kReady:
                return {};
            case sync::Type::kError:
                return Error(f.code, f.payload).with_exit_code(f.aux);
            default:
                return make_error("unexpected message from the container's init");
        }
    }
}

}  // namespace

std::string hook_state(const ContainerState& st, const std::string& status) {
    return oci_state_json(st, status).dump();
}

Result<Created> create_container(const GlobalOptions& g,
                                 const std::string& id,
                                 const CreateOptions& o,
                                 int console_fd) {
    std::string bundle = absolute(o.bundle);
    COVE_ASSIGN(spec::Spec s, spec::load_spec(bundle), "");
    COVE_TRY(spec::validate(s, bundle), "config.json");
    std::optional<security::SeccompProgram> seccomp;
    if (s.linux && s.linux->seccomp) {
        COVE_ASSIGN(seccomp, security::compile_seccomp(*s.linux->seccomp), "");
    }
    std::optional<security::CapabilitySets> caps;
    if (s.process->capabilities) {
        caps = security::resolve_capabilities(*s.process->capabilities);
        if (!caps->unknown.empty()) {
            log::warn(security::unknown_capabilities_warning(caps->unknown));
        }
    }
    COVE_ASSIGN(NsPlan nsp, plan_namespaces(s), "");
    COVE_ASSIGN(cgroups::Resources resources, plan_resources(s), "");

    // From here on, every step is undone if a later one fails.
    COVE_ASSIGN(StateDir dir, StateDir::create(g.root, id), "");
    ScopeExit remove_dir([&] { (void)dir.remove(); });
    std::optional<overlayfs::Options> overlay;
    if (o.overlay) {
        // delete finds the storage here; rollback of a failed create is the caller's.
        COVE_TRY(image_bundle::record_storage(dir.path(), o.overlay->storage), "");
        overlay = overlayfs::Options{};
        overlay->lowers = o.overlay->lowers;
        overlay->upper = o.overlay->upper;
        overlay->work = o.overlay->work;
        overlay->link_dir = o.overlay->link_dir;
        overlay->userxattr = nsp.new_userns || nsp.joined_userns;
    }

    cgroups::Config cgc;
    cgc.id = id;
    cgc.cgroups_path = s.linux ? s.linux->cgroups_path : "";
    cgc.systemd = g.systemd_cgroup;
    COVE_ASSIGN(auto cg, cgroups::make_manager(cgc), "cgroup");
    COVE_TRY(cg->create(), "cgroup");
    ScopeExit remove_cgroup([&] { (void)cg->destroy(); });
    COVE_TRY(cg->apply(resources), "cgroup");  // before the init joins: it starts limited

    // 0622 whatever the umask: the init may have switched to process.user before it opens
    // the fifo for writing (through /proc/self/fd, so the 0700 state dir is no obstacle).
    if (::mkfifo(dir.fifo_path().c_str(), 0622) != 0 ||
        ::chmod(dir.fifo_path().c_str(), 0622) != 0) {
        return sys_error("mkfifo " + dir.fifo_path());
    }
    UniqueFd fifo(::open(dir.fifo_path().c_str(), O_PATH | O_CLOEXEC));
    if (!fifo) {
        return sys_error("open " + dir.fifo_path());
    }
    UniqueFd console;
    if (!s.process->terminal && !o.console_socket.empty()) {
        return make_error("--console-socket given but process.terminal is false");
    }
    if (s.process->terminal && console_fd < 0) {
        if (o.console_socket.empty()) {
            return make_error("process.terminal is true but --console-socket is not given");
        }
        COVE_ASSIGN(console, tty::connect_console(o.console_socket), "");
        console_fd = console.get();
    }
    COVE_ASSIGN(sync::Pair sp, sync::make_pair(), "");
    COVE_ASSIGN(UniqueFd cgfd, cg->clone_fd(), "cgroup");

    InitArgs ia;
    ia.spec = &s;
    ia.rootfs = spec::resolve_rootfs(s, bundle);
    ia.overlay = overlay ? &*overlay : nullptr;
    ia.sync_fd = sp.child.get();
    ia.parent_sync_fd = sp.parent.get();
    ia.state_lock_fd = dir.lock_fd();
    ia.fifo_fd = fifo.get();
    ia.console_fd = s.process->terminal ? console_fd : -1;
    ia.no_pivot = o.no_pivot;
    ia.new_keyring = !o.no_new_keyring;
    ia.new_userns = nsp.new_userns;
    ia.joined_userns = nsp.joined_userns;
    ia.new_cgroupns = nsp.new_cgroupns;
    ia.new_timens = nsp.new_timens;
    ia.new_netns = (nsp.clone_flags & CLONE_NEWNET) != 0;
    ia.two_stage = nsp.two_stage;
    ia.late_flags = nsp.two_stage ? (nsp.clone_flags & ~static_cast<uint64_t>(CLONE_NEWUSER)) : 0;
    ia.preserve_fds = o.preserve_fds;
    ia.cgroup_paths = cg->paths();
    ia.seccomp = seccomp ? &*seccomp : nullptr;
    ia.caps = caps ? &*caps : nullptr;
    for (const auto& [fd, type] : nsp.joins) {
        ia.joins.emplace_back(fd.get(), type);
    }

    // Joining a pid namespace applies to children: set it for the clone, then restore.
    UniqueFd own_pidns;
    if (nsp.pid_join) {
        own_pidns.reset(::open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC));
        if (!own_pidns || ::setns(nsp.pid_join.get(), CLONE_NEWPID) != 0) {
            return sys_error("linux.namespaces: join pid namespace");
        }
    }
    auto child = ns::clone3(nsp.two_stage ? 0 : nsp.clone_flags, cgfd.get());
    if (child && child->pid == 0) {
        init_main(ia);
    }
    if (own_pidns && ::setns(own_pidns.get(), CLONE_NEWPID) != 0) {
        log::warn("restore pid namespace failed");
    }
    if (!child) {
        return std::move(child).error().wrap("start the container's init");
    }
    sp.child.reset();
    pid_t pid = child->pid;
    UniqueFd pidfd = std::move(child->pidfd);
    ScopeExit kill_child([&] {
        ::syscall(SYS_pidfd_send_signal, pidfd.get(), SIGKILL, nullptr, 0);
        ::waitpid(pid, nullptr, 0);
    });

    if (nsp.two_stage) {
        if (!cgfd) {
            COVE_TRY(cg->add_pid(pid), "cgroup");  // the init, forked later, inherits it
        }
        COVE_TRY(second_stage(sp.parent.get(), nsp.new_userns, *s.linux, pid, pidfd), "");
    } else if (nsp.new_userns) {
        COVE_TRY(write_id_maps(pid, *s.linux), "");
    }
    ContainerState st;
    st.id = id;
    st.pid = pid;
    st.start_time = process_start_time(pid);
    st.bundle = bundle;
    st.rootfs = ia.rootfs;
    st.created = now_rfc3339();
    st.owner = "";
    st.no_pivot = o.no_pivot;
    st.annotations = s.annotations;
    st.config = spec::to_json(s);
    st.cgroup = cg->to_json();
    log::debug("create " + id + ": init is pid " + std::to_string(pid) + ", bundle " + bundle);
    COVE_TRY(tell_child(sp.parent.get(), sync::Type::kGo, hook_state(st, "creating")), "");
    if (!cgfd && !nsp.two_stage) {
        // v1: the first write to cgroup.procs waits for an RCU grace period (~5 ms here); the
        // init does its mount work meanwhile and waits for kCgroup before anything that
        // must be accounted or confined (cgroup namespace, hooks, exec).
        COVE_TRY(cg->add_pid(pid), "cgroup");
    }
    // An init the OOM killer took (a memory limit too low to start in) closes the sync
    // socket without an error frame: say so, as runc does.
    auto oom_hint = [&](Status r) -> Status {
        auto n = r ? Result<uint64_t>(0) : cg->oom_kill_count();
        return n && *n > 0 ? make_error("container init was OOM-killed (memory limit too low?)")
                           : r;
    };
    COVE_TRY(oom_hint(tell_child(sp.parent.get(), sync::Type::kCgroup)), "");
    COVE_TRY(oom_hint(drive_child(sp.parent.get(), s, hook_state(st, "creating"))), "");
    COVE_TRY(dir.save(st), "");
    COVE_TRY(write_pid_file(o.pid_file, pid), "");
    kill_child.dismiss();
    remove_cgroup.dismiss();
    remove_dir.dismiss();
    return Created{std::move(dir), std::move(st), std::move(pidfd)};
}

}  // namespace cove

namespace cove {

Status create(const GlobalOptions& g, const std::string& id, const CreateOptions& o) {
    COVE_ASSIGN(Created c, create_container(g, id, o), "");
    return {};
}

}  // namespace cove
