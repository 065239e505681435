// Foreground waiting for `run` and `exec`: signals forwarded to the container's process,
// and, with a terminal but no --console-socket, the pty master proxied to our own stdio.
#pragma once

#include <sys/types.h>

#include <string>

#include "runtime/base/error.hpp"
#include "runtime/base/unique_fd.hpp"

namespace cove::tty {

// A socketpair standing in for --console-socket: the child sends the master on `child`.
struct ConsolePair {
    UniqueFd ours;
    UniqueFd child;
};
Result<ConsolePair> console_pair();
// Connects to the caller's --console-socket (a unix stream socket path).
Result<UniqueFd> connect_console(const std::string& path);

// Waits for the process behind pidfd (our child) to exit, forwarding signals to it; when
// master is valid, copies stdin -> master and master -> stdout, in raw mode if stdin is a
// terminal, and keeps the window size in sync. Returns the exit status as runc reports it
// (the code, or 128+signal).
Result<int> wait_foreground(pid_t pid, int pidfd, int master);

}  // namespace cove::tty
