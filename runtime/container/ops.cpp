// start, kill, delete, state, list, ps: the commands that act on an existing container.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroups/manager.hpp"
#include "runtime/base/fs.hpp"
#include "runtime/base/log.hpp"
#include "runtime/container/cgroup_ops.hpp"
#include "runtime/container/cove.hpp"
#include "runtime/container/create.hpp"
#include "runtime/container/hooks.hpp"
#include "runtime/container/image_bundle.hpp"
#include "runtime/spec/spec_json.hpp"

namespace cove {
namespace {

// A pidfd for the container's init, or an invalid fd when it is gone (pid reuse checked
// after opening, so the fd cannot point at another process).
UniqueFd open_init(const ContainerState& st) {
    UniqueFd fd(static_cast<int>(::syscall(SYS_pidfd_open, st.pid, 0)));
    if (fd && !process_alive(st.pid, st.start_time)) {
        fd.reset();
    }
    return fd;
}

bool wait_gone(int pidfd, int timeout_ms) {
    struct pollfd p = {pidfd, POLLIN, 0};
    int r;
    do {
        r = ::poll(&p, 1, timeout_ms);
    } while (r < 0 && errno == EINTR);
    return r > 0;
}

std::optional<spec::Spec> saved_spec(const ContainerState& st) {
    auto s = spec::parse_spec(st.config);
    if (!s) {
        return std::nullopt;
    }
    return std::move(s).value();
}

}  // namespace

Status destroy_container(const StateDir& dir, const ContainerState& st) {
    if (UniqueFd fd = open_init(st)) {
        ::syscall(SYS_pidfd_send_signal, fd.get(), SIGKILL, nullptr, 0);
        thaw_after_kill(st);
        wait_gone(fd.get(), 10000);
    }
    if (!st.cgroup.is_null()) {
        // Without a pid namespace, processes may outlive the init.
        (void)signal_cgroup(st, SIGKILL);
        if (auto cg = cgroups::load_manager(st.cgroup)) {
            COVE_TRY((*cg)->destroy(), "cgroup");
        }
    }
    if (auto s = saved_spec(st); s && s->hooks) {
        auto r = hooks::run_all("poststop", s->hooks->poststop, hook_state(st, "stopped"));
        if (!r) {
            log::warn(r.error().to_string());
        }
    }
    // The init is gone, and with it the mount namespace holding the image's overlay.
    COVE_TRY(image_bundle::remove_storage(dir.path()), "");
    COVE_TRY(dir.remove(), "");
    return {};
}

Status start(const GlobalOptions& g, const std::string& id) {
    COVE_ASSIGN(StateDir dir, StateDir::open(g.root, id), "");
    COVE_ASSIGN(ContainerState st, dir.load(), "");
    std::string status = live_status(dir, st);
    if (status != "created") {
        return make_error("cannot start a container that is " + status);
    }
    // The pidfd first: opening the fifo releases the init, which may exit at once.
    UniqueFd init = open_init(st);
    if (!init) {
        return make_error("cannot start a container that has stopped");
    }
    UniqueFd fifo(::open(dir.fifo_path().c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    if (!fifo) {
        return sys_error("open exec fifo");
    }
    // Wait for the init's write, or its death.
    struct pollfd p[2] = {{fifo.get(), POLLIN, 0}, {init.get(), POLLIN, 0}};
    for (;;) {
        int r = ::poll(p, 2, -1);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            return sys_error("wait for the container's init");
        }
        if ((p[0].revents & (POLLIN | POLLHUP)) != 0) {
            break;
        }
        if ((p[1].revents & POLLIN) != 0) {
            return make_error("container init exited before start");
        }
    }
    char c = 0;
    if (::read(fifo.get(), &c, 1) != 1) {
        return make_error("container init exited before start");
    }
    ::unlink(dir.fifo_path().c_str());
    log::debug("start " + id + ": pid " + std::to_string(st.pid) + " released");
    if (auto s = saved_spec(st); s && s->hooks) {
        auto r = hooks::run_all("poststart", s->hooks->poststart, hook_state(st, "running"));
        if (!r) {
            // runtime-spec: a failing poststart hook is logged; the container keeps running.
            log::warn(r.error().to_string());
        }
    }
    return {};
}

Status kill(const GlobalOptions& g, const std::string& id, int sig, bool all) {
    COVE_ASSIGN(StateDir dir, StateDir::open(g.root, id), "");
    COVE_ASSIGN(ContainerState st, dir.load(), "");
    if (all) {
        // runc: --all also reaches processes that outlived a stopped init.
        COVE_TRY(signal_cgroup(st, sig), "kill --all");
        return {};
    }
    std::string status = live_status(dir, st);
    if (status == "stopped") {
        return make_error("container not running");
    }
    UniqueFd init = open_init(st);
    if (!init || ::syscall(SYS_pidfd_send_signal, init.get(), sig, nullptr, 0) != 0) {
        return init ? sys_error("kill") : make_error("container not running");
    }
    if (status == "paused" && sig == SIGKILL) {
        thaw_after_kill(st);  // as runc: only SIGKILL thaws; other signals wait for resume
    }
    return {};
}

Status remove(const GlobalOptions& g, const std::string& id, bool force) {
    if (force && validate_id(id) && !fs::exists(g.root + "/" + id + "/state.json")) {
        // runc: --force on a missing container succeeds, clearing a create that never
        // finished (a dir without state.json).
        COVE_TRY(image_bundle::remove_storage(g.root + "/" + id), "");
        return fs::remove_all(g.root + "/" + id);
    }
    COVE_ASSIGN(StateDir dir, StateDir::open(g.root, id), "");
    COVE_ASSIGN(ContainerState st, dir.load(), "");
    std::string status = live_status(dir, st);
    if (status != "stopped" && status != "created" && !force) {
        return make_error("cannot delete container " + id + " that is not stopped: " + status);
    }
    return destroy_container(dir, st);
}

Result<nlohmann::ordered_json> state(const GlobalOptions& g, const std::string& id) {
    COVE_ASSIGN(StateDir dir, StateDir::open(g.root, id), "");
    COVE_ASSIGN(ContainerState st, dir.load(), "");
    return oci_state_json(st, live_status(dir, st));
}

Result<std::vector<nlohmann::ordered_json>> list(const GlobalOptions& g) {
    std::vector<nlohmann::ordered_json> out;
    for (const auto& id : StateDir::list(g.root)) {
        auto s = state(g, id);
        if (s) {
            out.push_back(std::move(s).value());
        }
    }
    return out;
}

Result<std::vector<pid_t>> pids(const GlobalOptions& g, const std::string& id) {
    COVE_ASSIGN(StateDir dir, StateDir::open(g.root, id), "");
    COVE_ASSIGN(ContainerState st, dir.load(), "");
    if (st.cgroup.is_null()) {
        return std::vector<pid_t>{};
    }
    COVE_ASSIGN(auto cg, cgroups::load_manager(st.cgroup), "cgroup");
    return cg->pids();
}

}  // namespace cove
