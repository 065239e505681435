// `run`: create, start, and (unless detached) wait in the foreground, then delete.
#include <sys/prctl.h>
#include <unistd.h>

#include "runtime/container/cove.hpp"
#include "runtime/container/create.hpp"
#include "runtime/container/sync.hpp"
#include "runtime/container/tty.hpp"

namespace cove {

Result<int> run(const GlobalOptions& g, const std::string& id, const RunOptions& o) {
    // In the foreground with a terminal and no socket of the caller's, we hold the master.
    // In a two-stage start the init is our grandchild: as a subreaper we still get to wait
    // for it once its parent has exited.
    if (!o.detach) {
        ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    }
    std::optional<tty::ConsolePair> console;
    bool own_console = !o.detach && o.create.console_socket.empty();
    if (own_console) {
        COVE_ASSIGN(console, tty::console_pair(), "");
    }
    COVE_ASSIGN(Created c,
                create_container(g, id, o.create, own_console ? console->child.get() : -1), "");
    UniqueFd master;
    if (own_console) {
        console->child.reset();
        if (c.state.config.contains("process") &&
            c.state.config["process"].value("terminal", false)) {
            COVE_ASSIGN(master, sync::recv_fd(console->ours.get()), "console");
        }
    }
    // start locks the state dir itself.
    std::string root = g.root;
    pid_t pid = c.state.pid;
    { StateDir released = std::move(c.dir); }
    auto started = start(g, id);
    if (!started) {
        if (auto d = StateDir::open(root, id)) {
            if (auto st = d->load()) {
                (void)destroy_container(*d, *st);
            }
        }
        return std::move(started).error();
    }
    if (o.detach) {
        return 0;
    }
    auto code = tty::wait_foreground(pid, c.pidfd.get(), master.get());
    if (!o.keep) {
        if (auto d = StateDir::open(root, id)) {
            if (auto st = d->load()) {
                (void)destroy_container(*d, *st);
            }
        }
    }
    return code;
}

}  // namespace cove
